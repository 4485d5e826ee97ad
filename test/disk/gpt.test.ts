import zlib from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {
  checkHeaderPlacement,
  checkProtectiveMbr,
  crc32,
  decodeEntryArray,
  decodeHeader,
  encodeGpt,
  type GptTable,
  gptGeometry,
  validateTable,
} from '../../src/disk/gpt.js'

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926)
    expect(crc32(Buffer.alloc(0))).toBe(0)
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339)
  })

  it.runIf(typeof (zlib as {crc32?: unknown}).crc32 === 'function')('agrees with node:zlib on 16 KiB of varied bytes', () => {
    const data = Buffer.alloc(16384)
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 7)) & 0xff
    expect(crc32(data)).toBe((zlib as unknown as {crc32(d: Uint8Array): number}).crc32(data))
  })
})

const TOTAL = 100 * 2048 // 100 MiB
const table: GptTable = {
  diskGuid: '01234567-89ab-cdef-0123-456789abcdef',
  totalSectors: TOTAL,
  firstUsableLba: 34,
  lastUsableLba: TOTAL - 34,
  entryCount: 128,
  entrySize: 128,
  partitions: [
    {index: 1, typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', guid: 'aaaaaaaa-0000-4000-8000-000000000001', firstLba: 2048, lastLba: 4095, attributes: 1n, name: 'EFI-SYSTEM'},
    {index: 3, typeGuid: '8484680c-9521-48c6-9c11-b0720656f69e', guid: 'aaaaaaaa-0000-4000-8000-000000000003', firstLba: 4096, lastLba: 8191, attributes: 0x0101000000000000n, name: 'USR-Ä'},
  ],
}

describe('GPT encoding', () => {
  const gpt = encodeGpt(table)

  it('places the copies where UEFI expects them', () => {
    expect(gpt.primary.length).toBe(34 * 512)
    expect(gpt.backup.length).toBe(33 * 512)
    expect(gpt.backupOffset).toBe((TOTAL - 33) * 512)
    expect(gptGeometry(TOTAL)).toMatchObject({firstUsableLba: 34, lastUsableLba: TOTAL - 34, backupEntriesLba: TOTAL - 33, backupHeaderLba: TOTAL - 1})
  })

  it('writes a protective MBR: one 0xEE partition from LBA 1 over the disk, signature 55 AA', () => {
    const mbr = gpt.primary.subarray(0, 512)
    expect(mbr[446 + 4]).toBe(0xee)
    expect(mbr.readUInt32LE(446 + 8)).toBe(1)
    expect(mbr.readUInt32LE(446 + 12)).toBe(TOTAL - 1)
    expect([mbr[510], mbr[511]]).toEqual([0x55, 0xaa])
    expect(checkProtectiveMbr(mbr)).toEqual([])
    expect(checkProtectiveMbr(Buffer.alloc(512))).toEqual(['no MBR boot signature 0x55AA at LBA 0'])
  })

  it('writes header fields at their spec offsets', () => {
    const h = gpt.primary.subarray(512, 1024)
    expect(h.subarray(0, 8).toString('latin1')).toBe('EFI PART')
    expect([...h.subarray(8, 16)]).toEqual([0x00, 0x00, 0x01, 0x00, 0x5c, 0x00, 0x00, 0x00]) // revision 1.0, size 92
    expect(h.readBigUInt64LE(24)).toBe(1n)
    expect(h.readBigUInt64LE(32)).toBe(BigInt(TOTAL - 1))
    expect(h.readBigUInt64LE(72)).toBe(2n)
    expect(h.readUInt32LE(80)).toBe(128)
    expect(h.readUInt32LE(84)).toBe(128)
    expect(h.subarray(92).every((b) => b === 0)).toBe(true)
    // The entry array CRC covers all 128 entries.
    expect(h.readUInt32LE(88)).toBe(crc32(gpt.primary.subarray(1024)))
  })

  it('writes entry 3 at its slot, name in UTF-16LE, attributes little-endian', () => {
    const e = gpt.primary.subarray(1024 + 2 * 128, 1024 + 3 * 128)
    expect(e.readBigUInt64LE(48)).toBe(0x0101000000000000n)
    expect(e.subarray(56, 68)).toEqual(Buffer.from([0x55, 0, 0x53, 0, 0x52, 0, 0x2d, 0, 0xc4, 0, 0, 0]))
    expect(gpt.primary.subarray(1024 + 128, 1024 + 256).every((b) => b === 0)).toBe(true) // entry 2 unused
  })

  it('decodes what it encodes, both copies', () => {
    const primary = decodeHeader(gpt.primary.subarray(512, 1024))
    const backup = decodeHeader(gpt.backup.subarray(32 * 512))
    expect(primary.problems).toEqual([])
    expect(backup.problems).toEqual([])
    expect(checkHeaderPlacement(primary.header!, 'primary', TOTAL)).toEqual([])
    expect(checkHeaderPlacement(backup.header!, 'backup', TOTAL)).toEqual([])
    expect(backup.header).toMatchObject({myLba: TOTAL - 1, alternateLba: 1, entriesLba: TOTAL - 33, diskGuid: table.diskGuid})
    expect(decodeEntryArray(gpt.primary.subarray(1024), 128, 128)).toEqual(table.partitions)
    expect(gpt.backup.subarray(0, 32 * 512)).toEqual(gpt.primary.subarray(1024))
  })

  it('reports a damaged header instead of trusting it', () => {
    const h = Buffer.from(gpt.primary.subarray(512, 1024))
    h[60] ^= 0xff
    expect(decodeHeader(h).problems[0]).toMatch(/^header CRC32 is 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}$/)
    expect(decodeHeader(Buffer.alloc(512)).problems).toEqual(['no "EFI PART" signature'])
    const primaryHeader = decodeHeader(gpt.primary.subarray(512, 1024)).header!
    expect(checkHeaderPlacement(primaryHeader, 'backup', TOTAL)).toEqual(['my LBA is 1, expected 204799', 'alternate LBA is 204799, expected 1', 'entry array at LBA 2 overlaps the usable area or the header'])
    // A grown disk: the primary is still valid; a shrunk one is not.
    expect(checkHeaderPlacement(primaryHeader, 'primary', TOTAL + 2048)).toEqual([])
    expect(checkHeaderPlacement(primaryHeader, 'primary', TOTAL - 2048)).toEqual(["alternate LBA 204799 is not between the usable area and the disk's last LBA 202751"])
  })

  it('refuses overlapping, out-of-range and duplicate partitions', () => {
    const bad: GptTable = {
      ...table,
      partitions: [
        {...table.partitions[0]!, lastLba: 5000},
        {...table.partitions[1]!, guid: table.partitions[0]!.guid},
        {...table.partitions[1]!, index: 4, guid: 'aaaaaaaa-0000-4000-8000-000000000004', firstLba: 10, lastLba: 20},
      ],
    }
    expect(validateTable(bad)).toEqual([
      'partition 4 (10–20) lies outside the usable LBAs 34–204766',
      'partitions 1 and 3 share GUID aaaaaaaa-0000-4000-8000-000000000001',
      'partitions 1 and 3 overlap',
    ])
    expect(() => encodeGpt(bad)).toThrow(/invalid partition table/)
  })
})
