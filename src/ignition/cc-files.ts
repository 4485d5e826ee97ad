import {posix} from 'node:path'
import {decodeContent} from './content.js'
import type {TranslateContext} from './context.js'
import {updateConfText, UPDATE_CONF_PATH, REBOOT_MANAGER_UNIT} from './update-config.js'

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8')

/** Modes people write in decimal by mistake (0644 → 420): a 3-digit mode equal to one of these in decimal. */
const COMMON_MODES = [0o400, 0o440, 0o444, 0o600, 0o640, 0o644, 0o660, 0o664, 0o666, 0o700, 0o750, 0o755, 0o770, 0o775, 0o777]

const TMPFS_DIRS = ['/run', '/var/run', '/tmp']

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`)
}

/** write_files[]: always overwrite (cloud-config replaced files), default mode 0644, owner user[:.]group. */
export function translateWriteFiles(ctx: TranslateContext): void {
  const entries = ctx.get(['write_files'], 'array') ?? []
  entries.forEach((_entry, n) => {
    const at = ['write_files', n]
    if (!ctx.get(at, 'object')) return
    // Content first: an undecodable content is reported even when the entry has other problems.
    const bytes = fileBytes(ctx, at)
    const rawPath = ctx.get([...at, 'path'], 'string')
    if (!rawPath) {
      ctx.warn('write_files entry has no path; it is skipped (coreos-cloudinit failed on it at boot)', ctx.loc.key(at))
      return
    }
    let path = posix.normalize(rawPath)
    if (!path.startsWith('/')) {
      ctx.warn(`relative path ${rawPath} is taken from / (as coreos-cloudinit did)`, ctx.loc.value([...at, 'path']))
      path = posix.normalize(`/${path}`)
    }
    path = path.replace(/\/+$/, '') || '/'
    if (under(path, '/usr')) {
      ctx.error('file cannot be written to a read-only filesystem', ctx.loc.value([...at, 'path']))
      return
    }
    const tmpfs = TMPFS_DIRS.find((d) => under(path, d))
    if (tmpfs) {
      ctx.warn(`${path} is on a tmpfs (${tmpfs}): Ignition writes it before the real root is up, so it does not survive to the booted system; write it elsewhere or create it from a unit`, ctx.loc.value([...at, 'path']))
    }
    if (!bytes) return
    const mode = fileMode(ctx, at)
    const owner = ctx.get([...at, 'owner'], 'string')
    const ids = owner ? ownerOf(owner) : {}
    ctx.out.file(path, bytes, {mode, ...ids, where: ctx.loc.key(at)})
  })
}

function fileBytes(ctx: TranslateContext, at: (string | number)[]): Uint8Array | undefined {
  const encoding = ctx.get([...at, 'encoding'], 'string')
  const binary = ctx.get([...at, 'content'], 'bytes')
  const text = ctx.get([...at, 'content'], 'string')
  if (encoding !== undefined && !/^(base64|b64|gz|gzip|gz\+base64|gzip\+base64|gz\+b64|gzip\+b64)$/.test(encoding)) {
    ctx.error(`content cannot be decoded as "${encoding}"`, ctx.loc.value([...at, binary || text !== undefined ? 'content' : 'encoding']))
    return undefined
  }
  // Variables were substituted in the raw text upstream, so encoded (base64/gzip) content never had any.
  const raw = binary ?? utf8(text === undefined ? '' : encoding ? text : ctx.literalText(text, [...at, 'content'], 'write_files content'))
  const decoded = decodeContent(raw, encoding)
  if (!decoded.ok) {
    ctx.error(`content cannot be decoded as "${encoding}"`, ctx.loc.value([...at, 'content']))
    return undefined
  }
  return decoded.bytes
}

function fileMode(ctx: TranslateContext, at: (string | number)[]): number {
  const perms = ctx.get([...at, 'permissions'], 'string')
  if (perms === undefined || !/^0?[0-7]{3,4}$/.test(perms)) return 0o644
  const mode = parseInt(perms, 8)
  if (/^[1-9][0-9]{2}$/.test(perms) && COMMON_MODES.includes(Number(perms))) {
    const meant = `0${Number(perms).toString(8)}`
    ctx.warn(
      `permissions ${perms} are read as octal 0${perms} (as coreos-cloudinit did); if you meant decimal ${perms} (= ${meant}), write ${meant}`,
      ctx.loc.value([...at, 'permissions']),
    )
  }
  return mode
}

function ownerOf(owner: string): {user?: {name?: string; id?: number}; group?: {name?: string; id?: number}} {
  const m = /^([^:.]*)(?:[:.](.*))?$/.exec(owner.trim())!
  const who = (s: string | undefined) => (s ? (/^\d+$/.test(s) ? {id: Number(s)} : {name: s}) : undefined)
  const user = who(m[1])
  const group = who(m[2])
  return {...(user ? {user} : {}), ...(group ? {group} : {})}
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/

export function translateHostname(ctx: TranslateContext): string | undefined {
  const raw = ctx.get(['hostname'], 'string')
  if (raw === undefined || raw === '') return undefined
  const hostname = ctx.literalText(raw, ['hostname'], 'hostname')
  if (!HOSTNAME.test(hostname) || hostname.length > 253) {
    ctx.warn(`"${hostname}" is not a valid hostname (letters, digits, "-", dot-separated labels of at most 63)`, ctx.loc.value(['hostname']))
  }
  ctx.out.file('/etc/hostname', utf8(`${hostname}\n`), {where: ctx.loc.key(['hostname'])})
  return hostname
}

/** manage_etc_hosts: localhost → 127.0.0.1 <hostname> (upstream used the hostname at boot). */
export function translateEtcHosts(ctx: TranslateContext, hostname: string | undefined): void {
  const value = ctx.get(['manage_etc_hosts'], 'string')
  if (value !== 'localhost') return // anything else was reported as an invalid value
  if (!hostname) {
    ctx.warn('manage_etc_hosts: the hostname is not known at translate time, so /etc/hosts maps 127.0.0.1 to localhost only (set hostname: to name it)', ctx.loc.value(['manage_etc_hosts']))
  }
  ctx.out.file('/etc/hosts', utf8(`127.0.0.1 ${hostname ?? 'localhost'}\n`), {where: ctx.loc.key(['manage_etc_hosts'])})
}

/** coreos.oem → /etc/oem-release, in the format coreos-cloudinit wrote (only when an id is set). */
export function translateOem(ctx: TranslateContext): void {
  const field = (k: string) => ctx.get(['coreos', 'oem', k], 'string') ?? ''
  if (!ctx.get(['coreos', 'oem'], 'object')) return
  if (!field('id')) {
    ctx.warn('coreos.oem without an id is ignored (as coreos-cloudinit did)', ctx.loc.key(['coreos', 'oem']))
    return
  }
  const q = (s: string) => JSON.stringify(s)
  const text = `ID=${field('id')}\nVERSION_ID=${field('version_id')}\nNAME=${q(field('name'))}\nHOME_URL=${q(field('home_url'))}\nBUG_REPORT_URL=${q(field('bug_report_url'))}\n`
  ctx.out.file('/etc/oem-release', utf8(text), {where: ctx.loc.key(['coreos', 'oem'])})
}

/** coreos.update → the update configuration file; reboot-strategy off also masks the reboot manager. */
export function translateUpdate(ctx: TranslateContext): void {
  if (!ctx.get(['coreos', 'update'], 'object')) return
  const valid = (k: string, re?: RegExp) => {
    const v = ctx.get(['coreos', 'update', k], 'string')
    return v && (!re || re.test(v)) ? v : undefined
  }
  const settings = {
    rebootStrategy: valid('reboot_strategy', /^(etcd-lock|reboot|off)$/),
    group: valid('group'),
    server: valid('server'),
  }
  const text = updateConfText(settings)
  if (text) ctx.out.file(UPDATE_CONF_PATH, utf8(text), {where: ctx.loc.key(['coreos', 'update'])})
  if (settings.rebootStrategy === 'off') ctx.out.unit({name: REBOOT_MANAGER_UNIT, mask: true})
}
