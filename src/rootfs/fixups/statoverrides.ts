import {KeelError} from '../../core/errors.js'
import {parseGroup} from './accounts-db.js'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, readTreeText, resolveInTree, ResultBuilder} from './util.js'

/**
 * Modes and owners bookworm postinsts set after unpacking: dpkg-statoverride calls (the group is allocated
 * on the target system), plain chmods, and setcap fallbacks. Runs after accounts (the groups must exist); keel
 * records the result in the manifest only (it never chowns).
 */
export interface StatOverride {
  package: string
  path: string
  user: string
  group: string
  mode: number
}

export const STAT_OVERRIDES: readonly StatOverride[] = [
  {package: 'dbus-daemon', path: '/usr/lib/dbus-1.0/dbus-daemon-launch-helper', user: 'root', group: 'messagebus', mode: 0o4754},
  {package: 'dbus', path: '/usr/lib/dbus-1.0/dbus-daemon-launch-helper', user: 'root', group: 'messagebus', mode: 0o4754},
  {package: 'openssh-client', path: '/usr/bin/ssh-agent', user: 'root', group: '_ssh', mode: 0o2755},
  // sudo ships /etc/sudoers 0644 and its postinst chmods it to 0440.
  {package: 'sudo', path: '/etc/sudoers', user: 'root', group: 'root', mode: 0o440},
  // iputils-arping's postinst tries `setcap cap_net_raw+ep` and falls back to setuid root. The manifest and
  // tar writer carry no file capabilities (xattrs), so keel takes the fallback, as the postinst would.
  {package: 'iputils-arping', path: '/usr/bin/arping', user: 'root', group: 'root', mode: 0o4755},
  {package: 'iputils-ping', path: '/bin/ping', user: 'root', group: 'root', mode: 0o4755},
]

export const statOverridesFixup: Fixup = {
  name: 'stat-overrides',
  replaces: 'dpkg-statoverride in dbus and openssh-client postinsts, chmod in sudo\'s, setcap fallback in iputils\'',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    const groups = parseGroup(readTreeText(tree, 'etc/group') ?? '')
    const users = (readTreeText(tree, 'etc/passwd') ?? '').split('\n').map((l) => l.split(':'))
    for (const o of STAT_OVERRIDES) {
      if (!hasPackage(ctx.packages, o.package)) continue
      const path = resolveInTree(tree, o.path)
      const entry = tree.entries.get(path)
      if (entry?.type !== 'file') continue
      const gid = groups.find((g) => g.name === o.group)?.gid
      const uidText = users.find((f) => f[0] === o.user)?.[2]
      if (gid === undefined || uidText === undefined) throw new KeelError(`stat override for /${path} needs ${o.user}:${o.group}, which the image lacks`, 'internal')
      tree.record({...entry, mode: o.mode, uid: Number(uidText), gid, owner: entry.owner})
      result.wrote(path)
      result.fact('overridden', `/${path} ${o.user}:${o.group} ${o.mode.toString(8)}`)
    }
    return result.result()
  },
}
