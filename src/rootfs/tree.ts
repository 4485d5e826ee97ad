import {mkdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {KeelError} from '../core/errors.js'

/**
 * The rootfs as keel tracks it: files live in a staging directory owned by the user running keel, while
 * ownership, modes and types the image must have are recorded here (never applied with chown). The tar
 * writer and every later stage read metadata from this manifest, not from the staging directory.
 */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo'

export interface TreeEntry {
  /** Relative to the image root, no leading slash, no trailing slash, e.g. 'usr/bin/bash'. '' is the root. */
  path: string
  type: EntryType
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number
  uid: number
  gid: number
  /** symlink: the link text; hardlink: the path (relative to root) of the file it links to. */
  linkTarget?: string
  /** char/block devices */
  devMajor?: number
  devMinor?: number
  /** Which package shipped it, or 'keel:<fixup>' for files keel made. */
  owner: string
}

export interface WriteOptions {
  mode?: number
  uid?: number
  gid?: number
  owner: string
}

/**
 * Normalise an image path to the manifest's form. Rejects anything that could escape the root: keel never
 * trusts a path from a package or recipe.
 */
export function normalizeImagePath(path: string): string {
  const parts: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') throw new KeelError(`path escapes the image root: ${path}`, 'input')
    parts.push(part)
  }
  return parts.join('/')
}

export class RootTree {
  readonly entries = new Map<string, TreeEntry>()

  /** `dir` is the staging directory; it must exist and be empty. */
  constructor(readonly dir: string) {
    this.entries.set('', {path: '', type: 'dir', mode: 0o755, uid: 0, gid: 0, owner: 'keel:root'})
  }

  hostPath(path: string): string {
    return join(this.dir, normalizeImagePath(path))
  }

  get(path: string): TreeEntry | undefined {
    return this.entries.get(normalizeImagePath(path))
  }

  /** Record (or replace) metadata for an entry that already exists on disk. */
  record(entry: TreeEntry): void {
    this.entries.set(normalizeImagePath(entry.path), {...entry, path: normalizeImagePath(entry.path)})
  }

  /**
   * The first component of `path` (excluding the last) that is a symlink in the manifest, if any. Writing
   * through it would land outside the path the package named, possibly outside the tree.
   */
  symlinkInParents(path: string): string | undefined {
    const parts = normalizeImagePath(path).split('/')
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/')
      if (this.entries.get(prefix)?.type === 'symlink') return prefix
    }
    return undefined
  }

  /** Create a directory and any missing parents (root:root 0755 unless given), on disk and in the manifest. */
  mkdirp(path: string, opts: WriteOptions = {owner: 'keel'}): void {
    const parts = normalizeImagePath(path).split('/').filter(Boolean)
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/')
      const existing = this.entries.get(p)
      if (existing) {
        if (existing.type !== 'dir') throw new KeelError(`cannot create directory /${path}: /${p} is a ${existing.type}`, 'conflict')
        continue
      }
      mkdirSync(join(this.dir, p), {recursive: true})
      const last = i === parts.length
      this.entries.set(p, {path: p, type: 'dir', mode: last ? (opts.mode ?? 0o755) : 0o755, uid: last ? (opts.uid ?? 0) : 0, gid: last ? (opts.gid ?? 0) : 0, owner: opts.owner})
    }
  }

  /** Write a regular file (replacing any existing one), creating parents. */
  writeFile(path: string, content: string | Uint8Array, opts: WriteOptions): void {
    const p = normalizeImagePath(path)
    this.assertWritable(p)
    this.mkdirp(parentOf(p), {owner: opts.owner})
    rmSync(join(this.dir, p), {force: true})
    writeFileSync(join(this.dir, p), content, {mode: 0o644})
    this.entries.set(p, {path: p, type: 'file', mode: opts.mode ?? 0o644, uid: opts.uid ?? 0, gid: opts.gid ?? 0, owner: opts.owner})
  }

  symlink(path: string, target: string, opts: WriteOptions): void {
    const p = normalizeImagePath(path)
    this.assertWritable(p)
    this.mkdirp(parentOf(p), {owner: opts.owner})
    rmSync(join(this.dir, p), {force: true})
    symlinkSync(target, join(this.dir, p))
    this.entries.set(p, {path: p, type: 'symlink', mode: 0o777, uid: opts.uid ?? 0, gid: opts.gid ?? 0, linkTarget: target, owner: opts.owner})
  }

  /** Remove an entry (and everything under it, for a directory) from disk and manifest. */
  remove(path: string): void {
    const p = normalizeImagePath(path)
    const entry = this.entries.get(p)
    if (!entry) return
    if (entry.type === 'dir') {
      const prefix = `${p}/`
      for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key)
    }
    this.entries.delete(p)
    rmSync(join(this.dir, p), {recursive: true, force: true})
  }

  /** Entries in byte order of their paths, the order the tar and every image format use. */
  sorted(): TreeEntry[] {
    return [...this.entries.values()].sort((a, b) => compareBytes(a.path, b.path))
  }

  private assertWritable(p: string): void {
    const via = this.symlinkInParents(p)
    if (via) throw new KeelError(`refusing to write /${p} through the symlink /${via}`, 'conflict')
    const existing = this.entries.get(p)
    if (existing?.type === 'dir') throw new KeelError(`cannot write /${p}: a directory is there`, 'conflict')
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

/** Byte-wise comparison of UTF-8 paths (not locale order), so sorting is the same on every machine. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
