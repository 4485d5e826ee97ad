import {KeelError} from '../../core/errors.js'

/**
 * The image's account database as plain data, and the pure operations on it: parse/format the four files,
 * add users and groups with deterministic id allocation. No I/O; accounts.ts is the adapter.
 */
export interface UserEntry {
  name: string
  uid: number
  gid: number
  gecos: string
  home: string
  shell: string
  /** The password field of /etc/shadow: '*' or '!' style locks only; keel never writes a hash. */
  shadowPassword: string
  /** shadow fields after lastchg (min:max:warn:inactive:expire:reserved), as pwconv/sysusers would write them. */
  shadowAging: string
}

export interface GroupEntry {
  name: string
  gid: number
  members: string[]
  shadowPassword: string
}

export interface AccountDb {
  users: UserEntry[]
  groups: GroupEntry[]
}

/** pwconv/useradd defaults from Debian's login.defs: PASS_MIN_DAYS 0, PASS_MAX_DAYS 99999, PASS_WARN_AGE 7. */
export const LOGIN_DEFS_AGING = '0:99999:7:::'
/** systemd-sysusers leaves every aging field empty. */
export const SYSUSERS_AGING = ':::::'

export const SYSTEM_ID_MIN = 100
export const SYSTEM_ID_MAX = 999
export const NORMAL_ID_MIN = 1000
export const NORMAL_ID_MAX = 59999
export const NOLOGIN = '/usr/sbin/nologin'

function splitLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))
}

function parseId(text: string | undefined, file: string, line: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new KeelError(`${file}: bad numeric id in line '${line}'`, 'input')
  return Number(text)
}

/**
 * Parse passwd (and optionally shadow) text. passwd fields other than 'x' in the password column become the
 * shadow password, as pwconv moves them (base-passwd's masters carry '*').
 */
export function parsePasswd(passwd: string, shadow?: string): UserEntry[] {
  const shadowByName = new Map<string, string[]>()
  for (const line of splitLines(shadow ?? '')) {
    const f = line.split(':')
    shadowByName.set(f[0]!, f)
  }
  return splitLines(passwd).map((line) => {
    const f = line.split(':')
    if (f.length !== 7) throw new KeelError(`passwd: expected 7 fields in '${line}'`, 'input')
    const s = shadowByName.get(f[0]!)
    return {
      name: f[0]!,
      uid: parseId(f[2], 'passwd', line),
      gid: parseId(f[3], 'passwd', line),
      gecos: f[4]!,
      home: f[5]!,
      shell: f[6]!,
      shadowPassword: s ? s[1]! : f[1] === 'x' ? '*' : f[1]!,
      shadowAging: s ? s.slice(3).join(':') : LOGIN_DEFS_AGING,
    }
  })
}

export function parseGroup(group: string, gshadow?: string): GroupEntry[] {
  const shadowByName = new Map<string, string[]>()
  for (const line of splitLines(gshadow ?? '')) {
    const f = line.split(':')
    shadowByName.set(f[0]!, f)
  }
  return splitLines(group).map((line) => {
    const f = line.split(':')
    if (f.length !== 4) throw new KeelError(`group: expected 4 fields in '${line}'`, 'input')
    const s = shadowByName.get(f[0]!)
    return {
      name: f[0]!,
      gid: parseId(f[2], 'group', line),
      members: f[3] ? f[3].split(',') : [],
      shadowPassword: s ? s[1]! : f[1] === 'x' ? '*' : f[1]!,
    }
  })
}

/** Days since the epoch, shadow's unit for lastchg. */
export function epochDays(sourceDateEpoch: number): number {
  return Math.floor(sourceDateEpoch / 86400)
}

export interface AccountFiles {
  passwd: string
  group: string
  shadow: string
  gshadow: string
}

/** The four files, in database order (the order entries were added), each line newline-terminated. */
export function formatAccounts(db: AccountDb, sourceDateEpoch: number): AccountFiles {
  const days = epochDays(sourceDateEpoch)
  const lines = (rows: string[]): string => rows.map((r) => `${r}\n`).join('')
  return {
    passwd: lines(db.users.map((u) => [u.name, 'x', u.uid, u.gid, u.gecos, u.home, u.shell].join(':'))),
    shadow: lines(db.users.map((u) => `${u.name}:${u.shadowPassword}:${days}:${u.shadowAging}`)),
    group: lines(db.groups.map((g) => [g.name, 'x', g.gid, g.members.join(',')].join(':'))),
    gshadow: lines(db.groups.map((g) => `${g.name}:${g.shadowPassword}::${g.members.join(',')}`)),
  }
}

export function findUser(db: AccountDb, name: string): UserEntry | undefined {
  return db.users.find((u) => u.name === name)
}

export function findGroup(db: AccountDb, name: string): GroupEntry | undefined {
  return db.groups.find((g) => g.name === name)
}

export function uidTaken(db: AccountDb, uid: number): boolean {
  return db.users.some((u) => u.uid === uid)
}

export function gidTaken(db: AccountDb, gid: number): boolean {
  return db.groups.some((g) => g.gid === gid)
}

export type AllocationOrder = 'descending' | 'ascending'

/**
 * The first id in [min, max] (walked in `order`) that `isFree` accepts. systemd-sysusers walks down from
 * the top of the system range, adduser and useradd walk up from the bottom; keel copies each where it
 * stands in for it, so ids match what the real tool would have picked given the same database.
 */
export function allocateId(min: number, max: number, order: AllocationOrder, isFree: (id: number) => boolean, what: string): number {
  if (order === 'descending') {
    for (let id = max; id >= min; id--) if (isFree(id)) return id
  } else {
    for (let id = min; id <= max; id++) if (isFree(id)) return id
  }
  throw new KeelError(`no free id left in ${min}-${max} for ${what}`, 'conflict')
}

export function addGroup(db: AccountDb, group: GroupEntry): GroupEntry {
  if (findGroup(db, group.name)) throw new KeelError(`group ${group.name} already exists`, 'conflict')
  db.groups.push(group)
  return group
}

export function addUser(db: AccountDb, user: UserEntry): UserEntry {
  if (findUser(db, user.name)) throw new KeelError(`user ${user.name} already exists`, 'conflict')
  db.users.push(user)
  return user
}

/** Add `user` to a group's member list (idempotent, keeps the list's order of addition). */
export function addMember(db: AccountDb, groupName: string, user: string): boolean {
  const group = findGroup(db, groupName)
  if (!group) return false
  if (!group.members.includes(user)) group.members.push(user)
  return true
}
