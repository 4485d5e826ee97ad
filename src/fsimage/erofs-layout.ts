import {KeelError} from '../core/errors.js'
import {crc32cRaw} from './crc32c.js'

/**
 * Just enough of the erofs on-disk format (linux/fs/erofs/erofs_fs.h) to walk the directory tree of an image
 * and rewrite inode ownership and permission bits in place. mkfs.erofs 1.5 (bookworm) has no per-file
 * ownership input (no --tar, no manifest), and rootless the source files all belong to the build user; so
 * keel builds with --all-root and then stamps each inode with the manifest's uid, gid and mode. Pure: reads
 * go through a callback, and patches come back as byte writes for the caller to apply.
 */

export const EROFS_SUPER_OFFSET = 1024
export const EROFS_MAGIC = 0xe0f5e1e2
const FEATURE_COMPAT_SB_CHKSUM = 0x1
const DIRENT_SIZE = 12
const S_IFMT = 0o170000
const S_IFDIR = 0o040000

export const DATA_LAYOUTS = ['flat-plain', 'compressed-full', 'flat-inline', 'compressed-compact', 'chunk-based'] as const

/** Reads `length` bytes at `offset` of the image (short reads are an error of the caller's). */
export type ReadAt = (offset: number, length: number) => Buffer

export interface ErofsSuperblock {
  checksum: number
  featureCompat: number
  blockSize: number
  rootNid: number
  inodeCount: number
  buildTime: number
  blocks: number
  metaBlkaddr: number
  uuid: string
}

export interface ErofsInode {
  nid: number
  /** Byte offset of the inode in the image. */
  offset: number
  extended: boolean
  layout: (typeof DATA_LAYOUTS)[number]
  mode: number
  uid: number
  gid: number
  nlink: number
  size: number
  rawBlkaddr: number
  /** Inode size plus in-inode xattrs: where inline (tail) data starts, relative to `offset`. */
  inlineDataOffset: number
}

