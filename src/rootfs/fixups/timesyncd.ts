import type {Fixup, FixupResult} from './types.js'
import {type BeforeRewrite, reorderPackagedUnit, rewriteBefore} from './unit-order.js'
import {hasPackage, ResultBuilder} from './util.js'

export const TIMESYNCD_UNIT = 'usr/lib/systemd/system/systemd-timesyncd.service'

/**
 * keel's ordering for timesyncd, as for resolved: Debian orders it before sysinit.target, so every boot waits
 * for its start (≈ 1 s of ROOT's chain under emulation, the last link before sysinit.target). It stays before
 * time-set.target, the target units that need a plausible clock order after (timers with OnCalendar= do so
 * by themselves), and it still restores the saved clock as soon as it starts.
 */
const TIMESYNCD_ORDER: BeforeRewrite = {drop: ['sysinit.target'], require: ['time-set.target']}

export function timesyncdBesideTheBoot(unit: string): string | undefined {
  return rewriteBefore(unit, TIMESYNCD_ORDER)
}

export const timesyncdFixup: Fixup = {
  name: 'systemd-timesyncd',
  replaces: 'nothing in Debian: keel orders timesyncd beside the boot (before time-set.target, not sysinit.target)',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (hasPackage(ctx.packages, 'systemd-timesyncd')) reorderPackagedUnit(ctx, result, TIMESYNCD_UNIT, TIMESYNCD_ORDER, 'systemd-timesyncd')
    return result.result()
  },
}
