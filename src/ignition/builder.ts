import type {Location} from '../core/source.js'
import {type Diagnostic, warning} from '../core/diagnostics.js'
import {toDataUrl} from './content.js'

/** The parts of an Ignition 3.x config the translator produces (valid in every spec 3.0.0 … 3.4.0-experimental). */
export interface IgnitionFile {
  path: string
  overwrite: boolean
  mode: number
  contents: {source: string; compression?: 'gzip'}
  user?: {name?: string; id?: number}
  group?: {name?: string; id?: number}
}

export interface IgnitionLink {
  path: string
  target: string
  overwrite: boolean
  hard: boolean
}

export interface IgnitionUnit {
  name: string
  enabled?: boolean
  mask?: boolean
  contents?: string
  dropins?: Array<{name: string; contents: string}>
}

export interface IgnitionUser {
  name: string
  passwordHash?: string
  sshAuthorizedKeys?: string[]
  gecos?: string
  homeDir?: string
  noCreateHome?: boolean
  primaryGroup?: string
  groups?: string[]
  noUserGroup?: boolean
  system?: boolean
  noLogInit?: boolean
  shell?: string
}

export interface IgnitionConfig {
  ignition: {version: string}
  passwd?: {users: IgnitionUser[]}
  storage?: {files?: IgnitionFile[]; links?: IgnitionLink[]}
  systemd?: {units: IgnitionUnit[]}
}

interface Origin {
  where?: Location
}

/**
 * Collects what the translation produces. Ignition rejects two entries for one path or unit name, while
 * cloud-config simply applied them in order: here the later entry wins (files) or merges (units, users),
 * and the user is told.
 */
export class IgnitionBuilder {
  private readonly files = new Map<string, IgnitionFile & Origin>()
  private readonly links = new Map<string, IgnitionLink>()
  private readonly units = new Map<string, IgnitionUnit & Origin>()
  private readonly users = new Map<string, IgnitionUser>()

  constructor(private readonly diagnostics: Diagnostic[]) {}

  file(path: string, bytes: Uint8Array, opts: {mode?: number; user?: IgnitionFile['user']; group?: IgnitionFile['group']; where?: Location} = {}): void {
    const earlier = this.files.get(path)
    if (earlier?.where && opts.where) {
      this.diagnostics.push(warning(`${path} is written twice; the later entry wins (as in cloud-config)`, opts.where, [{message: 'first written here', location: earlier.where}]))
    }
    const entry: IgnitionFile & Origin = {path, overwrite: true, mode: opts.mode ?? 0o644, contents: toDataUrl(bytes), where: opts.where}
    if (opts.user) entry.user = opts.user
    if (opts.group) entry.group = opts.group
    this.files.delete(path)
    this.files.set(path, entry)
  }

  hasFile(path: string): boolean {
    return this.files.has(path)
  }

  link(path: string, target: string): void {
    this.links.set(path, {path, target, overwrite: true, hard: false})
  }

  /** Merge into the unit of that name: contents replace, drop-ins of one name replace, flags accumulate. */
  unit(u: IgnitionUnit, where?: Location): void {
    const earlier = this.units.get(u.name)
    if (!earlier) {
      this.units.set(u.name, {...u, dropins: u.dropins ? [...u.dropins] : undefined, where})
      return
    }
    if (where && earlier.where && (u.contents !== undefined || u.enabled !== undefined || u.mask !== undefined)) {
      this.diagnostics.push(warning(`unit ${u.name} is listed more than once; the entries are merged (later contents win)`, where, [{message: 'first listed here', location: earlier.where}]))
    }
    if (u.contents !== undefined) earlier.contents = u.contents
    if (u.enabled !== undefined) earlier.enabled = u.enabled || earlier.enabled === true
    if (u.mask !== undefined) earlier.mask = u.mask || earlier.mask === true
    for (const d of u.dropins ?? []) {
      earlier.dropins = [...(earlier.dropins ?? []).filter((x) => x.name !== d.name), d]
    }
  }

  unitContents(name: string): string | undefined {
    return this.units.get(name)?.contents
  }

  /** Add or merge a user; list fields are unioned, scalars from the later entry win. */
  user(u: IgnitionUser): void {
    const earlier = this.users.get(u.name)
    if (!earlier) {
      this.users.set(u.name, {...u})
      return
    }
    for (const [k, v] of Object.entries(u) as Array<[keyof IgnitionUser, unknown]>) {
      if (v === undefined) continue
      if (Array.isArray(v)) {
        const old = (earlier[k] as string[] | undefined) ?? []
        ;(earlier as unknown as Record<string, unknown>)[k] = [...old, ...v.filter((x) => !old.includes(x as string))]
      } else (earlier as unknown as Record<string, unknown>)[k] = v
    }
  }

  build(version: string): IgnitionConfig {
    const config: IgnitionConfig = {ignition: {version}}
    const users = [...this.users.values()]
    if (users.length) config.passwd = {users}
    const files = [...this.files.values()].map(({where: _where, ...f}) => f).sort((a, b) => cmp(a.path, b.path))
    const links = [...this.links.values()].sort((a, b) => cmp(a.path, b.path))
    if (files.length || links.length) config.storage = {...(files.length ? {files} : {}), ...(links.length ? {links} : {})}
    const units = [...this.units.values()].map(({where: _where, ...u}) => u)
    if (units.length) config.systemd = {units}
    return config
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
