import {readFileSync} from 'node:fs'
import type {FixupContext} from './types.js'
import type {ResultBuilder} from './util.js'

/**
 * keel's own orderings for packaged units: a dependency cannot be removed by a drop-in, so the unit's Before=
 * line is rewritten. `drop` leaves it, `add` joins it right after `addAfter`; the unit must list every target of
 * `drop` and `require`, or undefined is returned and the unit is left as shipped (a changed upstream unit is
 * then noticed, not silently reordered).
 */
export interface BeforeRewrite {
  drop: readonly string[]
  require: readonly string[]
  add?: {after: string; targets: readonly string[]}
}

export function rewriteBefore(unit: string, rule: BeforeRewrite): string | undefined {
  const line = /^Before=(.*)$/m.exec(unit)
  if (!line) return undefined
  const targets = line[1]!.split(/\s+/).filter(Boolean)
  if (![...rule.drop, ...rule.require, ...(rule.add ? [rule.add.after] : [])].every((t) => targets.includes(t))) return undefined
  const kept = targets.filter((t) => !rule.drop.includes(t))
  if (rule.add) kept.splice(kept.indexOf(rule.add.after) + 1, 0, ...rule.add.targets)
  return unit.replace(line[0], `Before=${kept.join(' ')}`)
}

/**
 * Rewrites the packaged unit at `unitPath` in the tree by `rule`, keeping its mode; records fact `ordering`:
 * 'beside the boot', or 'as shipped' (with a note) when the unit lacks the line the rule expects.
 */
export function reorderPackagedUnit(ctx: FixupContext, result: ResultBuilder, unitPath: string, rule: BeforeRewrite, owner: string): void {
  const entry = ctx.tree.get(unitPath)
  if (entry?.type !== 'file') return
  const reordered = rewriteBefore(readFileSync(ctx.tree.hostPath(unitPath), 'utf8'), rule)
  if (reordered === undefined) {
    ctx.reporter.info(`${owner}: ${unitPath} has no Before= line with ${[...rule.drop, ...rule.require].join(' ')}; its ordering is left as shipped`)
    result.fact('ordering', 'as shipped')
    return
  }
  ctx.tree.writeFile(unitPath, reordered, {mode: entry.mode, owner: `keel:${owner}`})
  result.wrote(unitPath)
  result.fact('ordering', 'beside the boot')
}
