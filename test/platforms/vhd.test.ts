import {describe, expect, it} from 'vitest'
import {vhdChecksum, vhdFooter, vhdGeometry, vhdVirtualSize} from '../../src/platforms/vhd.js'

// Expected values worked by hand from the VHD specification's geometry algorithm (appendix "CHS
// calculation") and its footer table; the integration test compares with qemu-img's own footers.

describe('vhdGeometry (the specification algorithm)', () => {
  it.each([
    // 1 MiB = 2048 sectors: 17 sectors/track, 120 cylinder·heads, heads (120+1023)/1024 = 1 → at least 4
    ['1 MiB', 1 << 20, {cylinders: 30, heads: 4, sectorsPerTrack: 17}],
    // 100 MiB = 204800 sectors: 12047 c·h at 17 s/t, 12 heads, below 12·1024: stays at 17
    ['100 MiB', 100 << 20, {cylinders: 1003, heads: 12, sectorsPerTrack: 17}],
    // 200 MiB: 24 heads at 17 s/t is more than 16, so 31 s/t and 16 heads: 409600/31 = 13212 c·h
    ['200 MiB', 200 << 20, {cylinders: 825, heads: 16, sectorsPerTrack: 31}],
    // 8 GiB = 16777216 sectors: 31 s/t still needs ≥ 16·1024 c·h, so 63 s/t: 266304 c·h / 16
    ['8 GiB', 8 * 2 ** 30, {cylinders: 16644, heads: 16, sectorsPerTrack: 63}],
    // 40 GiB ≥ 65535·16·63 sectors: 255 s/t, 16 heads, 83886080/255 = 328965 c·h
    ['40 GiB', 40 * 2 ** 30, {cylinders: 20560, heads: 16, sectorsPerTrack: 255}],
    // beyond 65535·16·255 sectors the geometry saturates
    ['200 GiB', 200 * 2 ** 30, {cylinders: 65535, heads: 16, sectorsPerTrack: 255}],
  ])('%s', (_name, size, expected) => {
    expect(vhdGeometry(size)).toEqual(expected)
  })
})

describe('vhdFooter', () => {
  const uuid = '0123abcd-4567-89ef-0123-456789abcdef'
  const footer = vhdFooter({sizeBytes: 8 * 2 ** 30, epoch: 1_700_000_000, uuid})

  it('is 512 bytes with the fixed fields of the specification, big-endian', () => {
    expect(footer.length).toBe(512)
    expect(footer.subarray(0, 8).toString('latin1')).toBe('conectix')
    expect(footer.subarray(8, 12).toString('hex')).toBe('00000002') // features
    expect(footer.subarray(12, 16).toString('hex')).toBe('00010000') // format version
    expect(footer.subarray(16, 24).toString('hex')).toBe('ffffffffffffffff') // data offset: fixed disk
    // 1700000000 − 946684800 (2000-01-01) = 753315200 = 0x2ce6ad80
    expect(footer.subarray(24, 28).toString('hex')).toBe('2ce6ad80')
    expect(footer.subarray(28, 32).toString('latin1')).toBe('keel')
    expect(footer.subarray(36, 40).toString('latin1')).toBe('Wi2k')
    expect(footer.subarray(40, 48).toString('hex')).toBe('0000000200000000') // original size 8 GiB
    expect(footer.subarray(48, 56).toString('hex')).toBe('0000000200000000') // current size
    // 16644 cylinders = 0x4104, 16 heads, 63 sectors per track
    expect(footer.subarray(56, 60).toString('hex')).toBe('4104103f')
    expect(footer.subarray(60, 64).toString('hex')).toBe('00000002') // disk type fixed
    expect(footer.subarray(68, 84).toString('hex')).toBe('0123abcd456789ef0123456789abcdef')
    expect(footer[84]).toBe(0) // saved state
    expect(footer.subarray(85).every((b) => b === 0)).toBe(true) // reserved
  })

  it('carries the one\'s complement of the byte sum of every other byte as its checksum', () => {
    let sum = 0
    for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += footer[i]!
    expect(footer.readUInt32BE(64)).toBe((0xffffffff - sum) >>> 0)
    expect(vhdChecksum(footer)).toBe(footer.readUInt32BE(64))
  })

  it('clamps a SOURCE_DATE_EPOCH before 2000 to 0 and refuses sizes that are not whole sectors', () => {
    expect(vhdFooter({sizeBytes: 1 << 20, epoch: 0, uuid}).readUInt32BE(24)).toBe(0)
    expect(() => vhdFooter({sizeBytes: 1000, epoch: 0, uuid})).toThrow(/512-byte sectors/)
    expect(() => vhdFooter({sizeBytes: 1 << 20, epoch: 0, uuid: 'nope'})).toThrow(/UUID/)
  })
})

describe('vhdVirtualSize', () => {
  it('rounds up to a whole MiB and leaves MiB multiples alone', () => {
    expect(vhdVirtualSize(2 ** 20)).toBe(2 ** 20)
    expect(vhdVirtualSize(2 ** 20 + 512)).toBe(2 * 2 ** 20)
    expect(vhdVirtualSize(7_784_628_224)).toBe(7_784_628_224) // 7424 MiB exactly
  })
})
