import {describe, expect, it} from 'vitest'
import {encodeAttributes} from '../../src/disk/attributes.js'
import type {GptTable} from '../../src/disk/gpt.js'
import {inspectGpt, layoutBar, partitionMark, renderInspect} from '../../src/disk/inspect.js'
import {slotPartitions, verityPartnerOf, withSlots} from '../../src/disk/slots.js'
import {attributesHex, installUpdate} from '../../src/disk/attributes.js'
import type {ReadGpt} from '../../src/disk/read.js'

const USR = '8484680c-9521-48c6-9c11-b0720656f69e'
const USR_VERITY = '77ff5f63-e7b6-4633-acf4-1565b864c0e6'
const HASH = 'a1a2a3a4b1b2c1c2d1d2e1e2e3e4e5e6f1f2f3f4051525354555657585950a0b'

const table: GptTable = {
  diskGuid: '278afc1a-0569-56a8-9a3c-29d4db40c356',
  totalSectors: 204800,
  firstUsableLba: 34,
  lastUsableLba: 204766,
  entryCount: 128,
  entrySize: 128,
  partitions: [
    {index: 1, name: 'EFI-SYSTEM', typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', guid: 'eb2e34f7-8e11-5ccb-a675-212bddd8110f', firstLba: 2048, lastLba: 18431, attributes: 0n},
    {index: 2, name: 'USR-A', typeGuid: USR, guid: 'a1a2a3a4-b1b2-c1c2-d1d2-e1e2e3e4e5e6', firstLba: 18432, lastLba: 51199, attributes: encodeAttributes({priority: 1, successful: true, readOnly: true})},
    {index: 3, name: 'USR-A-verity', typeGuid: USR_VERITY, guid: 'f1f2f3f4-0515-2535-4555-657585950a0b', firstLba: 51200, lastLba: 53247, attributes: encodeAttributes({readOnly: true})},
    {index: 4, name: 'USR-B', typeGuid: USR, guid: '863d9369-8609-5fe1-b303-b090f4318418', firstLba: 53248, lastLba: 86015, attributes: encodeAttributes({priority: 2, tries: 1, readOnly: true})},
    {index: 5, name: 'USR-B-verity', typeGuid: USR_VERITY, guid: '7968e1c4-a0d9-5913-8cc6-685d967200b9', firstLba: 86016, lastLba: 88063, attributes: encodeAttributes({readOnly: true})},
    {index: 7, name: 'ROOT', typeGuid: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709', guid: '38cde0be-7303-50d0-b92e-4fa2b5e1657f', firstLba: 108544, lastLba: 204765, attributes: 1n << 59n},
  ],
}

const gpt: ReadGpt = {
  path: 'disk.img',
  sizeBytes: 204800 * 512,
  totalSectors: 204800,
  table,
  source: 'primary',
  mbr: {valid: true, problems: []},
  primary: {valid: true, problems: []},
  backup: {valid: true, problems: []},
  problems: [],
}

const verityA = {partition: 'USR-A-verity', verityPartition: 'USR-A-verity', uuid: '11111111-2222-3333-4444-555555555555', algorithm: 'sha256', dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: 1536, salt: '00112233', rootHash: HASH}

describe('keel inspect report', () => {
  it('pairs each /usr slot with its verity partition', () => {
    expect(slotPartitions(table).map((p) => p.name)).toEqual(['USR-A', 'USR-B'])
    expect(verityPartnerOf(table, table.partitions[3]!)?.name).toBe('USR-B-verity')
    // Without the -verity naming, the partition right after the slot is its partner.
    const renamed = {...table, partitions: table.partitions.map((p) => (p.index === 5 ? {...p, name: 'HASH-B'} : p))}
    expect(verityPartnerOf(renamed, renamed.partitions[3]!)?.name).toBe('HASH-B')
  })

  it('withSlots changes only the slot partitions\' attribute words', () => {
    const next = withSlots(table, (s) => installUpdate(s, 2, 3))
    expect(next.partitions.map((p) => attributesHex(p.attributes))).toEqual([
      '0000000000000000', // ESP untouched
      '1032000000000000', // A: priority 2, 3 tries, not successful, still read-only
      '1000000000000000',
      '1011000000000000', // B: demoted to priority 1, its try and read-only kept
      '1000000000000000',
      '0800000000000000',
    ])
  })

  it('names types, flags and the slot that boots next (B: higher priority, a try left)', () => {
    const r = inspectGpt(gpt, new Map([[2, verityA]]))
    expect(r.partitions.map((p) => [p.index, p.type, p.flags.join(','), p.sizeBytes])).toEqual([
      [1, 'esp', '', 8 * 2 ** 20],
      [2, 'usr', 'read-only', 16 * 2 ** 20],
      [3, 'usr-verity', 'read-only', 2 ** 20],
      [4, 'usr', 'read-only', 16 * 2 ** 20],
      [5, 'usr-verity', 'read-only', 2 ** 20],
      [7, 'root', 'growfs', 96222 * 512],
    ])
    expect(r.slots.map((s) => [s.partition, s.priority, s.tries, s.successful, s.bootable, s.verity?.partitionUuidsMatch ?? null])).toEqual([
      ['USR-A', 1, 0, true, true, true],
      ['USR-B', 2, 1, false, true, null],
    ])
    expect(r.nextBoot).toBe('USR-B')
    expect(JSON.parse(JSON.stringify(r))).toEqual(r) // plain JSON: no bigints
  })

  it('says when the PARTUUIDs were not derived from the root hash', () => {
    const r = inspectGpt(gpt, new Map([[2, {...verityA, rootHash: 'ff'.repeat(32)}]]))
    expect(r.slots[0]!.verity?.partitionUuidsMatch).toBe(false)
  })

  it('draws a proportional bar: columns by size, at least one per partition, gaps as dots', () => {
    const parts = (spans: Array<[number, number, number]>) => spans.map(([index, firstLba, lastLba]) => ({index, firstLba, lastLba}))
    expect(layoutBar({totalSectors: 100, partitions: parts([[1, 0, 49], [2, 50, 99]]) as never}, 10)).toBe('[1111122222]')
    expect(layoutBar({totalSectors: 100, partitions: parts([[1, 0, 0], [2, 1, 59]]) as never}, 10)).toBe('[122222....]')
    expect(layoutBar({totalSectors: 1000, partitions: []}, 4)).toBe('[....]')
    expect([1, 9, 10, 35].map(partitionMark)).toEqual(['1', '9', 'a', 'z'])
  })

  it('renders the table, the slots and the bar (snapshot)', () => {
    const text = renderInspect(inspectGpt(gpt, new Map([[2, verityA]])), 60)
    expect(text).toMatchInlineSnapshot(`
      "Disk disk.img: 100.0 MiB (204800 sectors), GUID 278afc1a-0569-56a8-9a3c-29d4db40c356
      GPT ok (primary and backup agree)

      #  NAME          TYPE                        START     END      SIZE  PARTUUID                              FLAGS
      1  EFI-SYSTEM    EFI System                   2048   18431   8.0 MiB  eb2e34f7-8e11-5ccb-a675-212bddd8110f
      2  USR-A         /usr (DPS), x86-64          18432   51199  16.0 MiB  a1a2a3a4-b1b2-c1c2-d1d2-e1e2e3e4e5e6  read-only
      3  USR-A-verity  /usr verity (DPS), x86-64   51200   53247   1.0 MiB  f1f2f3f4-0515-2535-4555-657585950a0b  read-only
      4  USR-B         /usr (DPS), x86-64          53248   86015  16.0 MiB  863d9369-8609-5fe1-b303-b090f4318418  read-only
      5  USR-B-verity  /usr verity (DPS), x86-64   86016   88063   1.0 MiB  7968e1c4-a0d9-5913-8cc6-685d967200b9  read-only
      7  ROOT          root (DPS), x86-64         108544  204765  47.0 MiB  38cde0be-7303-50d0-b92e-4fa2b5e1657f  growfs

      Slots (next boot: USR-B)
         SLOT   PRIORITY  TRIES  SUCCESSFUL  VERITY ROOT HASH
         USR-A  1         0      yes         a1a2a3a4b1b2c1c2d1d2e1e2e3e4e5e6f1f2f3f4051525354555657585950a0b
      >  USR-B  2         1      no          - (no verity superblock)

      Layout
      [111112222222222344444444445......777777777777777777777777777]
       1 EFI-SYSTEM 8.0 MiB · 2 USR-A 16.0 MiB
       3 USR-A-verity 1.0 MiB · 4 USR-B 16.0 MiB
       5 USR-B-verity 1.0 MiB · 7 ROOT 47.0 MiB"
    `)
  })

  it('lists GPT problems and the copy the table came from', () => {
    const damaged = {...gpt, source: 'backup' as const, problems: ['primary GPT: header CRC32 is 0x00000000, computed 0x12345678']}
    const text = renderInspect(inspectGpt(damaged))
    expect(text.split('\n').slice(1, 3)).toEqual(['GPT has 1 problem (table read from the backup copy)', '  ! primary GPT: header CRC32 is 0x00000000, computed 0x12345678'])
  })
})
