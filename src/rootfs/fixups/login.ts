import {KeelError} from '../../core/errors.js'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, readTreeText, ResultBuilder} from './util.js'

/**
 * login's postinst creates /var/log/faillog, /etc/subuid and /etc/subgid (0644, empty). Because those exist
 * before any administrator account is added, useradd then gives each normal user a subordinate id range
 * (login.defs: SUB_UID_MIN 100000, SUB_UID_COUNT 65536) — which rootless containers need. keel adds the
 * recipe's normal users the same way, in recipe order, each range after the highest one already listed.
 */
export const SUB_ID_MIN = 100000
export const SUB_ID_COUNT = 65536

/** Append `name:start:count` lines for users not yet listed. Pure. */
export function addSubordinateRanges(text: string, users: string[]): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const listed = new Set<string>()
  let next = SUB_ID_MIN
  for (const line of lines) {
    const [name, start, count] = line.split(':')
    if (!/^\d+$/.test(start ?? '') || !/^\d+$/.test(count ?? '')) throw new KeelError(`bad subordinate id line '${line}'`, 'input')
    listed.add(name!)
    next = Math.max(next, Number(start) + Number(count))
  }
  for (const user of users) {
    if (listed.has(user)) continue
    lines.push(`${user}:${next}:${SUB_ID_COUNT}`)
    next += SUB_ID_COUNT
  }
  return lines.map((l) => `${l}\n`).join('')
}

export const loginFixup: Fixup = {
  name: 'login',
  replaces: 'login postinst (faillog, subuid, subgid) and useradd\'s subordinate ids for the recipe\'s users',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'login')) return result.result()
    if (!tree.get('var/log/faillog')) {
      tree.writeFile('var/log/faillog', '', {mode: 0o644, owner: 'keel:login'})
      result.wrote('var/log/faillog')
    }
    const normalUsers = ctx.recipe.users.filter((u) => !u.system).map((u) => u.name)
    for (const file of ['etc/subuid', 'etc/subgid']) {
      const existing = readTreeText(tree, file)
      const text = addSubordinateRanges(existing ?? '', normalUsers)
      if (existing === text && tree.get(file)) continue
      tree.writeFile(file, text, {mode: 0o644, owner: 'keel:login'})
      result.wrote(file)
    }
    result.fact('subordinateIds', ...normalUsers)
    return result.result()
  },
}
