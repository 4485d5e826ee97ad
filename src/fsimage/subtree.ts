import {KeelError} from '../core/errors.js'
import {hardlinkRoot} from '../rootfs/tar.js'
import {compareBytes, type EntryType, type RootTree, type TreeEntry} from '../rootfs/tree.js'

/**
 * The part of a RootTree that goes into one filesystem image, with paths relative to the image's root and
 * the metadata each inode must carry. Hard links resolve to their original file's metadata (they share its
 * inode), as the tar writer does.
 */
export interface ImageEntryMeta {
  type: Exclude<EntryType, 'hardlink'>
  mode: number
  uid: number
  gid: number
  /** For hard links: the image path of the file whose inode they share, when it is in the same image. */
  linkOf?: string
  /** Symlink text. */
  linkTarget?: string
  devMajor?: number
  devMinor?: number
  /** Where the content lives in the staging directory (files), relative to the tree root. */
  treePath?: string
}

export type ImageManifest = Map<string, ImageEntryMeta>

/** Image path for a tree path under `prefix` ('' for the tree root): 'usr/bin/x' → 'bin/x'; undefined if outside. */
export function relativeTo(prefix: string, path: string): string | undefined {
  if (prefix === '') return path
  if (path === prefix) return ''
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : undefined
}

/**
 * Metadata of every entry in `tree` under `prefix` (its own entry becomes the image root ''), optionally
 * filtered by `include` (called with tree paths). Paths come out in byte order.
 */
export function imageManifest(tree: RootTree, prefix: string, include: (entry: TreeEntry) => boolean = () => true): ImageManifest {
  const out: ImageManifest = new Map()
  const root = tree.entries.get(prefix)
  if (root?.type !== 'dir') throw new KeelError(`the tree has no directory /${prefix}`, 'internal')
  for (const e of tree.sorted()) {
    const rel = relativeTo(prefix, e.path)
    if (rel === undefined || !include(e)) continue
    if (e.type !== 'hardlink') {
      const extra = e.type === 'symlink' ? {linkTarget: e.linkTarget ?? ''} : SPECIAL_TYPES.has(e.type) && e.type !== 'fifo' ? {devMajor: e.devMajor ?? 0, devMinor: e.devMinor ?? 0} : {}
      out.set(rel, {type: e.type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, treePath: e.path, ...extra})
      continue
    }
    const original = tree.entries.get(hardlinkRoot(tree.entries, e.path))
    const meta = original?.type === 'file' ? original : {...e, mode: e.mode}
    const linkOf = original?.type === 'file' ? relativeTo(prefix, original.path) : undefined
    out.set(rel, {type: 'file', mode: meta.mode & 0o7777, uid: meta.uid, gid: meta.gid, treePath: e.path, ...(linkOf !== undefined && linkOf !== rel ? {linkOf} : {})})
  }
  // A link whose original was left out of this image carries its own content.
  for (const meta of out.values()) if (meta.linkOf !== undefined && !out.has(meta.linkOf)) delete meta.linkOf
  return out
}

export function sortedPaths(manifest: ImageManifest): string[] {
  return [...manifest.keys()].sort(compareBytes)
}

/** Types no ordinary process can create on disk (no mknod without root): images that copy files skip them. */
export const SPECIAL_TYPES: ReadonlySet<EntryType> = new Set(['char', 'block', 'fifo'])

export function largestId(manifest: ImageManifest): number {
  let max = 0
  for (const m of manifest.values()) max = Math.max(max, m.uid, m.gid)
  return max
}

/**
 * Stop when what a tool will read (`found`: paths on disk or in an image) is not exactly the manifest: the
 * staging directory and the manifest disagreeing is a bug, and an unlisted file would keep the build user's
 * owner. `ignore` lists manifest paths that cannot be on disk (e.g. device nodes).
 */
export function assertSamePaths(what: string, found: Iterable<string>, manifest: ImageManifest, ignore: ReadonlySet<string> = new Set()): void {
  const seen = new Set(found)
  const missing = [...manifest.keys()].filter((p) => !seen.has(p) && !ignore.has(p))
  const extra = [...seen].filter((p) => !manifest.has(p))
  if (!missing.length && !extra.length) return
  const show = (list: string[]) => list.slice(0, 5).map((p) => `/${p}`).join(', ') + (list.length > 5 ? ', …' : '')
  throw new KeelError(
    `${what} and the manifest disagree${missing.length ? `; not in ${what}: ${show(missing)}` : ''}${extra.length ? `; not in the manifest: ${show(extra)}` : ''}`,
    'internal',
  )
}
