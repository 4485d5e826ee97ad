import {KeelError} from '../../core/errors.js'
import {
  type AccountDb,
  addGroup,
  addMember,
  addUser,
  allocateId,
  findGroup,
  findUser,
  gidTaken,
  NOLOGIN,
  SYSTEM_ID_MAX,
  SYSTEM_ID_MIN,
  SYSUSERS_AGING,
  uidTaken,
} from './accounts-db.js'

/**
 * The subset of sysusers.d(5) Debian's packages use, implemented natively so the result depends on the
 * image's files only, not on the host's systemd version, and so shadow's lastchg can come from
 * SOURCE_DATE_EPOCH (systemd 252's sysusers writes today's date). Supported: u, g, m lines; '-' for unset
 * fields; numeric ids, "uid:gid" and "uid:groupname". Ignored (reported): r lines (keel's ranges are
 * fixed), ids given as a file path, specifiers. Allocation follows systemd-sysusers: g lines first, then
 * each u line (its same-named group, then the user), then memberships; free ids are searched downwards from 999 and a user takes its group's number when
 * free, so uid == gid where possible.
 */
export interface SysusersItem {
  type: 'u' | 'g' | 'm' | 'r'
  name: string
  /** Raw id field ('-' when unset). For m lines: the group name. */
  id: string
  gecos?: string
  home?: string
  shell?: string
  /** file:line, for messages */
  origin: string
}

/** Split a sysusers.d line into fields, honouring "double" and 'single' quotes. */
export function splitSysusersFields(line: string): string[] {
  const fields: string[] = []
  let current = ''
  let inField = false
  let quote: string | undefined
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined
      else current += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      inField = true
    } else if (ch === ' ' || ch === '\t') {
      if (inField) fields.push(current)
      current = ''
      inField = false
    } else {
      current += ch
      inField = true
    }
  }
  if (quote) throw new KeelError(`unterminated quote in sysusers line: ${line}`, 'input')
  if (inField) fields.push(current)
  return fields
}

const unset = (v: string | undefined): string | undefined => (v === undefined || v === '-' ? undefined : v)

export function parseSysusers(text: string, file: string): SysusersItem[] {
  const items: SysusersItem[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const origin = `${file}:${index + 1}`
    const [type, name, id, gecos, home, shell] = splitSysusersFields(line)
    const kind = type?.replace(/!$/, '')
    if (kind !== 'u' && kind !== 'g' && kind !== 'm' && kind !== 'r') throw new KeelError(`${origin}: unknown sysusers line type '${type}'`, 'input')
    if (!name) throw new KeelError(`${origin}: missing name`, 'input')
    items.push({type: kind, name, id: id ?? '-', gecos: unset(gecos), home: unset(home), shell: unset(shell), origin})
  })
  return items
}

/** What applying sysusers items changed, for the build manifest; `skipped` says what keel ignored and why. */
export interface SysusersOutcome {
  groupsCreated: string[]
  usersCreated: string[]
  membershipsAdded: string[]
  skipped: string[]
}

function numeric(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined
}

/** The uid part and group part of a u line's id field. */
function splitUserId(id: string): {uid?: number; gid?: number; groupName?: string; pathId: boolean} {
  if (id === '-') return {pathId: false}
  if (id.startsWith('/')) return {pathId: true}
  const [u, g] = id.split(':')
  const gid = numeric(g)
  return {uid: numeric(u), gid, groupName: g !== undefined && gid === undefined ? g : undefined, pathId: false}
}

export function applySysusers(db: AccountDb, items: SysusersItem[]): SysusersOutcome {
  const out: SysusersOutcome = {groupsCreated: [], usersCreated: [], membershipsAdded: [], skipped: []}
  // A number is free for a new group when no group has it and no *other* name's user has it as uid, so a
  // later user/group pair can share the number.
  const freeForGroup = (name: string) => (n: number) => !gidTaken(db, n) && !db.users.some((u) => u.uid === n && u.name !== name)
  const freeForUser = (name: string) => (n: number) => !uidTaken(db, n) && !db.groups.some((g) => g.gid === n && g.name !== name)

  const ensureGroup = (name: string, wanted: number | undefined, origin: string): void => {
    if (findGroup(db, name)) return
    const gid = wanted !== undefined && !gidTaken(db, wanted) ? wanted : allocateId(SYSTEM_ID_MIN, SYSTEM_ID_MAX, 'descending', freeForGroup(name), `group ${name} (${origin})`)
    addGroup(db, {name, gid, members: [], shadowPassword: '!*'})
    out.groupsCreated.push(name)
  }

  for (const item of items) {
    if (item.type === 'r') out.skipped.push(`${item.origin}: r line (keel allocates in its fixed range)`)
    if (item.type !== 'g') continue
    if (item.id.startsWith('/')) out.skipped.push(`${item.origin}: gid from a file path is not supported; allocated instead`)
    ensureGroup(item.name, numeric(item.id), item.origin)
  }

  for (const item of items) {
    if (item.type !== 'u' || findUser(db, item.name)) continue
    const id = splitUserId(item.id)
    if (id.pathId) out.skipped.push(`${item.origin}: uid from a file path is not supported; allocated instead`)
    // "uid:gid" and "uid:group" name an existing group; only a bare or numeric id makes a same-named group.
    if (id.groupName === undefined && id.gid === undefined) ensureGroup(item.name, id.uid, item.origin)
    const group = id.groupName !== undefined ? findGroup(db, id.groupName) : id.gid !== undefined ? db.groups.find((g) => g.gid === id.gid) : findGroup(db, item.name)
    const gid = group?.gid ?? id.gid
    if (gid === undefined) throw new KeelError(`${item.origin}: group ${id.groupName ?? item.name} of user ${item.name} does not exist`, 'input')
    let uid: number
    if (id.uid !== undefined && !uidTaken(db, id.uid)) uid = id.uid
    else if (id.uid === undefined && freeForUser(item.name)(gid) && gid >= SYSTEM_ID_MIN && gid <= SYSTEM_ID_MAX) uid = gid
    else uid = allocateId(SYSTEM_ID_MIN, SYSTEM_ID_MAX, 'descending', freeForUser(item.name), `user ${item.name} (${item.origin})`)
    addUser(db, {
      name: item.name,
      uid,
      gid,
      gecos: item.gecos ?? '',
      home: item.home ?? '/',
      shell: item.shell ?? (uid === 0 ? '/bin/sh' : NOLOGIN),
      shadowPassword: '!*',
      shadowAging: SYSUSERS_AGING,
    })
    out.usersCreated.push(item.name)
  }

  for (const item of items) {
    if (item.type !== 'm') continue
    if (!findUser(db, item.name) && !findGroup(db, item.name)) {
      out.skipped.push(`${item.origin}: m line for unknown user ${item.name}`)
      continue
    }
    const group = findGroup(db, item.id)
    if (!group) {
      out.skipped.push(`${item.origin}: m line for unknown group ${item.id}`)
      continue
    }
    if (!group.members.includes(item.name)) {
      addMember(db, item.id, item.name)
      out.membershipsAdded.push(`${item.name}:${item.id}`)
    }
  }
  return out
}
