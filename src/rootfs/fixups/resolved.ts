import type {Fixup, FixupResult} from './types.js'
import {type BeforeRewrite, reorderPackagedUnit, rewriteBefore} from './unit-order.js'
import {hasPackage, ResultBuilder} from './util.js'

/** systemd-resolved's postinst points /etc/resolv.conf at the stub resolver's file in /run. */
export const RESOLV_CONF_TARGET = '../run/systemd/resolve/stub-resolv.conf'
export const RESOLVED_UNIT = 'usr/lib/systemd/system/systemd-resolved.service'

/**
 * keel's ordering for resolved: it starts beside the boot instead of before sysinit.target and network.target.
 * Upstream orders it before both, so every boot waits for it — under emulation its start (sandbox set-up, trust
 * anchors, sockets) was the longest link of ROOT's chain: 2.3-2.8 s, and the Ignition marker came a median
 * 0.5-2 s sooner without it (interleaved boots). Name lookups keep their contract: resolved is still before
 * nss-lookup.target (what units that resolve names at start order after, per systemd.special(7)) and, added
 * here, before network-online.target, so units that wait for the network also find DNS there. A dependency
 * cannot be dropped by a drop-in, so the packaged unit's Before= line is rewritten; anything else is kept.
 * Returns undefined when the unit does not have the line this expects (then it is left as Debian ships it).
 */
const RESOLVED_ORDER: BeforeRewrite = {drop: ['sysinit.target', 'network.target'], require: ['nss-lookup.target'], add: {after: 'nss-lookup.target', targets: ['network-online.target']}}

export function resolvedBesideTheBoot(unit: string): string | undefined {
  return rewriteBefore(unit, RESOLVED_ORDER)
}

export const resolvedFixup: Fixup = {
  name: 'systemd-resolved',
  replaces: 'systemd-resolved postinst (ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf); keel: resolved ordered beside the boot',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'systemd-resolved')) return result.result()
    ctx.tree.symlink('etc/resolv.conf', RESOLV_CONF_TARGET, {owner: 'keel:systemd-resolved'})
    result.wrote('etc/resolv.conf')
    reorderPackagedUnit(ctx, result, RESOLVED_UNIT, RESOLVED_ORDER, 'systemd-resolved')
    return result.result()
  },
}
