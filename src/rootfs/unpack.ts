import {closeSync, constants as fsc, mkdirSync, openSync, rmSync, statSync, symlinkSync, writeSync} from 'node:fs'
import {link, rm, symlink} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {extract, type Header} from 'tar-stream'
import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import type {LockedPackage} from '../packages/types.js'
import {consumeMember, memberStream, openDeb, pipeToParser} from './deb.js'
import {ALWAYS_ALIASED, canonicalPackagePath, describeProblem, ExcludeMatcher, MERGED_USR_ALIASES} from './paths.js'
import type {EntryType, RootTree} from './tree.js'
import {createFile, WriteQueue} from './unpack-io.js'
import {buildReplacesTable, challengerWins, conflictError, directoryRank, type ReplacesTable, unresolvedClaim} from './unpack-rules.js'

/**
 * Unpack .deb data archives into a RootTree as an ordinary user. Files are created 0644/0755 and directories
 * 0755 on disk so keel can keep writing; the modes, owners and types the image needs go into the manifest.
 * Device nodes and fifos exist only in the manifest: nothing is created on disk for them (no mknod), and
 * the tar writer emits them from the manifest.
 *
 * Several packages decompress at once; every decision about a path (who owns it, whose metadata a shared
 * directory keeps) is made synchronously against the claims table with the rules of unpack-rules.ts, so the
 * result does not depend on which package finished first.
 */

export interface DebToUnpack {
  pkg: LockedPackage
  /** Path of the downloaded, already verified .deb. */
  path: string
}

export interface UnpackOptions {
  /** Exclude globs over image paths (`/usr/share/doc/**`). */
  exclude: string[]
  /** Globs for paths kept although an exclude glob matches them. */
  keep?: string[]
  /** Packages decompressed at once (default: CPU count + 1). */
  concurrency?: number
  reporter?: Reporter
}

export interface PackageUnpackStats {
  name: string
  /** Non-directory entries unpacked (files, links, devices). */
  files: number
  /** Bytes of regular file content unpacked. */
  bytes: number
  excluded: number
}

export interface UnpackReport {
  packages: PackageUnpackStats[]
  totalFiles: number
  totalBytes: number
  excluded: number
  durationMs: number
}

interface Claim {
  /** Package index that holds the path; -1 for keel's own skeleton. */
  index: number
  dir: boolean
  /** Directories: did a package ship it (vs keel creating it as a parent)? */
  explicit: boolean
  /** Non-directories shipped by more than one package: every index that shipped it. */
  claimants?: number[]
}

type FileOp = {kind: 'file'; path: string; host: string; replace: boolean; size: number; executable: boolean}
type LinkOp =
  | {kind: 'symlink'; path: string; host: string; replace: boolean; target: string}
  | {kind: 'hardlink'; path: string; host: string; replace: boolean; targetPath: string; targetHost: string}
  | {kind: 'remove'; path: string; host: string}
type DiskOp = FileOp | LinkOp

/** Files up to this size are collected in memory and written by the thread pool in one go. */
const SMALL_FILE = 1 << 20

const SKELETON = -1
const NEW_FILE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW

export async function unpackPackages(tree: RootTree, debs: DebToUnpack[], opts: UnpackOptions): Promise<UnpackReport> {
  const started = performance.now()
  // The claims table starts from an empty tree; anything already recorded would escape its rules.
  if (tree.entries.size !== 1) throw new KeelError('unpackPackages needs a fresh RootTree (it already has entries)', 'internal')
  const unpacker = new Unpacker(tree, debs, opts)
  // One more decompressor than cores keeps every core busy while the main thread parses and writes.
  await unpacker.run(opts.concurrency ?? availableParallelism() + 1)
  unpacker.finish()
  const packages = unpacker.stats
  return {
    packages,
    totalFiles: packages.reduce((n, p) => n + p.files, 0),
    totalBytes: packages.reduce((n, p) => n + p.bytes, 0),
    excluded: packages.reduce((n, p) => n + p.excluded, 0),
    durationMs: Math.round(performance.now() - started),
  }
}

