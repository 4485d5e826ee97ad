import {describe, expect, it} from 'vitest'
import {encodeOldGnuSparseHeader, numeric12, padTo, sparseMap} from '../../src/platforms/gce.js'

// Field offsets from GNU tar's tar.h (struct posix_header, struct oldgnu_header, struct sparse_header),
// written out here by hand; tar itself reads the result in gce.int.test.ts.

const field = (b: Buffer, offset: number, length: number): string => b.subarray(offset, offset + length).toString('latin1')

describe('numeric12', () => {
  it('writes 11 octal digits and a NUL while the value fits', () => {
    expect(field(numeric12(0), 0, 12)).toBe('00000000000\0')
    expect(field(numeric12(8 * 2 ** 30 - 1), 0, 12)).toBe('77777777777\0')
  })

  it('switches to base-256 (0x80, then big-endian) from 8 GiB on', () => {
    expect(numeric12(8 * 2 ** 30).toString('hex')).toBe('800000000000000200000000')
    expect(numeric12(9 * 2 ** 30).toString('hex')).toBe('800000000000000240000000')
  })
})

describe('sparseMap', () => {
  it('adds a zero-length entry at the real size when the file ends in a hole', () => {
    expect(sparseMap(8192, [{offset: 0, length: 4096}])).toEqual([{offset: 0, length: 4096}, {offset: 8192, length: 0}])
  })
  it('adds nothing when the last region reaches the end', () => {
    expect(sparseMap(8192, [{offset: 4096, length: 4096}])).toEqual([{offset: 4096, length: 4096}])
  })
  it('describes an all-zero file by the end entry alone', () => {
    expect(sparseMap(4096, [])).toEqual([{offset: 4096, length: 0}])
  })
})

describe('encodeOldGnuSparseHeader', () => {
  const map = [
    {offset: 0, length: 1024},
    {offset: 4096, length: 512},
  ]
  const h = encodeOldGnuSparseHeader({name: 'disk.raw', mode: 0o644, mtime: 1_700_000_000, size: 1 << 20, map})

  it('is one block with the oldgnu magic, type S, stored size and real size', () => {
    expect(h.length).toBe(512)
    expect(field(h, 0, 9)).toBe('disk.raw\0')
    expect(field(h, 100, 8)).toBe('0000644\0')
    expect(field(h, 124, 12)).toBe('00000003000\0') // 1536 stored bytes, octal 3000
    expect(field(h, 136, 12)).toBe('14524770400\0') // 1700000000 in octal
    expect(field(h, 156, 1)).toBe('S')
    expect(field(h, 257, 8)).toBe('ustar  \0')
    expect(field(h, 386, 24)).toBe('00000000000\u000000000002000\0') // offset 0, 1024 bytes
    expect(field(h, 410, 24)).toBe('00000010000\u000000000001000\0') // offset 4096, 512 bytes
    expect(h[482]).toBe(0) // no extension block
    expect(field(h, 483, 12)).toBe('00004000000\0') // real size 1 MiB
  })

  it('carries a checksum that is the byte sum with the field read as spaces', () => {
    const copy = Buffer.from(h)
    copy.fill(0x20, 148, 156)
    const sum = copy.reduce((n, b) => n + b, 0)
    expect(field(h, 148, 8)).toBe(`${sum.toString(8).padStart(6, '0')}\0 `)
  })

  it('continues a map of more than 4 entries in extension blocks of 21', () => {
    const many = Array.from({length: 30}, (_, i) => ({offset: i * 8192, length: 512}))
    const blocks = encodeOldGnuSparseHeader({name: 'disk.raw', mode: 0o644, mtime: 0, size: 30 * 8192, map: many})
    expect(blocks.length).toBe(3 * 512) // 4 in the header, 21 + 5 in two extensions
    expect(blocks[482]).toBe(1)
    const ext1 = blocks.subarray(512, 1024)
    expect(field(ext1, 0, 12)).toBe(`${(4 * 8192).toString(8).padStart(11, '0')}\0`)
    expect(ext1[504]).toBe(1)
    const ext2 = blocks.subarray(1024)
    expect(field(ext2, 4 * 24, 12)).toBe(`${(29 * 8192).toString(8).padStart(11, '0')}\0`)
    expect(ext2[5 * 24]).toBe(0) // unused entries stay zero
    expect(ext2[504]).toBe(0)
  })
})

describe('padTo', () => {
  it('pads to the next multiple', () => {
    expect(padTo(0, 512)).toBe(0)
    expect(padTo(1, 512)).toBe(511)
    expect(padTo(10240, 10240)).toBe(0)
  })
})