export function readSuperblock(read: ReadAt): ErofsSuperblock {
  const sb = read(EROFS_SUPER_OFFSET, 128)
  if (sb.readUInt32LE(0) !== EROFS_MAGIC) throw new KeelError('not an erofs image (bad superblock magic)', 'internal')
  const uuid = sb.subarray(48, 64).toString('hex')
  return {
    checksum: sb.readUInt32LE(4),
    featureCompat: sb.readUInt32LE(8),
    blockSize: 1 << sb.readUInt8(12),
    rootNid: sb.readUInt16LE(14),
    inodeCount: Number(sb.readBigUInt64LE(16)),
    buildTime: Number(sb.readBigUInt64LE(24)),
    blocks: sb.readUInt32LE(36),
    metaBlkaddr: sb.readUInt32LE(40),
    uuid: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`,
  }
}

export function readInode(read: ReadAt, sb: ErofsSuperblock, nid: number): ErofsInode {
  const offset = sb.metaBlkaddr * sb.blockSize + nid * 32
  const head = read(offset, 64)
  const format = head.readUInt16LE(0)
  const extended = (format & 1) === 1
  const layoutIndex = (format >> 1) & 0x7
  const layout = DATA_LAYOUTS[layoutIndex]
  if (!layout) throw new KeelError(`erofs inode ${nid}: unknown data layout ${layoutIndex}`, 'internal')
  const xattrCount = head.readUInt16LE(2)
  const xattrSize = xattrCount === 0 ? 0 : 12 + (xattrCount - 1) * 4
  const common = {nid, offset, extended, layout, mode: head.readUInt16LE(4), rawBlkaddr: head.readUInt32LE(16), inlineDataOffset: (extended ? 64 : 32) + xattrSize}
  return extended
    ? {...common, size: Number(head.readBigUInt64LE(8)), uid: head.readUInt32LE(24), gid: head.readUInt32LE(28), nlink: head.readUInt32LE(44)}
    : {...common, size: head.readUInt32LE(8), uid: head.readUInt16LE(24), gid: head.readUInt16LE(26), nlink: head.readUInt16LE(6)}
}

/** The bytes of an uncompressed inode's data (directories: mkfs.erofs never compresses them). */
export function readFlatData(read: ReadAt, sb: ErofsSuperblock, inode: ErofsInode): Buffer {
  if (inode.layout === 'flat-plain') return inode.size === 0 ? Buffer.alloc(0) : read(inode.rawBlkaddr * sb.blockSize, inode.size)
  if (inode.layout !== 'flat-inline') throw new KeelError(`erofs inode ${inode.nid}: cannot read ${inode.layout} data here`, 'internal')
  const fullBlocks = Math.floor(inode.size / sb.blockSize)
  const tail = inode.size - fullBlocks * sb.blockSize
  const parts: Buffer[] = []
  if (fullBlocks > 0) parts.push(read(inode.rawBlkaddr * sb.blockSize, fullBlocks * sb.blockSize))
  if (tail > 0) parts.push(read(inode.offset + inode.inlineDataOffset, tail))
  return Buffer.concat(parts)
}

export interface ErofsDirent {
  name: string
  nid: number
  fileType: number
}

/** Entries of a directory's data: per block, dirents first (the first nameoff gives their count), then names. */
export function parseDirents(data: Buffer, blockSize: number): ErofsDirent[] {
  const out: ErofsDirent[] = []
  for (let start = 0; start < data.length; start += blockSize) {
    const block = data.subarray(start, Math.min(start + blockSize, data.length))
    const count = block.readUInt16LE(8) / DIRENT_SIZE
    for (let i = 0; i < count; i++) {
      const at = i * DIRENT_SIZE
      const nameStart = block.readUInt16LE(at + 8)
      const nameEnd = i + 1 < count ? block.readUInt16LE(at + DIRENT_SIZE + 8) : block.length
      let name = block.subarray(nameStart, nameEnd)
      const nul = name.indexOf(0)
      if (nul >= 0) name = name.subarray(0, nul)
      out.push({name: name.toString('utf8'), nid: Number(block.readBigUInt64LE(at)), fileType: block.readUInt8(at + 10)})
    }
  }
  return out
}

/** Every path in the image ('' is the root, no leading slash) with its inode, in directory order. */
export function walkErofs(read: ReadAt): {superblock: ErofsSuperblock; inodes: Map<string, ErofsInode>} {
  const superblock = readSuperblock(read)
  const inodes = new Map<string, ErofsInode>()
  const queue: Array<[string, number]> = [['', superblock.rootNid]]
  for (let next = 0; next < queue.length; next++) {
    const [path, nid] = queue[next]!
    const inode = readInode(read, superblock, nid)
    inodes.set(path, inode)
    if ((inode.mode & S_IFMT) !== S_IFDIR) continue
    for (const d of parseDirents(readFlatData(read, superblock, inode), superblock.blockSize)) {
      if (d.name === '.' || d.name === '..') continue
      queue.push([path === '' ? d.name : `${path}/${d.name}`, d.nid])
    }
  }
  return {superblock, inodes}
}

export interface InodeMetadata {
  /** Permission bits (mode & 0o7777); the file type stays what the image has. */
  mode: number
  uid: number
  gid: number
}

export interface ByteWrite {
  offset: number
  bytes: Buffer
}

/** The writes that give `inode` the wanted owner and permission bits (none when it already has them). */
export function planInodePatch(inode: ErofsInode, want: InodeMetadata): ByteWrite[] {
  const mode = (inode.mode & S_IFMT) | (want.mode & 0o7777)
  if (mode === inode.mode && want.uid === inode.uid && want.gid === inode.gid) return []
  const modeBytes = Buffer.alloc(2)
  modeBytes.writeUInt16LE(mode)
  const writes: ByteWrite[] = [{offset: inode.offset + 4, bytes: modeBytes}]
  if (inode.extended) {
    const ids = Buffer.alloc(8)
    ids.writeUInt32LE(want.uid >>> 0, 0)
    ids.writeUInt32LE(want.gid >>> 0, 4)
    writes.push({offset: inode.offset + 24, bytes: ids})
  } else {
    if (want.uid > 0xffff || want.gid > 0xffff) {
      throw new KeelError(`erofs inode ${inode.nid} is compact and cannot hold uid ${want.uid} / gid ${want.gid}`, 'internal')
    }
    const ids = Buffer.alloc(4)
    ids.writeUInt16LE(want.uid, 0)
    ids.writeUInt16LE(want.gid, 2)
    writes.push({offset: inode.offset + 24, bytes: ids})
  }
  return writes
}

/**
 * The superblock checksum after patches: crc32c (seed ~0, no final inversion, as the kernel computes it)
 * over the superblock's block from offset 1024 with the checksum field zeroed. `block` is that region.
 */
export function superblockChecksum(block: Buffer): number {
  const copy = Buffer.from(block)
  copy.writeUInt32LE(0, 4)
  return crc32cRaw(0xffffffff, copy)
}

export function hasSuperblockChecksum(sb: ErofsSuperblock): boolean {
  return (sb.featureCompat & FEATURE_COMPAT_SB_CHKSUM) !== 0
}