class Unpacker {
  readonly claims = new Map<string, Claim>()
  private readonly io = new WriteQueue()
  readonly stats: PackageUnpackStats[]
  private readonly replaces: ReplacesTable
  private readonly exclude: ExcludeMatcher
  private readonly reporter: Reporter
  private readonly names: string[]

  constructor(
    private readonly tree: RootTree,
    private readonly debs: DebToUnpack[],
    opts: UnpackOptions,
  ) {
    this.names = debs.map((d) => d.pkg.name)
    this.replaces = buildReplacesTable(debs.map((d) => d.pkg))
    this.exclude = new ExcludeMatcher(opts.exclude, opts.keep)
    this.reporter = opts.reporter ?? silentReporter
    this.stats = debs.map((d) => ({name: d.pkg.name, files: 0, bytes: 0, excluded: 0}))
    this.claims.set('', {index: SKELETON, dir: true, explicit: true})
    for (const alias of ALWAYS_ALIASED) this.addAlias(alias)
  }

  /**
   * Unpack with a bounded pool; on failure stop starting packages and report the lowest-index error. The
   * biggest packages start first so one large archive does not decompress alone at the end; the result
   * does not depend on this order.
   */
  async run(concurrency: number): Promise<void> {
    const sizes = this.debs.map((d) => statSync(d.path).size)
    const schedule = this.debs.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]! || a - b)
    let next = 0
    let done = 0
    const errors: Array<{index: number; err: unknown}> = []
    const worker = async () => {
      while (errors.length === 0 && next < schedule.length) {
        const index = schedule[next++]!
        try {
          await this.unpackOne(index)
        } catch (err) {
          errors.push({index, err})
        }
        done++
        this.reporter.status(`unpacked ${done}/${this.debs.length} packages`)
      }
    }
    await Promise.all(Array.from({length: Math.min(concurrency, this.debs.length)}, worker))
    try {
      await this.io.drain()
    } catch (err) {
      if (errors.length === 0) throw err
    }
    if (errors.length > 0) throw errors.sort((a, b) => a.index - b.index)[0]!.err
  }

  /** Order-independent checks once everything is placed, and the multilib aliases that turned out needed. */
  finish(): void {
    for (const [path, claim] of [...this.claims].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!claim.claimants) continue
      const pair = unresolvedClaim(claim.index, claim.claimants, this.replaces)
      if (pair) throw conflictError(path, this.names[pair[0]]!, this.names[pair[1]]!, 'their Replaces do not single out one of them')
    }
    for (const alias of MERGED_USR_ALIASES) {
      if (!this.claims.has(alias) && this.claims.get(`usr/${alias}`)?.dir) this.addAlias(alias)
    }
  }

  private addAlias(alias: string): void {
    this.ensureDir('usr', SKELETON)
    this.ensureDir(`usr/${alias}`, SKELETON)
    symlinkSync(`usr/${alias}`, join(this.tree.dir, alias))
    this.tree.record({path: alias, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: `usr/${alias}`, owner: 'keel:merged-usr'})
    this.claims.set(alias, {index: SKELETON, dir: false, explicit: true})
  }

  private async unpackOne(index: number): Promise<void> {
    const {path} = this.debs[index]!
    const deb = await openDeb(path)
    const member = memberStream(path, deb.data)
    try {
      await consumeMember(member, (stream) => this.consumeDataTar(index, stream))
    } catch (err) {
      if (err instanceof KeelError) throw err
      throw new KeelError(`${this.names[index]}: cannot unpack ${path}: ${(err as Error).message}`, 'integrity')
    }
  }

  private async consumeDataTar(index: number, stream: Readable): Promise<void> {
    const ex = extract()
    pipeToParser(stream, ex)
    const shippedFiles = new Set<string>()
    const excludedFiles = new Set<string>()
    for await (const entry of ex) {
      const op = this.place(index, entry.header, shippedFiles, excludedFiles)
      if (op?.kind !== 'file') {
        // Flowing and unread, any content is discarded as the parser moves on.
        entry.resume()
        if (op) await this.scheduleLink(op)
        continue
      }
      const mode = op.executable ? 0o755 : 0o644
      if (op.size <= SMALL_FILE) {
        const chunks: Buffer[] = []
        for await (const chunk of entry) chunks.push(chunk as Buffer)
        const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
        await this.io.schedule(op.path, async () => {
          if (op.replace) await rm(op.host, {force: true})
          await createFile(op.host, data, mode)
        }, data.length)
        continue
      }
      // Large files are streamed chunk by chunk as they are decompressed, never held whole.
      const release = await this.io.exclusive(op.path)
      try {
        if (op.replace) rmSync(op.host, {force: true})
        const fd = openSync(op.host, NEW_FILE_FLAGS, mode)
        try {
          for await (const chunk of entry) writeSync(fd, chunk as Buffer)
        } finally {
          closeSync(fd)
        }
      } finally {
        release()
      }
    }
  }

  private async scheduleLink(op: LinkOp): Promise<void> {
    if (op.kind === 'remove') {
      await this.io.schedule(op.path, () => rm(op.host, {force: true}))
      return
    }
    if (op.kind === 'symlink') {
      await this.io.schedule(op.path, async () => {
        if (op.replace) await rm(op.host, {force: true})
        await symlink(op.target, op.host)
      })
      return
    }
    // The target was scheduled earlier in this same archive; link once it exists.
    const targetReady = this.io.settled(op.targetPath)
    await this.io.schedule(op.path, async () => {
      await targetReady
      if (op.replace) await rm(op.host, {force: true})
      await link(op.targetHost, op.host)
    })
  }

  /**
   * Decide what to do with one tar entry: claim the path, record the manifest entry and create directories,
   * all synchronously so decisions never interleave. Returns the disk operation still to do, if any.
   */
  private place(index: number, h: Header, shippedFiles: Set<string>, excludedFiles: Set<string>): DiskOp | undefined {
    const pkg = this.names[index]!
    const stats = this.stats[index]!
    const canonical = canonicalPackagePath(h.name)
    if (!canonical.ok) throw new KeelError(`${pkg}: refusing entry '${h.name}': ${describeProblem(canonical.problem)}`, 'integrity')
    const path = canonical.path
    const type = entryType(h, pkg)
    if (path === '') return undefined // './': the root's metadata is keel's
    if (this.exclude.excludes(path)) {
      if (type !== 'dir') {
        stats.excluded++
        excludedFiles.add(path)
      }
      return undefined
    }
    if (canonical.alias) {
      // Packages may ship the aliases themselves (base-files does in newer releases): accept the symlink
      // keel already made, or a directory that canonicalisation put in usr/.
      if (type === 'symlink' && h.linkname.replace(/^\/+/, '') === `usr/${canonical.alias}`) return undefined
      if (type !== 'dir') throw new KeelError(`${pkg}: ships /${canonical.alias} as a ${type}, but it is a merged-/usr symlink to /usr/${canonical.alias}`, 'conflict')
    }
    this.ensureParents(path, index, pkg)
    const meta = {mode: h.mode & 0o7777, uid: h.uid, gid: h.gid}

    if (type === 'dir') {
      this.placeDir(path, index, meta)
      return undefined
    }

    const existing = this.claims.get(path)
    let replace = false
    if (existing) {
      if (existing.dir) throw conflictError(path, ...this.namePair(index, existing.index, pkg), `a ${type} where the other has a directory`)
      const wins = existing.index === SKELETON ? undefined : challengerWins(index, existing.index, this.replaces)
      if (wins === undefined) throw conflictError(path, ...this.namePair(index, existing.index, pkg))
      const claimants = existing.claimants ?? [existing.index]
      if (!claimants.includes(index)) claimants.push(index)
      existing.claimants = claimants
      if (!wins) {
        stats.files++
        if (type === 'file') stats.bytes += h.size
        return undefined
      }
      existing.index = index
      replace = true
    } else {
      this.claims.set(path, {index, dir: false, explicit: true})
    }

    const host = join(this.tree.dir, path)
    stats.files++
    switch (type) {
      case 'file':
        stats.bytes += h.size
        shippedFiles.add(path)
        this.tree.record({path, type, ...meta, owner: pkg})
        return {kind: 'file', path, host, replace, size: h.size, executable: (h.mode & 0o111) !== 0}
      case 'symlink':
        if (!h.linkname) throw new KeelError(`${pkg}: symlink /${path} has no target`, 'integrity')
        this.tree.record({path, type, mode: 0o777, uid: h.uid, gid: h.gid, linkTarget: h.linkname, owner: pkg})
        return {kind: 'symlink', path, host, replace, target: h.linkname}
      case 'hardlink': {
        const target = canonicalPackagePath(h.linkname ?? '')
        if (!target.ok || target.path === '') throw new KeelError(`${pkg}: hard link /${path} points outside the package ('${h.linkname}')`, 'integrity')
        if (excludedFiles.has(target.path)) {
          // Its target was excluded, so the content is not there to link to; exclude the link as well.
          this.claims.delete(path)
          stats.files--
          stats.excluded++
          this.reporter.info(`${pkg}: /${path} excluded with its hard link target /${target.path}`)
          return undefined
        }
        if (!shippedFiles.has(target.path)) throw new KeelError(`${pkg}: hard link /${path} points outside the package's own files ('${h.linkname}')`, 'integrity')
        this.tree.record({path, type, ...meta, linkTarget: target.path, owner: pkg})
        return {kind: 'hardlink', path, host, replace, targetPath: target.path, targetHost: join(this.tree.dir, target.path)}
      }
      case 'char':
      case 'block':
        this.tree.record({path, type, ...meta, devMajor: h.devmajor, devMinor: h.devminor, owner: pkg})
        break
      case 'fifo':
        this.tree.record({path, type, ...meta, owner: pkg})
        break
    }
    // Devices and fifos live in the manifest only; a replaced file of that path must still leave the disk.
    if (replace) return {kind: 'remove', path, host}
    return undefined
  }

  private placeDir(path: string, index: number, meta: {mode: number; uid: number; gid: number}): void {
    const existing = this.claims.get(path)
    if (existing && !existing.dir) {
      throw conflictError(path, ...this.namePair(index, existing.index, this.names[index]!), 'a directory where the other has a non-directory')
    }
    if (!existing) mkdirSync(join(this.tree.dir, path), {mode: 0o755})
    else if (directoryRank(true, index) >= directoryRank(existing.explicit, existing.index)) return
    this.claims.set(path, {index, dir: true, explicit: true})
    this.tree.record({path, type: 'dir', ...meta, owner: this.names[index]!})
  }

  /** Parents missing from the archive (or not yet seen) are created root:root 0755; symlinks are refused. */
  private ensureParents(path: string, index: number, pkg: string): void {
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      const parent = path.slice(0, i)
      const claim = this.claims.get(parent)
      if (claim?.dir) {
        if (!claim.explicit && claim.index > index) {
          claim.index = index
          this.tree.record({...this.tree.get(parent)!, owner: pkg})
        }
        continue
      }
      if (claim) {
        const what = this.tree.get(parent)?.type ?? 'file'
        throw new KeelError(`${pkg}: refusing to write /${path} through the ${what} /${parent}`, 'conflict')
      }
      this.ensureDir(parent, index)
    }
  }

  private ensureDir(path: string, index: number): void {
    if (this.claims.has(path)) return
    mkdirSync(join(this.tree.dir, path), {mode: 0o755})
    this.claims.set(path, {index, dir: true, explicit: false})
    this.tree.record({path, type: 'dir', mode: 0o755, uid: 0, gid: 0, owner: index === SKELETON ? 'keel:merged-usr' : this.names[index]!})
  }

  /** Both package names for a conflict message, earliest in the given order first. */
  private namePair(a: number, b: number, fallback: string): [string, string] {
    const name = (i: number) => (i === SKELETON ? 'keel (merged-/usr layout)' : this.names[i] ?? fallback)
    return a <= b ? [name(a), name(b)] : [name(b), name(a)]
  }
}

function entryType(h: Header, pkg: string): EntryType {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return 'file'
    case 'directory':
      return 'dir'
    case 'symlink':
      return 'symlink'
    case 'link':
      return 'hardlink'
    case 'character-device':
      return 'char'
    case 'block-device':
      return 'block'
    case 'fifo':
      return 'fifo'
    default:
      throw new KeelError(`${pkg}: unsupported tar entry type '${String(h.type)}' for ${h.name}`, 'integrity')
  }
}
