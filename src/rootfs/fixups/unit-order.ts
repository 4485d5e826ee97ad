import {readFileSync} from 'node:fs'
import type {Fixup, FixupContext, FixupResult} from './types.js'
import {hasPackage, ResultBuilder} from './util.js'

/**
 * keel's own orderings for packaged units: a dependency cannot be removed by a drop-in, so the unit's Before=
 * line is rewritten. `drop` leaves it, `add` joins it right after `add.after`; the unit must list every target
 * of `drop` and `require` (and `add.after`), or it is left as shipped (a changed upstream unit is then
 * noticed, not silently reordered).
 */
export interface BeforeRewrite {
  drop: readonly string[]
  require: readonly string[]
  add?: {after: string; targets: readonly string[]}
}

export interface UnitReorder {
  /** The package that ships the unit; nothing happens without it. */
  package: string
  unit: string
  rule: BeforeRewrite
}

/**
 * Units Debian orders ahead of sysinit.target (directly or through the unit before it), so every boot waits for
 * them; under emulation they were the longest links of ROOT's chain. They start beside the boot instead, and keep
 * the orderings whose contract they serve.
 */
export const BESIDE_THE_BOOT: readonly UnitReorder[] = [
  // resolved: 2.3-2.8 s of the chain, the marker a median 0.5-2 s sooner without it. Still before
  // nss-lookup.target (what units that resolve names at start order after, systemd.special(7)) and, added, before
  // network-online.target, so units that wait for the network also find DNS there.
  {
    package: 'systemd-resolved',
    unit: 'usr/lib/systemd/system/systemd-resolved.service',
    rule: {drop: ['sysinit.target', 'network.target'], require: ['nss-lookup.target'], add: {after: 'nss-lookup.target', targets: ['network-online.target']}},
  },
  // timesyncd: ≈ 1 s, the last link before sysinit.target. Still before time-set.target, which units that need a
  // plausible clock order after (timers with OnCalendar= do so by themselves); it restores the saved clock on start.
  {package: 'systemd-timesyncd', unit: 'usr/lib/systemd/system/systemd-timesyncd.service', rule: {drop: ['sysinit.target'], require: ['time-set.target']}},
  // journal-flush: journald → flush → tmpfiles-setup → update-utmp → sysinit.target was ROOT's chain (≈ 3.7 s
  // under emulation). The flush is ordered before tmpfiles-setup only so that tmpfiles' journal lines (group,
  // the adm ACL) find /var/log/journal's files; on a first boot those files then get the ACL at the next boot
  // (tmpfiles runs every boot), journald gives them the systemd-journal group already. Still after journald and
  // systemd-remount-fs, with /var/log/journal mounted.
  {package: 'systemd', unit: 'usr/lib/systemd/system/systemd-journal-flush.service', rule: {drop: ['systemd-tmpfiles-setup.service'], require: []}},
  // update-utmp writes the boot record to wtmp; nothing in sysinit.target reads it. Still before shutdown.target
  // (it records the shutdown) and after tmpfiles-setup (which creates wtmp); update-utmp-runlevel orders after it.
  {package: 'systemd', unit: 'usr/lib/systemd/system/systemd-update-utmp.service', rule: {drop: ['sysinit.target'], require: ['shutdown.target']}},
]

/**
 * The unit text with its Before= line rewritten by `rule` (the line goes when nothing is left on it), or undefined
 * when the unit has not exactly one Before= line or that line is not as expected.
 */
export function rewriteBefore(unit: string, rule: BeforeRewrite): string | undefined {
  const lines = [...unit.matchAll(/^Before=(.*)$/gm)]
  if (lines.length !== 1) return undefined
  const line = lines[0]!
  const targets = line[1]!.split(/\s+/).filter(Boolean)
  if (![...rule.drop, ...rule.require, ...(rule.add ? [rule.add.after] : [])].every((t) => targets.includes(t))) return undefined
  const kept = targets.filter((t) => !rule.drop.includes(t))
  if (rule.add) kept.splice(kept.indexOf(rule.add.after) + 1, 0, ...rule.add.targets)
  return kept.length > 0 ? unit.replace(line[0], `Before=${kept.join(' ')}`) : unit.replace(`${line[0]}\n`, '')
}

export const unitOrderFixup: Fixup = {
  name: 'unit-order',
  replaces: 'nothing in Debian: keel starts systemd-resolved, systemd-timesyncd, the journal flush and the utmp boot record beside the boot',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    for (const entry of BESIDE_THE_BOOT) if (hasPackage(ctx.packages, entry.package)) reorder(ctx, result, entry)
    return result.result()
  },
}

/** Rewrites one packaged unit in the tree, keeping its mode; fact `ordering`: '<unit>: beside the boot' or '<unit>: as shipped'. */
function reorder(ctx: FixupContext, result: ResultBuilder, {unit, rule}: UnitReorder): void {
  const entry = ctx.tree.get(unit)
  if (entry?.type !== 'file') return
  const name = unit.slice(unit.lastIndexOf('/') + 1)
  const reordered = rewriteBefore(readFileSync(ctx.tree.hostPath(unit), 'utf8'), rule)
  if (reordered === undefined) {
    ctx.reporter.info(`unit-order: ${unit} has not exactly one Before= line, with ${[...rule.drop, ...rule.require].join(' ')}; its ordering is left as shipped`)
    result.fact('ordering', `${name}: as shipped`)
    return
  }
  ctx.tree.writeFile(unit, reordered, {mode: entry.mode, owner: 'keel:unit-order'})
  result.wrote(unit)
  result.fact('ordering', `${name}: beside the boot`)
}
