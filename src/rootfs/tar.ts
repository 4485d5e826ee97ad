import {createHash, type Hash} from 'node:crypto'
import {
  chmodSync,
  closeSync,
  constants as fsc,
  copyFileSync,
  fstatSync,
  fsyncSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs'
import {join} from 'node:path'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {formatBytes, type Reporter, silentReporter} from '../core/progress.js'
import {BLOCK, encodeHeader, padding, type TarHeader} from './tar-header.js'
import type {RootTree, TreeEntry} from './tree.js'

/**
 * Write the tree as a reproducible tar: entries in byte order of their paths, metadata from the manifest
 * (never from the staging directory), one mtime for everything, numeric owners only (uname/gname empty, so
 * the image's own /etc/passwd is the only name authority), hard links as link entries.
 */

export interface WriteTarOptions {
  /** SOURCE_DATE_EPOCH: the mtime of every entry, in seconds. */
  mtime: number
  reporter?: Reporter
}

export interface TarResult {
  sha256: string
  size: number
  entries: number
}

export interface TarPlanItem {
  header: Omit<TarHeader, 'size' | 'mtime'>
  /** Image path whose bytes in the staging directory are this entry's content (regular files only). */
  content?: string
}

/** Name of an image path inside the tar: './usr/bin/x', './usr/' for directories, './' for the root. */
export function tarName(entry: TreeEntry): string {
  if (entry.path === '') return './'
  return entry.type === 'dir' ? `./${entry.path}/` : `./${entry.path}`
}

/**
 * The file a hard link finally refers to, following links to links. Returns the last path reached: a
 * regular file normally, or a path missing from the manifest when a fix-up removed the original.
 */
export function hardlinkRoot(entries: ReadonlyMap<string, TreeEntry>, path: string): string {
  let current = path
  const seen = new Set<string>()
  for (;;) {
    const e = entries.get(current)
    if (!e || e.type !== 'hardlink' || !e.linkTarget) return current
    if (seen.has(current)) throw new KeelError(`hard links form a cycle at /${path}`, 'internal')
    seen.add(current)
    current = e.linkTarget
  }
}

/**
 * Plan the tar's entries (pure). Hard-linked files form groups; whichever member comes first in path order
 * carries the content, as extractors need a link's target to exist before the link, and the others link to
 * it. Its metadata is the original file's, the inode they share.
 */
export function planTar(sorted: readonly TreeEntry[], entries: ReadonlyMap<string, TreeEntry>): TarPlanItem[] {
  const carrierOf = new Map<string, string>()
  const plan: TarPlanItem[] = []
  for (const e of sorted) {
    const common = {name: tarName(e), mode: e.mode, uid: e.uid, gid: e.gid}
    const groupKey = e.type === 'hardlink' || e.type === 'file' ? hardlinkRoot(entries, e.path) : undefined
    if (groupKey !== undefined) {
      const carrier = carrierOf.get(groupKey)
      if (carrier !== undefined) {
        plan.push({header: {...common, type: 'hardlink', linkname: `./${carrier}`}})
        continue
      }
      carrierOf.set(groupKey, e.path)
      const original = entries.get(groupKey)
      const meta = original?.type === 'file' ? original : e
      // Content from the original when it is still there, else from this link's own copy on disk.
      plan.push({header: {...common, type: 'file', mode: meta.mode, uid: meta.uid, gid: meta.gid}, content: original?.type === 'file' ? groupKey : e.path})
      continue
    }
    switch (e.type) {
      case 'dir':
      case 'fifo':
        plan.push({header: {...common, type: e.type}})
        break
      case 'symlink':
        plan.push({header: {...common, type: 'symlink', linkname: e.linkTarget ?? ''}})
        break
      case 'char':
      case 'block':
        plan.push({header: {...common, type: e.type, devMajor: e.devMajor ?? 0, devMinor: e.devMinor ?? 0}})
        break
      default:
        throw new KeelError(`unexpected entry type ${e.type} at /${e.path}`, 'internal')
    }
  }
  return plan
}

const OUT_BUFFER = 4 << 20

/** Accumulates output in one large buffer, hashing and writing it in big sequential writes. */
class TarSink {
  private readonly buf = Buffer.allocUnsafe(OUT_BUFFER)
  private used = 0
  readonly hash: Hash = createHash('sha256')
  size = 0
  flushes = 0

  constructor(private readonly fd: number) {}

  push(data: Buffer): void {
    if (data.length > OUT_BUFFER - this.used) this.flush()
    if (data.length > OUT_BUFFER) {
      this.write(data)
      return
    }
    data.copy(this.buf, this.used)
    this.used += data.length
  }

  zeros(n: number): void {
    if (n > OUT_BUFFER - this.used) this.flush()
    this.buf.fill(0, this.used, this.used + n)
    this.used += n
  }

  /** Copy exactly `size` bytes of an open file into the output, reading straight into the buffer. */
  copyFrom(fd: number, size: number, label: string): void {
    let remaining = size
    while (remaining > 0) {
      if (this.used === OUT_BUFFER) this.flush()
      const want = Math.min(remaining, OUT_BUFFER - this.used)
      const n = readSync(fd, this.buf, this.used, want, null)
      if (n === 0) throw new KeelError(`/${label} shrank while it was being written to the tar`, 'internal')
      this.used += n
      remaining -= n
    }
  }

  flush(): void {
    if (this.used === 0) return
    this.write(this.buf.subarray(0, this.used))
    this.used = 0
    this.flushes++
  }

  private write(data: Buffer): void {
    this.hash.update(data)
    let off = 0
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off)
    this.size += data.length
  }
}

