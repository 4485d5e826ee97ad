import {readFileSync} from 'node:fs'
import {posix} from 'node:path'
import type {RootTree} from '../tree.js'
import {type AccountDb, findGroup, formatAccounts, parseGroup, parsePasswd, type UserEntry} from './accounts-db.js'
import {applyPackageAccounts} from './package-accounts.js'
import {addRecipeGroup, addRecipeUser} from './recipe-accounts.js'
import {applySysusers, parseSysusers, type SysusersItem} from './sysusers.js'
import type {Fixup, FixupContext, FixupResult} from './types.js'
import {listTreeDir, readTreeText, resolveInTree, ResultBuilder} from './util.js'

const OWNER = 'keel:accounts'
/** Debian's fixed gid for 'shadow' (base-passwd), used if the group is somehow absent. */
const SHADOW_GID = 42

/** sysusers.d directories, highest priority first: a file name found earlier masks the same name later. */
const SYSUSERS_DIRS = ['etc/sysusers.d', 'run/sysusers.d', 'usr/local/lib/sysusers.d', 'usr/lib/sysusers.d']

/** Every sysusers.d item in the tree, files ordered by name as systemd-sysusers reads them. */
export function collectSysusers(tree: RootTree): SysusersItem[] {
  const chosen = new Map<string, string>()
  for (const dir of SYSUSERS_DIRS) {
    for (const name of listTreeDir(tree, dir)) {
      if (name.endsWith('.conf') && !chosen.has(name)) chosen.set(name, `${dir}/${name}`)
    }
  }
  const items: SysusersItem[] = []
  for (const name of [...chosen.keys()].sort()) {
    const path = chosen.get(name)!
    const text = readTreeText(tree, path)
    if (text !== undefined) items.push(...parseSysusers(text, `/${path}`))
  }
  return items
}

/** The starting database: /etc's files if a package shipped them, else base-passwd's masters (its postinst copies them). */
export function initialAccounts(tree: RootTree): AccountDb {
  const passwd = readTreeText(tree, 'etc/passwd') ?? readTreeText(tree, 'usr/share/base-passwd/passwd.master') ?? ''
  const group = readTreeText(tree, 'etc/group') ?? readTreeText(tree, 'usr/share/base-passwd/group.master') ?? ''
  return {users: parsePasswd(passwd, readTreeText(tree, 'etc/shadow')), groups: parseGroup(group, readTreeText(tree, 'etc/gshadow'))}
}

/** useradd -m: the home directory owned by the user, mode 0700, seeded from /etc/skel's regular files. */
function createHome(tree: RootTree, user: UserEntry, result: ResultBuilder): void {
  const home = resolveInTree(tree, user.home)
  if (tree.entries.has(home)) return
  tree.mkdirp(home, {mode: 0o700, uid: user.uid, gid: user.gid, owner: OWNER})
  result.wrote(home)
  const skel = resolveInTree(tree, 'etc/skel')
  for (const name of listTreeDir(tree, skel)) {
    const entry = tree.entries.get(`${skel}/${name}`)
    if (entry?.type !== 'file') continue
    const target = posix.join(home, name)
    tree.writeFile(target, readFileSync(tree.hostPath(entry.path)), {mode: entry.mode, uid: user.uid, gid: user.gid, owner: OWNER})
    result.wrote(target)
  }
}

async function runAccounts(ctx: FixupContext): Promise<FixupResult> {
  const {tree, recipe} = ctx
  const result = new ResultBuilder()
  const db = initialAccounts(tree)

  const sys = applySysusers(db, collectSysusers(tree))
  result.fact('usersCreated', ...sys.usersCreated)
  result.fact('groupsCreated', ...sys.groupsCreated)
  result.fact('membershipsAdded', ...sys.membershipsAdded)
  for (const note of sys.skipped) ctx.reporter.info(`sysusers: ${note}`)

  const pkg = applyPackageAccounts(db, new Set(ctx.packages.map((p) => p.name)))
  result.fact('usersCreated', ...pkg.users)
  result.fact('groupsCreated', ...pkg.groups)

  for (const group of recipe.groups) {
    if (!findGroup(db, group.name)) result.fact('groupsCreated', group.name)
    addRecipeGroup(db, group)
  }
  for (const spec of recipe.users) {
    const {user, createdGroup} = addRecipeUser(db, spec)
    result.fact('usersCreated', user.name)
    if (createdGroup) result.fact('groupsCreated', user.name)
    for (const g of spec.groups) result.fact('membershipsAdded', `${user.name}:${g}`)
    if (!spec.system && user.home !== '/' && user.home !== '/nonexistent') createHome(tree, user, result)
  }

  const files = formatAccounts(db, ctx.sourceDateEpoch)
  const shadowGid = findGroup(db, 'shadow')?.gid ?? SHADOW_GID
  tree.writeFile('etc/passwd', files.passwd, {mode: 0o644, owner: OWNER})
  tree.writeFile('etc/group', files.group, {mode: 0o644, owner: OWNER})
  tree.writeFile('etc/shadow', files.shadow, {mode: 0o640, gid: shadowGid, owner: OWNER})
  tree.writeFile('etc/gshadow', files.gshadow, {mode: 0o640, gid: shadowGid, owner: OWNER})
  result.wrote('etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow')
  // systemd-sysusers.service runs at boot while /usr is newer than /etc/.updated (ConditionNeedsUpdate=/etc),
  // and Debian ships no systemd-update-done to write it: every boot, 0.4-0.7 s under emulation. The accounts
  // above are sysusers' work done for this /usr, so /etc is stamped as current with it (mtime and the
  // nanoseconds systemd compares at equal seconds). A newer /usr from an update runs sysusers again.
  tree.writeFile(UPDATED_STAMP, `TIMESTAMP_NSEC=${BigInt(ctx.sourceDateEpoch) * 1_000_000_000n}\n`, {mode: 0o644, owner: OWNER})
  result.wrote(UPDATED_STAMP)
  return result.result()
}

/** systemd's "this /etc is up to date with /usr" stamp (systemd-update-done.service(8)). */
export const UPDATED_STAMP = 'etc/.updated'

export const accountsFixup: Fixup = {
  name: 'accounts',
  replaces: "base-passwd postinst, passwd postinst (shadowconfig on), dh_installsysusers snippets, adduser/addgroup calls in postinsts",
  run: runAccounts,
}
