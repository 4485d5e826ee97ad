/**
 * The rootfs as keel tracks it: files live in a staging directory owned by the user running keel, while
 * ownership, modes and types the image must have are recorded here (never applied with chown). The tar
 * writer and every later stage read metadata from this manifest, not from the staging directory.
 */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo'

export interface TreeEntry {
  /** Relative to the image root, no leading slash, no trailing slash, e.g. 'usr/bin/bash'. */
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
