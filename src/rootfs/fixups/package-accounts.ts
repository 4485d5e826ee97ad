import {
  type AccountDb,
  addGroup,
  addUser,
  allocateId,
  findGroup,
  findUser,
  gidTaken,
  LOGIN_DEFS_AGING,
  NOLOGIN,
  SYSTEM_ID_MAX,
  SYSTEM_ID_MIN,
  uidTaken,
} from './accounts-db.js'

/**
 * Accounts that Debian bookworm packages create in their postinst with adduser/addgroup rather than a
 * sysusers.d file. Each entry is read from the package's real postinst (see src/rootfs/README.md). Entries
 * run in this order, only when the package is in the image, and never replace an account that already
 * exists (dbus-system-bus-common also ships sysusers.d/dbus.conf, so sysusers normally made messagebus).
 * Ids follow adduser: system ids ascend from 100, first free.
 */
export interface PackageAccount {
  package: string
  /** The postinst command this stands for, verbatim enough to find it. */
  command: string
  user?: {name: string; home: string; shell: string; gecos: string; group: 'nogroup' | 'own'}
  group?: string
}

export const PACKAGE_ACCOUNTS: readonly PackageAccount[] = [
  {package: 'openssh-client', command: 'addgroup --system --quiet --force-badname _ssh', group: '_ssh'},
  {
    package: 'openssh-server',
    command: 'adduser --quiet --system --no-create-home --home /run/sshd --shell /usr/sbin/nologin sshd',
    user: {name: 'sshd', home: '/run/sshd', shell: NOLOGIN, gecos: '', group: 'nogroup'},
  },
  {package: 'udev', command: 'addgroup --quiet --system input', group: 'input'},
  {package: 'udev', command: 'addgroup --quiet --system sgx', group: 'sgx'},
  {package: 'udev', command: 'addgroup --quiet --system kvm', group: 'kvm'},
  {package: 'udev', command: 'addgroup --quiet --system render', group: 'render'},
  {
    package: 'dbus-system-bus-common',
    command: 'adduser --system --home /nonexistent --no-create-home --disabled-password --group messagebus',
    user: {name: 'messagebus', home: '/nonexistent', shell: NOLOGIN, gecos: '', group: 'own'},
  },
]

const NOGROUP_GID = 65534

/** Apply the registry entries for the packages present. Returns the names of accounts created. */
export function applyPackageAccounts(db: AccountDb, packageNames: ReadonlySet<string>): {users: string[]; groups: string[]} {
  const created = {users: [] as string[], groups: [] as string[]}
  for (const entry of PACKAGE_ACCOUNTS) {
    if (!packageNames.has(entry.package)) continue
    if (entry.group && !findGroup(db, entry.group)) {
      const gid = allocateId(SYSTEM_ID_MIN, SYSTEM_ID_MAX, 'ascending', (n) => !gidTaken(db, n), `group ${entry.group}`)
      addGroup(db, {name: entry.group, gid, members: [], shadowPassword: '!'})
      created.groups.push(entry.group)
    }
    const user = entry.user
    if (!user || findUser(db, user.name)) continue
    const uid = allocateId(SYSTEM_ID_MIN, SYSTEM_ID_MAX, 'ascending', (n) => !uidTaken(db, n), `user ${user.name}`)
    let gid = findGroup(db, 'nogroup')?.gid ?? NOGROUP_GID
    if (user.group === 'own') {
      const existing = findGroup(db, user.name)
      if (existing) gid = existing.gid
      else {
        gid = gidTaken(db, uid) ? allocateId(SYSTEM_ID_MIN, SYSTEM_ID_MAX, 'ascending', (n) => !gidTaken(db, n), `group ${user.name}`) : uid
        addGroup(db, {name: user.name, gid, members: [], shadowPassword: '!'})
        created.groups.push(user.name)
      }
    }
    addUser(db, {name: user.name, uid, gid, gecos: user.gecos, home: user.home, shell: user.shell, shadowPassword: '*', shadowAging: LOGIN_DEFS_AGING})
    created.users.push(user.name)
  }
  return created
}
