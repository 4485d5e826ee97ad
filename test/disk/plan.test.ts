import {describe, expect, it} from 'vitest'
import {encodeAttributes} from '../../src/disk/attributes.js'
import {validateTable} from '../../src/disk/gpt.js'
import {loadLayout} from '../../src/disk/layout.js'
import {type DiskPlan, planDisk, planToGptTable} from '../../src/disk/plan.js'

const ROOT_HASH_A = 'a1a2a3a4b1b2c1c2d1d2e1e2e3e4e5e6' + 'f1f2f3f4051525354555657585950a0b'

/** One line per partition: what a reviewer checks in the snapshot. */
function table(plan: DiskPlan): string[] {
  return plan.partitions.map(
    (p) => `${p.index} ${p.name.padEnd(12)} ${String(p.firstLba).padStart(8)}-${String(p.lastLba).padEnd(8)} ${String(p.sizeBytes / 2 ** 20).padStart(5)}MiB ${p.attributesHex} ${p.guid} ${p.guidSource.padEnd(16)} ${JSON.stringify(p.content)}`,
  )
}

describe('planDisk', () => {
  const base = loadLayout('base')

  it('lays out the base layout on MiB boundaries (snapshot)', () => {
    const plan = planDisk(base, {seed: 'test-seed', architecture: 'x86-64', slots: {A: {rootHash: ROOT_HASH_A}}})
    expect({...plan, partitions: undefined}).toMatchInlineSnapshot(`
      {
        "alignmentBytes": 1048576,
        "diskGuid": "278afc1a-0569-56a8-9a3c-29d4db40c356",
        "firstUsableLba": 34,
        "lastUsableLba": 15206406,
        "layout": "base",
        "partitions": undefined,
        "sectorSize": 512,
        "sizeBytes": 7785697280,
        "totalSectors": 15206440,
      }
    `)
    expect(table(plan)).toMatchInlineSnapshot(`
      [
        "1 EFI-SYSTEM       2048-2099199   1024MiB 0000000000000000 eb2e34f7-8e11-5ccb-a675-212bddd8110f derived          {"kind":"filesystem","fs":"vfat","label":"EFI-SYSTEM"}",
        "2 USR-A         2099200-6293503   2048MiB 1101000000000000 a1a2a3a4-b1b2-c1c2-d1d2-e1e2e3e4e5e6 verity-root-hash {"kind":"usr","fs":"erofs","slot":"A"}",
        "3 USR-A-verity  6293504-6424575     64MiB 1000000000000000 f1f2f3f4-0515-2535-4555-657585950a0b verity-root-hash {"kind":"verity","slot":"A"}",
        "4 USR-B         6424576-10618879  2048MiB 1000000000000000 863d9369-8609-5fe1-b303-b090f4318418 derived          {"kind":"empty"}",
        "5 USR-B-verity 10618880-10749951    64MiB 1000000000000000 7968e1c4-a0d9-5913-8cc6-685d967200b9 derived          {"kind":"empty"}",
        "6 OEM          10749952-11012095   128MiB 0000000000000000 2234e068-3929-5673-a33d-7a8578a4243d derived          {"kind":"filesystem","fs":"ext4","label":"OEM"}",
        "7 ROOT         11012096-15206399  2048MiB 0800000000000000 38cde0be-7303-50d0-b92e-4fa2b5e1657f derived          {"kind":"filesystem","fs":"ext4","label":"ROOT"}",
      ]
    `)
    expect(plan).toMatchSnapshot()
  })

  it('every partition starts on the alignment and they never overlap; the GPT it describes is valid', () => {
    const plan = planDisk(base, {seed: 's', architecture: 'arm64', slots: {A: {}, B: {}}})
    for (const p of plan.partitions) expect(p.firstLba % 2048).toBe(0)
    expect(validateTable(planToGptTable(plan))).toEqual([])
    expect(plan.partitions[1]!.typeGuid).toBe('b0e01050-ee5f-4390-949a-9101b17104e9')
  })

  it('grows ROOT to fill a given disk size, ending on the last whole MiB before the backup GPT', () => {
    const plan = planDisk(loadLayout('qemu'), {seed: 's', architecture: 'x86-64', slots: {A: {}}})
    expect(plan.sizeBytes).toBe(8 * 2 ** 30)
    const root = plan.partitions.at(-1)!
    expect(root.name).toBe('ROOT')
    expect(root.lastLba).toBe(8 * 2 ** 21 - 2048 - 1) // the final MiB holds the 33-sector backup GPT
    expect(root.lastLba).toBeLessThanOrEqual(plan.lastUsableLba)
  })

  it('a growing partition in the middle pushes the later ones along', () => {
    const layout = {...base, partitions: base.partitions.map((p) => ({...p, grow: p.name === 'OEM'}))}
    const plan = planDisk(layout, {seed: 's', architecture: 'x86-64', diskSize: 10 * 2 ** 30})
    const oem = plan.partitions.find((p) => p.name === 'OEM')!
    const root = plan.partitions.find((p) => p.name === 'ROOT')!
    expect(root.firstLba).toBe(oem.lastLba + 1)
    expect(root.sizeBytes).toBe(2 * 2 ** 30)
    expect(validateTable(planToGptTable(plan))).toEqual([])
  })

  it('azure rounds the disk size to a whole MiB; base only to 4 KiB', () => {
    const inputs = {seed: 's', architecture: 'x86-64' as const}
    expect(planDisk(loadLayout('azure'), inputs).sizeBytes % 2 ** 20).toBe(0)
    expect(planDisk(base, inputs).sizeBytes % 2 ** 20).not.toBe(0)
    expect(planDisk(base, inputs).sizeBytes % 4096).toBe(0)
  })

  it('an empty slot can never boot, whatever the layout says', () => {
    const layout = {...base, partitions: base.partitions.map((p) => (p.name === 'USR-B' ? {...p, attributes: {priority: 9, tries: 3, readOnly: true}} : p))}
    const plan = planDisk(layout, {seed: 's', architecture: 'x86-64', slots: {A: {}}})
    const b = plan.partitions.find((p) => p.name === 'USR-B')!
    expect(b.content).toEqual({kind: 'empty'})
    expect(b.attributesHex).toBe('1000000000000000')
  })

  it('a copy in slot B keeps derived GUIDs so usrhash= names only slot A', () => {
    const plan = planDisk(base, {seed: 's', architecture: 'x86-64', slots: {A: {rootHash: ROOT_HASH_A}, B: {rootHash: ROOT_HASH_A}}})
    const src = Object.fromEntries(plan.partitions.map((p) => [p.name, p.guidSource]))
    expect(src).toMatchObject({'USR-A': 'verity-root-hash', 'USR-A-verity': 'verity-root-hash', 'USR-B': 'derived', 'USR-B-verity': 'derived'})
  })

  it('honours per-partition size overrides and same inputs give the same plan', () => {
    const inputs = {seed: 'x', architecture: 'x86-64' as const, sizes: {'EFI-SYSTEM': 32 * 2 ** 20}, slots: {A: {}}}
    const plan = planDisk(base, inputs)
    expect(plan.partitions[0]!.sizeBytes).toBe(32 * 2 ** 20)
    expect(plan.partitions[1]!.firstLba).toBe(2048 + 32 * 2048)
    expect(planDisk(base, inputs)).toEqual(plan)
    expect(encodeAttributes(plan.partitions[1]!.attributes)).toBe(0x1101000000000000n)
  })

  it('rejects a disk that is too small, sizes for unknown partitions and odd sizes', () => {
    expect(() => planDisk(base, {seed: 's', architecture: 'x86-64', diskSize: 2 ** 30})).toThrow(/needs a disk of at least \d+ bytes/)
    expect(() => planDisk(base, {seed: 's', architecture: 'x86-64', sizes: {SWAP: 2 ** 20}})).toThrow(/unknown partition\(s\): SWAP/)
    expect(() => planDisk(base, {seed: 's', architecture: 'x86-64', sizes: {OEM: 1000}})).toThrow(/not a positive whole number of 512-byte sectors/)
    // 16 MiB of /usr needs a superblock block plus 33 hash blocks of 4 KiB: 136 KiB.
    expect(() => planDisk(base, {seed: 's', architecture: 'x86-64', sizes: {'USR-B': 16 * 2 ** 20, 'USR-B-verity': 64 * 1024}})).toThrow(
      'USR-B-verity (64.0 KiB) cannot hold the verity tree of a full USR-B (16.0 MiB needs 136.0 KiB)',
    )
  })
})
