import type {IgnitionUser} from './builder.js'
import type {TranslateContext} from './context.js'

/** The user that top-level ssh_authorized_keys belong to. */
export const DEFAULT_USER = 'core'

const IMPORTS = ['coreos_ssh_import_github', 'coreos_ssh_import_github_users', 'coreos_ssh_import_url'] as const

function keys(ctx: TranslateContext, path: (string | number)[]): string[] {
  const list = ctx.get(path, 'array') ?? []
  const out: string[] = []
  list.forEach((k, n) => {
    if (typeof k === 'string' && k.trim()) out.push(ctx.literalText(k, [...path, n], 'an SSH key'))
  })
  return out
}

/** users[] → passwd.users; the password hash is copied verbatim (a `$` in it is never a variable). */
export function translateUsers(ctx: TranslateContext): void {
  const users = ctx.get(['users'], 'array') ?? []
  users.forEach((_u, n) => {
    const at = ['users', n]
    if (!ctx.get(at, 'object')) return
    const name = ctx.get([...at, 'name'], 'string')
    if (!name) {
      ctx.warn('user has no name; the entry is skipped (as coreos-cloudinit did)', ctx.loc.key(at))
      return
    }
    const str = (k: string) => ctx.get([...at, k], 'string') || undefined
    const bool = (k: string) => (ctx.get([...at, k], 'boolean') === true ? true : undefined)
    const sshKeys = keys(ctx, [...at, 'ssh_authorized_keys'])
    const groups = (ctx.get([...at, 'groups'], 'array') ?? []).filter((g): g is string => typeof g === 'string' && g !== '')
    const user: IgnitionUser = {
      name,
      passwordHash: str('passwd'),
      sshAuthorizedKeys: sshKeys.length ? sshKeys : undefined,
      gecos: str('gecos'),
      homeDir: str('homedir'),
      noCreateHome: bool('no_create_home'),
      primaryGroup: str('primary_group'),
      groups: groups.length ? groups : undefined,
      noUserGroup: bool('no_user_group'),
      system: bool('system'),
      noLogInit: bool('no_log_init'),
      shell: str('shell'),
    }
    ctx.out.user(dropUndefined(user))
    for (const k of IMPORTS) {
      if (ctx.get([...at, k], 'string') || ctx.get([...at, k], 'array')?.length) {
        ctx.warn(
          `${ctx.loc.spelling([...at, k])} cannot be carried over: it fetched keys over the network at every boot, and Ignition has no equivalent; list the keys in ssh_authorized_keys`,
          ctx.loc.key([...at, k]),
        )
      }
    }
  })
  const topLevel = keys(ctx, ['ssh_authorized_keys'])
  if (topLevel.length) ctx.out.user({name: DEFAULT_USER, sshAuthorizedKeys: topLevel})
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