export async function writeTar(tree: RootTree, out: string, opts: WriteTarOptions): Promise<TarResult> {
  const reporter = opts.reporter ?? silentReporter
  const plan = planTar(tree.sorted(), tree.entries)
  const tmp = tempPathFor(out)
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644)
  let ok = false
  try {
    const sink = new TarSink(fd)
    let lastYield = 0
    for (const item of plan) {
      if (item.content === undefined) {
        sink.push(encodeHeader({...item.header, size: 0, mtime: opts.mtime}))
        continue
      }
      const src = openSync(join(tree.dir, item.content), fsc.O_RDONLY | fsc.O_NOFOLLOW)
      try {
        const st = fstatSync(src)
        if (!st.isFile()) throw new KeelError(`/${item.content} is in the manifest as a file but is not one on disk`, 'internal')
        sink.push(encodeHeader({...item.header, size: st.size, mtime: opts.mtime}))
        sink.copyFrom(src, st.size, item.content)
        sink.zeros(padding(st.size))
      } finally {
        closeSync(src)
      }
      // Sync I/O keeps the copy loop tight; give the event loop a turn now and then so progress can render.
      if (sink.flushes - lastYield >= 16) {
        lastYield = sink.flushes
        reporter.status(`tar: ${formatBytes(sink.size)} written`)
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    sink.zeros(2 * BLOCK)
    sink.flush()
    fsyncSync(fd)
    ok = true
    closeSync(fd)
    renameSync(tmp, out)
    await fsyncDir(join(out, '..'))
    return {sha256: sink.hash.digest('hex'), size: sink.size, entries: plan.length}
  } finally {
    if (!ok) {
      closeSync(fd)
      rmSync(tmp, {force: true})
    }
  }
}

export interface WriteDirectoryOptions {
  /** Set every entry's mtime (seconds); left as created when absent. */
  mtime?: number
}

export interface WriteDirectoryResult {
  entries: number
  /** Device nodes and fifos: an ordinary process cannot create them, so they are left out and listed here. */
  skipped: string[]
}

/**
 * Materialise the tree in `outDir` (created; must be empty if it exists) with the manifest's modes applied,
 * and its owners too when running as root. Device nodes and fifos are not created (Node has no mknod);
 * stages that need them take the tar.
 */
export async function writeDirectory(tree: RootTree, outDir: string, opts: WriteDirectoryOptions = {}): Promise<WriteDirectoryResult> {
  mkdirSync(outDir, {recursive: true})
  if (readdirSync(outDir).length > 0) throw new KeelError(`${outDir} is not empty`, 'usage', 'give an empty or new directory')
  const sorted = tree.sorted()
  const skipped: string[] = []
  const made: TreeEntry[] = []
  const links: TreeEntry[] = []
  for (const e of sorted) {
    const dst = join(outDir, e.path)
    switch (e.type) {
      case 'dir':
        if (e.path !== '') mkdirSync(dst, {mode: 0o700})
        break
      case 'file':
        copyFileSync(join(tree.dir, e.path), dst, fsc.COPYFILE_FICLONE)
        break
      case 'symlink':
        symlinkSync(e.linkTarget ?? '', dst)
        break
      case 'hardlink':
        links.push(e)
        continue
      default:
        skipped.push(e.path)
        continue
    }
    made.push(e)
  }
  for (const e of links) {
    const root = hardlinkRoot(tree.entries, e.path)
    if (tree.entries.get(root)?.type === 'file') linkSync(join(outDir, root), join(outDir, e.path))
    else copyFileSync(join(tree.dir, e.path), join(outDir, e.path))
    made.push(e)
  }
  const asRoot = process.getuid?.() === 0
  // Children before parents: a directory's mode may forbid writing into it, and creating children would
  // change its mtime.
  made.sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0))
  for (const e of made) {
    const dst = join(outDir, e.path)
    // chown first: it clears setuid/setgid bits, which chmod then sets.
    if (asRoot) lchownSync(dst, e.uid, e.gid)
    if (e.type !== 'symlink') chmodSync(dst, e.mode)
    if (opts.mtime !== undefined) lutimesSync(dst, opts.mtime, opts.mtime)
  }
  return {entries: made.length, skipped}
}
