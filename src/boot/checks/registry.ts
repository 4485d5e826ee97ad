import {KeelError} from '../../core/errors.js'
import {containerdCheck} from './containerd.js'
import {firstBootCheck} from './first-boot.js'
import {ignitionCheck} from './ignition.js'
import {rollbackCheck} from './rollback.js'
import {rootGrowthCheck} from './root-growth.js'
import {sshdCheck} from './sshd.js'
import {systemRunningCheck} from './system-running.js'
import {tamperCheck} from './tamper.js'
import type {Check} from './types.js'
import {verityUsrCheck} from './verity-usr.js'

/**
 * Every check `keel test` knows, in the order they run (shared-boot checks by id, then own-boot checks by
 * id). Adding a check: one file exporting a `Check`, one line here. ids and names must stay unique (the
 * registry test holds them to it); ids follow the issue's list, extras come after it.
 */
export const CHECKS: readonly Check[] = [
  ignitionCheck,
  verityUsrCheck,
  systemRunningCheck,
  containerdCheck,
  sshdCheck,
  firstBootCheck,
  rootGrowthCheck,
  tamperCheck,
  rollbackCheck,
]

/** Shared-boot checks first (they share one guest), each group by id. */
export function runOrder(checks: readonly Check[]): Check[] {
  const group = (c: Check) => (c.needs === 'shared-boot' ? 0 : 1)
  return [...checks].sort((a, b) => group(a) - group(b) || a.id - b.id)
}

/**
 * `--checks 1,3,containerd` → those checks, in run order; no spec → all of them. Each item is an id or a
 * name; an unknown one is a usage error that lists what exists.
 */
export function selectChecks(spec: string | undefined, table: readonly Check[] = CHECKS): Check[] {
  if (spec === undefined || spec.trim() === '') return runOrder(table)
  const chosen = new Set<Check>()
  const unknown: string[] = []
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const hit = /^\d+$/.test(item) ? table.find((c) => c.id === Number(item)) : table.find((c) => c.name === item)
    if (hit) chosen.add(hit)
    else unknown.push(item)
  }
  if (unknown.length) {
    throw new KeelError(`unknown check${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, 'usage', `known checks: ${runOrder(table).map((c) => `${c.id} ${c.name}`).join(', ')}`)
  }
  return runOrder([...chosen])
}
