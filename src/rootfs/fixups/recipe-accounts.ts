import {KeelError} from '../../core/errors.js'
import type {GroupSpec, UserSpec} from '../../recipe/types.js'
import {
  type AccountDb,
  addGroup,
  addMember,
  addUser,
  allocateId,
  findGroup,
  findUser,
  gidTaken,
  LOGIN_DEFS_AGING,
  NOLOGIN,
  NORMAL_ID_MAX,
  NORMAL_ID_MIN,
  SYSTEM_ID_MAX,
  SYSTEM_ID_MIN,
  uidTaken,
  type UserEntry,
} from './accounts-db.js'

/**
 * The recipe's groups and users, added after every package account so a recipe can put its users in
 * package groups (sudo, docker, systemd-journal). Ids not given are allocated upwards from the bottom of the
 * range, as addgroup/adduser do: 100-999 for system accounts, 1000-59999 otherwise. Passwords are locked
 * ('!'): login is by SSH key, which Ignition provisions.
 */
export const DEFAULT_USER_SHELL = '/bin/bash'

function range(system: boolean): [number, number] {
  return system ? [SYSTEM_ID_MIN, SYSTEM_ID_MAX] : [NORMAL_ID_MIN, NORMAL_ID_MAX]
}

export function addRecipeGroup(db: AccountDb, spec: GroupSpec): void {
  const existing = findGroup(db, spec.name)
  if (existing) {
    if (spec.gid !== undefined && existing.gid !== spec.gid) throw new KeelError(`recipe group ${spec.name} wants gid ${spec.gid} but the image already has it with gid ${existing.gid}`, 'conflict')
    return
  }
  if (spec.gid !== undefined && gidTaken(db, spec.gid)) throw new KeelError(`recipe group ${spec.name}: gid ${spec.gid} is already used by group ${db.groups.find((g) => g.gid === spec.gid)!.name}`, 'conflict')
  const [min, max] = range(spec.system)
  const gid = spec.gid ?? allocateId(min, max, 'ascending', (n) => !gidTaken(db, n), `group ${spec.name}`)
  addGroup(db, {name: spec.name, gid, members: [], shadowPassword: '!'})
}

/** Adds the user (and its user-private group when needed); returns the entry so the caller can make its home. */
export function addRecipeUser(db: AccountDb, spec: UserSpec): {user: UserEntry; createdGroup: boolean} {
  if (findUser(db, spec.name)) throw new KeelError(`recipe user ${spec.name} already exists in the image (a package or base-passwd made it)`, 'conflict')
  if (spec.uid !== undefined && uidTaken(db, spec.uid)) throw new KeelError(`recipe user ${spec.name}: uid ${spec.uid} is already used by ${db.users.find((u) => u.uid === spec.uid)!.name}`, 'conflict')
  const missing = spec.groups.filter((g) => !findGroup(db, g))
  if (missing.length > 0) {
    throw new KeelError(`recipe user ${spec.name}: supplementary group(s) ${missing.join(', ')} do not exist in the image`, 'input', 'declare them under groups: or add the package that creates them')
  }
  const [min, max] = range(spec.system)
  const uid = spec.uid ?? allocateId(min, max, 'ascending', (n) => !uidTaken(db, n), `user ${spec.name}`)
  let gid: number
  let createdGroup = false
  if (spec.gid !== undefined) {
    gid = spec.gid
    if (!gidTaken(db, gid)) {
      addGroup(db, {name: spec.name, gid, members: [], shadowPassword: '!'})
      createdGroup = true
    }
  } else {
    const own = findGroup(db, spec.name)
    if (own) gid = own.gid
    else {
      gid = gidTaken(db, uid) ? allocateId(min, max, 'ascending', (n) => !gidTaken(db, n), `group ${spec.name}`) : uid
      addGroup(db, {name: spec.name, gid, members: [], shadowPassword: '!'})
      createdGroup = true
    }
  }
  const user = addUser(db, {
    name: spec.name,
    uid,
    gid,
    gecos: spec.gecos ?? '',
    home: spec.home ?? (spec.system ? '/nonexistent' : `/home/${spec.name}`),
    shell: spec.shell ?? (spec.system ? NOLOGIN : DEFAULT_USER_SHELL),
    shadowPassword: '!',
    shadowAging: LOGIN_DEFS_AGING,
  })
  for (const g of spec.groups) addMember(db, g, spec.name)
  return {user, createdGroup}
}
