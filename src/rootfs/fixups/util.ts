import {lstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'
import type {LockedPackage} from '../../packages/types.js'
import {normalizeImagePath, type RootTree} from '../tree.js'
import type {FixupResult} from './types.js'

/** Collects what a fix-up did, then hands back a sorted, duplicate-free FixupResult. */
export class ResultBuilder {
  private readonly writtenPaths = new Set<string>()
  private readonly removedPaths = new Set<string>()
  private readonly factLists = new Map<string, Set<string>>()

  wrote(...paths: string[]): void {
    for (const p of paths) this.writtenPaths.add(normalizeImagePath(p))
  }

  removed(...paths: string[]): void {
    for (const p of paths) this.removedPaths.add(normalizeImagePath(p))
  }

  fact(name: string, ...values: string[]): void {
    let list = this.factLists.get(name)
    if (!list) this.factLists.set(name, (list = new Set()))
    for (const v of values) list.add(v)
  }

  result(): FixupResult {
    const facts: Record<string, string[]> = {}
    for (const name of [...this.factLists.keys()].sort()) facts[name] = [...this.factLists.get(name)!].sort()
    return {written: [...this.writtenPaths].sort(), removed: [...this.removedPaths].sort(), facts}
  }
}

const MAX_SYMLINK_HOPS = 40

/**
 * Resolve an image path through symlinks recorded in the manifest (e.g. /bin/more → usr/bin/more on a
 * merged-/usr tree), the way the kernel would inside the image. The last component is resolved too unless
 * `followLast` is false. Never leaves the image root: '..' above the root stays at the root.
 */
export function resolveInTree(tree: RootTree, path: string, followLast = true): string {
  let pending = normalizeImagePath(path).split('/').filter(Boolean)
  const done: string[] = []
  let hops = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === '.') continue
    if (part === '..') {
      done.pop()
      continue
    }
    const candidate = [...done, part].join('/')
    const entry = tree.entries.get(candidate)
    const isLast = pending.length === 0
    if (entry?.type === 'symlink' && entry.linkTarget !== undefined && (followLast || !isLast)) {
      if (++hops > MAX_SYMLINK_HOPS) return candidate
      const target = entry.linkTarget
      const targetParts = target.split('/').filter(Boolean)
      if (target.startsWith('/')) done.length = 0
      pending = [...targetParts, ...pending]
      continue
    }
    done.push(part)
  }
  return done.join('/')
}

/** Text of a regular file in the tree (after resolving symlinks), or undefined if there is none. */
export function readTreeText(tree: RootTree, path: string): string | undefined {
  const resolved = resolveInTree(tree, path)
  const entry = tree.entries.get(resolved)
  if (entry?.type !== 'file') return undefined
  return readFileSync(join(tree.dir, resolved), 'utf8')
}

/** Does the image have something (after following symlinks) at `path`? */
export function existsInTree(tree: RootTree, path: string): boolean {
  return tree.entries.has(resolveInTree(tree, path))
}

/** Immediate children's names of a directory in the manifest, sorted bytewise. */
export function listTreeDir(tree: RootTree, path: string): string[] {
  const dir = resolveInTree(tree, path)
  const prefix = dir === '' ? '' : `${dir}/`
  const names: string[] = []
  for (const key of tree.entries.keys()) {
    if (key === dir || !key.startsWith(prefix)) continue
    const rest = key.slice(prefix.length)
    if (!rest.includes('/')) names.push(rest)
  }
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
}

export function hasPackage(packages: LockedPackage[], name: string): boolean {
  return packages.some((p) => p.name === name)
}

interface DiskState {
  type: 'file' | 'dir' | 'symlink' | 'other'
  /** size + mtime for files, link text for symlinks: enough to notice what a tool changed. */
  signature: string
  executable: boolean
}

/** What is on disk under the given image directories, keyed by image path. */
export function snapshotDisk(tree: RootTree, dirs: string[]): Map<string, DiskState> {
  const out = new Map<string, DiskState>()
  const walk = (imagePath: string): void => {
    const host = join(tree.dir, imagePath)
    let st
    try {
      st = lstatSync(host, {bigint: true})
    } catch {
      return
    }
    if (st.isSymbolicLink()) {
      out.set(imagePath, {type: 'symlink', signature: readlinkSync(host), executable: false})
    } else if (st.isDirectory()) {
      out.set(imagePath, {type: 'dir', signature: '', executable: true})
      for (const name of readdirSync(host)) walk(imagePath === '' ? name : `${imagePath}/${name}`)
    } else if (st.isFile()) {
      out.set(imagePath, {type: 'file', signature: `${st.size}:${st.mtimeNs}:${st.ino}`, executable: (st.mode & 0o111n) !== 0n})
    } else {
      out.set(imagePath, {type: 'other', signature: '', executable: false})
    }
  }
  for (const d of dirs) walk(normalizeImagePath(d))
  return out
}

/**
 * Bring the manifest in line with what a host tool (systemctl, ldconfig, depmod) changed on disk between two
 * snapshots. Modes are normalised (0755 dirs, 0644/0755 files) rather than taken from the staging dir, whose
 * umask is the build user's, not the image's. Returns the paths written and removed.
 */
export function recordDiskChanges(
  tree: RootTree,
  before: Map<string, DiskState>,
  after: Map<string, DiskState>,
  owner: string,
): {written: string[]; removed: string[]} {
  const written: string[] = []
  const removed: string[] = []
  for (const [path, state] of after) {
    const old = before.get(path)
    const known = tree.entries.get(path)
    const unchanged = old && old.type === state.type && old.signature === state.signature && known
    if (unchanged || state.type === 'other') continue
    if (state.type === 'dir') {
      if (known?.type === 'dir') continue
      tree.record({path, type: 'dir', mode: 0o755, uid: 0, gid: 0, owner})
    } else if (state.type === 'symlink') {
      tree.record({path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: state.signature, owner})
    } else {
      const keepMeta = known?.type === 'file' ? {mode: known.mode, uid: known.uid, gid: known.gid} : undefined
      tree.record({path, type: 'file', mode: keepMeta?.mode ?? (state.executable ? 0o755 : 0o644), uid: keepMeta?.uid ?? 0, gid: keepMeta?.gid ?? 0, owner})
    }
    written.push(path)
  }
  for (const path of before.keys()) {
    if (!after.has(path)) {
      tree.entries.delete(path)
      removed.push(path)
    }
  }
  return {written: written.sort(), removed: removed.sort()}
}
