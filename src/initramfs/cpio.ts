import {closeSync, fstatSync, openSync, readSync, writeSync} from 'node:fs'
import {KeelError} from '../core/errors.js'
import {hardlinkRoot} from '../rootfs/tar.js'
import type {RootTree, TreeEntry} from '../rootfs/tree.js'

/**
 * The "newc" (SVR4, no CRC) cpio format the kernel unpacks an initramfs from: a 110-byte ASCII header of
 * thirteen 8-digit hex fields, the NUL-terminated name, padding to 4 bytes, the data, padding to 4 bytes; a
 * `TRAILER!!!` entry ends the archive. Entries come in byte order of their paths (a directory before what it
 * holds), every mtime is SOURCE_DATE_EPOCH, owners and modes come from the manifest, inode numbers are
 * assigned in order — so one tree always gives the same bytes.
 */

export const NEWC_MAGIC = '070701'
export const TRAILER = 'TRAILER!!!'

const S_IFMT = {file: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000} as const

export interface NewcHeader {
  ino: number
  /** File type bits | permission bits. */
  mode: number
  uid: number
  gid: number
  nlink: number
  mtime: number
  fileSize: number
  devMajor: number
  devMinor: number
  rdevMajor: number
  rdevMinor: number
  /** The name without a leading slash, e.g. 'usr/bin/bash'. */
  name: string
}

function hex8(n: number, field: string): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new KeelError(`cpio ${field} out of range: ${n}`, 'internal')
  return n.toString(16).padStart(8, '0')
}

/** Bytes needed after `n` bytes to reach a multiple of 4. */
export function pad4(n: number): number {
  return (4 - (n % 4)) % 4
}

/** Header + name + padding (the data and its padding follow). */
export function encodeNewcHeader(h: NewcHeader): Buffer {
  const name = Buffer.from(`${h.name}\0`)
  const fields = [h.ino, h.mode, h.uid, h.gid, h.nlink, h.mtime, h.fileSize, h.devMajor, h.devMinor, h.rdevMajor, h.rdevMinor, name.length, 0]
  const names = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check']
  const head = NEWC_MAGIC + fields.map((f, i) => hex8(f, names[i]!)).join('')
  const total = head.length + name.length
  return Buffer.concat([Buffer.from(head, 'ascii'), name, Buffer.alloc(pad4(total))])
}

export interface CpioPlanItem {
  header: Omit<NewcHeader, 'mtime' | 'fileSize'>
  /** Regular files: the image path whose staged bytes are this entry's data (empty for later hard links). */
  content?: string
  /** Symlinks: the link text, stored as the data. */
  linkText?: string
}

/**
 * Plan the archive (pure). Hard-linked files share an inode number and nlink; the first in path order carries
 * the data and the others have size 0 — the kernel creates the first and links the rest to it.
 */
export function planCpio(sorted: readonly TreeEntry[], entries: ReadonlyMap<string, TreeEntry>): CpioPlanItem[] {
  const groups = new Map<string, {ino: number; members: number}>()
  for (const e of sorted) {
    if (e.type !== 'file' && e.type !== 'hardlink') continue
    const key = hardlinkRoot(entries, e.path)
    const g = groups.get(key)
    if (g) g.members++
    else groups.set(key, {ino: 0, members: 1})
  }
  const plan: CpioPlanItem[] = []
  let nextIno = 1
  const carried = new Set<string>()
  for (const e of sorted) {
    if (e.path === '') continue // the kernel's rootfs already exists; '.' would only restate its mode
    const base = {uid: e.uid, gid: e.gid, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, name: e.path}
    if (e.type === 'file' || e.type === 'hardlink') {
      const key = hardlinkRoot(entries, e.path)
      const g = groups.get(key)!
      if (g.ino === 0) g.ino = nextIno++
      const original = entries.get(key)
      const meta = original?.type === 'file' ? original : e
      const first = !carried.has(key)
      carried.add(key)
      plan.push({
        header: {...base, ino: g.ino, mode: S_IFMT.file | (meta.mode & 0o7777), uid: meta.uid, gid: meta.gid, nlink: g.members},
        content: first ? (original?.type === 'file' ? key : e.path) : undefined,
      })
      continue
    }
    const ino = nextIno++
    switch (e.type) {
      case 'dir':
        plan.push({header: {...base, ino, mode: S_IFMT.dir | (e.mode & 0o7777), nlink: 2}})
        break
      case 'fifo':
        plan.push({header: {...base, ino, mode: S_IFMT.fifo | (e.mode & 0o7777), nlink: 1}})
        break
      case 'symlink':
        plan.push({header: {...base, ino, mode: S_IFMT.symlink | 0o777, nlink: 1}, linkText: e.linkTarget ?? ''})
        break
      case 'char':
      case 'block':
        plan.push({header: {...base, ino, mode: S_IFMT[e.type] | (e.mode & 0o7777), nlink: 1, rdevMajor: e.devMajor ?? 0, rdevMinor: e.devMinor ?? 0}})
        break
      default:
        throw new KeelError(`unexpected entry type ${e.type} at /${e.path}`, 'internal')
    }
  }
  return plan
}

/** The archive end marker. */
export function trailer(): Buffer {
  return encodeNewcHeader({ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, fileSize: 0, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, name: TRAILER})
}

export interface CpioResult {
  entries: number
  size: number
}

/** What the writer reads: entries and where their bytes are (a RootTree, or the live archive's sources). */
export type CpioSource = Pick<RootTree, 'sorted' | 'entries' | 'hostPath'>

/** Write the tree as an uncompressed newc archive to an open file descriptor. */
export function writeCpioToFd(tree: CpioSource, fd: number, mtime: number): CpioResult {
  const plan = planCpio(tree.sorted(), tree.entries)
  let size = 0
  const put = (b: Buffer): void => {
    let off = 0
    while (off < b.length) off += writeSync(fd, b, off, b.length - off)
    size += b.length
  }
  const chunk = Buffer.allocUnsafe(1 << 20)
  for (const item of plan) {
    if (item.linkText !== undefined) {
      const data = Buffer.from(item.linkText)
      put(encodeNewcHeader({...item.header, mtime, fileSize: data.length}))
      put(data)
      put(Buffer.alloc(pad4(data.length)))
      continue
    }
    if (item.content === undefined) {
      put(encodeNewcHeader({...item.header, mtime, fileSize: 0}))
      continue
    }
    const src = openSync(tree.hostPath(item.content), 'r')
    try {
      const length = fstatSync(src).size
      put(encodeNewcHeader({...item.header, mtime, fileSize: length}))
      let remaining = length
      while (remaining > 0) {
        const n = readSync(src, chunk, 0, Math.min(chunk.length, remaining), null)
        if (n === 0) throw new KeelError(`/${item.content} shrank while it was being archived`, 'internal')
        put(chunk.subarray(0, n))
        remaining -= n
      }
      put(Buffer.alloc(pad4(length)))
    } finally {
      closeSync(src)
    }
  }
  put(trailer())
  return {entries: plan.length, size}
}
