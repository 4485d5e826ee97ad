import {describe, expect, it} from 'vitest'
import {decodeSuperblock, encodeSuperblock, SUPERBLOCK_SIZE, type VeritySuperblock} from '../../src/verity/superblock.js'

const sample: VeritySuperblock = {
  version: 1,
  hashType: 1,
  uuid: '11111111-2222-3333-4444-555555555555',
  algorithm: 'sha256',
  dataBlockSize: 4096,
  hashBlockSize: 512,
  dataBlocks: 0x1_0000_0005,
  salt: Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01]),
}

describe('verity superblock', () => {
  it('puts every field at the offset struct verity_sb gives it, little-endian', () => {
    const b = encodeSuperblock(sample)
    expect(b.length).toBe(512)
    expect(b.subarray(0, 8).toString('latin1')).toBe('verity\0\0')
    expect(b.subarray(8, 16).toString('hex')).toBe('0100000001000000') // version 1, hash type 1
    expect(b.subarray(16, 32).toString('hex')).toBe('11111111222233334444555555555555')
    expect(b.subarray(32, 64).toString('hex')).toBe(Buffer.from('sha256').toString('hex') + '00'.repeat(26))
    expect(b.subarray(64, 68).toString('hex')).toBe('00100000') // 4096
    expect(b.subarray(68, 72).toString('hex')).toBe('00020000') // 512
    expect(b.subarray(72, 80).toString('hex')).toBe('0500000001000000') // 2^32 + 5
    expect(b.subarray(80, 82).toString('hex')).toBe('0500') // salt size
    expect(b.subarray(82, 88).toString('hex')).toBe('000000000000')
    expect(b.subarray(88, 93).toString('hex')).toBe('deadbeef01')
    expect(b.subarray(93).every((x) => x === 0)).toBe(true)
  })

  it('decodes what veritysetup 2.6.1 wrote (format of a 4 KiB file, --salt 00 --uuid 1111...)', () => {
    // Hand-copied from `xxd` of the hash device written by `veritysetup format d h --salt 00 --uuid 11111111-2222-3333-4444-555555555555`.
    const written = Buffer.alloc(SUPERBLOCK_SIZE)
    Buffer.from(
      '7665726974790000' + '01000000' + '01000000' + '11111111222233334444555555555555' + '7368613235360000' + '00'.repeat(24) +
        '00100000' + '00100000' + '0100000000000000' + '0100' + '000000000000' + '00',
      'hex',
    ).copy(written)
    expect(decodeSuperblock(written)).toEqual({
      version: 1,
      hashType: 1,
      uuid: '11111111-2222-3333-4444-555555555555',
      algorithm: 'sha256',
      dataBlockSize: 4096,
      hashBlockSize: 4096,
      dataBlocks: 1,
      salt: Uint8Array.from([0]),
    })
  })

  it('round-trips, including an empty and a 256-byte salt', () => {
    for (const salt of [new Uint8Array(0), new Uint8Array(256).fill(0xab), sample.salt]) {
      const sb = {...sample, salt}
      expect(decodeSuperblock(encodeSuperblock(sb))).toEqual(sb)
    }
  })

  it('rejects what is not a superblock, and salts that do not fit', () => {
    expect(decodeSuperblock(Buffer.alloc(512))).toBeNull()
    expect(decodeSuperblock(encodeSuperblock(sample).subarray(0, 511))).toBeNull()
    const badSalt = encodeSuperblock(sample)
    badSalt.writeUInt16LE(257, 80)
    expect(decodeSuperblock(badSalt)).toBeNull()
    expect(() => encodeSuperblock({...sample, salt: new Uint8Array(257)})).toThrow(/at most 256/)
  })
})
