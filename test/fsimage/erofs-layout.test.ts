import {describe, expect, it} from 'vitest'
import {EROFS_MAGIC, parseDirents, planInodePatch, readInode, readSuperblock, walkErofs} from '../../src/fsimage/erofs-layout.js'

// A hand-built 3-block erofs image (4 KiB blocks, inodes from block 0, as mkfs.erofs lays them out):
// root dir (compact inode, nid 40, dirents inline after it), 'bin' dir (extended inode, nid 44, dirents in
// block 2), 'bin/tool' file (compact, nid 48) and 'link' naming the same inode as bin/tool.
const BLOCK = 4096

/** One directory block, cut to its used length (as inline tails are) unless `size` is given. */
function dirBlock(entries: Array<[string, number, number]>, size?: number): Buffer {
  const buf = Buffer.alloc(BLOCK)
  let nameOff = entries.length * 12
  entries.forEach(([name, nid, type], i) => {
    buf.writeBigUInt64LE(BigInt(nid), i * 12)
    buf.writeUInt16LE(nameOff, i * 12 + 8)
    buf.writeUInt8(type, i * 12 + 10)
    buf.write(name, nameOff)
    nameOff += Buffer.byteLength(name)
  })
  return buf.subarray(0, size ?? nameOff)
}

function image(): Buffer {
  const img = Buffer.alloc(3 * BLOCK)
  img.writeUInt32LE(EROFS_MAGIC, 1024)
  img.writeUInt8(12, 1024 + 12)
  img.writeUInt16LE(40, 1024 + 14)
  img.writeBigUInt64LE(3n, 1024 + 16)
  Buffer.from('00112233445566778899aabbccddeeff', 'hex').copy(img, 1024 + 48)
  // root: compact, flat-inline (layout 2 → format 0b100), dir 0755, dirents right after the 32-byte inode
  const rootDirents = dirBlock([['.', 40, 2], ['..', 40, 2], ['bin', 44, 2], ['link', 48, 1]])
  const root = 40 * 32
  img.writeUInt16LE(2 << 1, root)
  img.writeUInt16LE(0o040755, root + 4)
  img.writeUInt32LE(rootDirents.length, root + 8)
  rootDirents.copy(img, root + 32)
  // bin: extended (format bit 0), flat-plain, dirents in block 2; uid/gid 32-bit
  const bin = 44 * 32
  const binDirents = dirBlock([['.', 44, 2], ['..', 40, 2], ['tool', 48, 1]])
  img.writeUInt16LE(1, bin)
  img.writeUInt16LE(0o040755, bin + 4)
  img.writeBigUInt64LE(BigInt(binDirents.length), bin + 8)
  img.writeUInt32LE(2, bin + 16)
  img.writeUInt32LE(1000, bin + 24)
  img.writeUInt32LE(1000, bin + 28)
  binDirents.copy(img, 2 * BLOCK)
  // tool: compact regular file 0644, owned by the build user 1000
  const tool = 48 * 32
  img.writeUInt16LE(2 << 1, tool)
  img.writeUInt16LE(0o100644, tool + 4)
  img.writeUInt16LE(2, tool + 6)
  img.writeUInt16LE(1000, tool + 24)
  img.writeUInt16LE(1000, tool + 26)
  return img
}

const reader = (img: Buffer) => (offset: number, length: number) => img.subarray(offset, offset + length)

describe('erofs layout', () => {
  it('reads the superblock fields', () => {
    expect(readSuperblock(reader(image()))).toMatchObject({blockSize: 4096, rootNid: 40, inodeCount: 3, metaBlkaddr: 0, uuid: '00112233-4455-6677-8899-aabbccddeeff'})
    expect(() => readSuperblock(reader(Buffer.alloc(8192)))).toThrow(/bad superblock magic/)
  })

  it('splits a directory block into names using the first nameoff as the dirent count', () => {
    const names = parseDirents(dirBlock([['.', 1, 2], ['..', 1, 2], ['a-long-name', 7, 1], ['z', 9, 1]], BLOCK), BLOCK)
    expect(names).toEqual([
      {name: '.', nid: 1, fileType: 2},
      {name: '..', nid: 1, fileType: 2},
      {name: 'a-long-name', nid: 7, fileType: 1},
      {name: 'z', nid: 9, fileType: 1},
    ])
  })

  it('walks inline and block directories, compact and extended inodes', () => {
    const {inodes} = walkErofs(reader(image()))
    expect([...inodes.keys()]).toEqual(['', 'bin', 'link', 'bin/tool'])
    expect(inodes.get('bin')).toMatchObject({nid: 44, extended: true, layout: 'flat-plain', uid: 1000, gid: 1000})
    expect(inodes.get('bin/tool')).toMatchObject({nid: 48, extended: false, layout: 'flat-inline', mode: 0o100644, uid: 1000, nlink: 2})
    expect(inodes.get('link')!.nid).toBe(48)
  })

  it('patches compact inodes with 16-bit ids and extended ones with 32-bit ids, keeping the file type', () => {
    const img = image()
    const sb = readSuperblock(reader(img))
    const tool = readInode(reader(img), sb, 48)
    const writes = planInodePatch(tool, {mode: 0o4755, uid: 0, gid: 42})
    expect(writes).toEqual([
      {offset: 48 * 32 + 4, bytes: Buffer.from([0xed, 0x89])}, // 0o104755 little-endian
      {offset: 48 * 32 + 24, bytes: Buffer.from([0, 0, 42, 0])},
    ])
    const bin = readInode(reader(img), sb, 44)
    expect(planInodePatch(bin, {mode: 0o700, uid: 70_000, gid: 5})[1]).toEqual({offset: 44 * 32 + 24, bytes: Buffer.from([0x70, 0x11, 0x01, 0, 5, 0, 0, 0])})
    expect(planInodePatch({...bin, mode: 0o040700, uid: 70_000, gid: 5}, {mode: 0o700, uid: 70_000, gid: 5})).toEqual([])
    expect(() => planInodePatch(tool, {mode: 0o644, uid: 70_000, gid: 0})).toThrow(/compact and cannot hold uid 70000/)
  })
})
