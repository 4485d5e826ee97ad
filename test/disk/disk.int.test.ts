import {copyFileSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, writeFileSync, writeSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {sha256File} from '../../src/core/hashing.js'
import {decodeAttributes, installUpdate, markSlotGood} from '../../src/disk/attributes.js'
import {inspectGpt} from '../../src/disk/inspect.js'
import {loadLayout} from '../../src/disk/layout.js'
import {type DiskPlan, planDisk} from '../../src/disk/plan.js'
import {readGpt} from '../../src/disk/read.js'
import {readSlotVerity} from '../../src/disk/verity-info.js'
import {rewriteGpt, updateSlots, writeDisk} from '../../src/disk/write.js'
import {run} from '../../src/exec/run.js'
import {pseudoRandomBytes} from '../helpers/bytes.js'
import {sgdiskInfo} from '../helpers/sgdisk.js'

const MiB = 1 << 20
const SIZES = {'EFI-SYSTEM': 8 * MiB, 'USR-A': 16 * MiB, 'USR-A-verity': MiB, 'USR-B': 16 * MiB, 'USR-B-verity': MiB, OEM: 4 * MiB, ROOT: 8 * MiB}


describe('GPT disks written by keel, checked by sgdisk and sfdisk', () => {
  let dir: string
  let disk: string
  let plan: DiskPlan
  let rootHash: string
  let usrA: Buffer

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-disk-'))
    usrA = pseudoRandomBytes(6 * MiB, 'usr-a')
    writeFileSync(join(dir, 'usr-a.img'), usrA)
    writeFileSync(join(dir, 'esp.img'), pseudoRandomBytes(MiB + 512, 'esp'))
    // The oracle makes the hash device: keel must place it so its own reader finds veritysetup's root hash.
    const vs = await run('veritysetup', ['format', join(dir, 'usr-a.img'), join(dir, 'usr-a.verity'), '--salt', '00112233', '--uuid', '11111111-2222-3333-4444-555555555555'])
    rootHash = /^Root hash:\s+([0-9a-f]{64})$/m.exec(vs.stdout)![1]!
    plan = planDisk(loadLayout('base'), {seed: 'int-test', architecture: 'x86-64', sizes: SIZES, slots: {A: {rootHash}}})
    disk = join(dir, 'disk.img')
    await writeDisk(plan, {'EFI-SYSTEM': join(dir, 'esp.img'), 'USR-A': join(dir, 'usr-a.img'), 'USR-A-verity': join(dir, 'usr-a.verity')}, disk)
  })

  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('sgdisk -v finds no problems', async () => {
    const r = await run('sgdisk', ['-v', disk])
    expect(r.stdout).toMatch(/^No problems found\./m)
  })

  it('sgdisk -i shows our type GUIDs, partition GUIDs, sectors, names and attribute bits', async () => {
    for (const p of plan.partitions) {
      expect(await sgdiskInfo(disk, p.index)).toEqual({typeGuid: p.typeGuid, guid: p.guid, first: p.firstLba, last: p.lastLba, attributes: p.attributesHex, name: p.name})
    }
    // Hand-checked against the DPS text and the layout: USR-A is x86-64 /usr, priority 1, successful, read-only.
    const usr = await sgdiskInfo(disk, 2)
    expect(usr.typeGuid).toBe('8484680c-9521-48c6-9c11-b0720656f69e')
    expect(usr.attributes).toBe('1101000000000000')
    expect(usr.guid).toBe(`${rootHash.slice(0, 8)}-${rootHash.slice(8, 12)}-${rootHash.slice(12, 16)}-${rootHash.slice(16, 20)}-${rootHash.slice(20, 32)}`)
  })

  it('sfdisk --json lists the same partitions, start sectors and sizes', async () => {
    const json = JSON.parse((await run('sfdisk', ['--json', disk])).stdout) as {
      partitiontable: {label: string; id: string; firstlba: number; lastlba: number; partitions: Array<{start: number; size: number; type: string; uuid: string; name: string}>}
    }
    const t = json.partitiontable
    expect({label: t.label, id: t.id.toLowerCase(), firstlba: t.firstlba, lastlba: t.lastlba}).toEqual({label: 'gpt', id: plan.diskGuid, firstlba: 34, lastlba: plan.totalSectors - 34})
    expect(t.partitions.map((p) => [p.start, p.size, p.type.toLowerCase(), p.uuid.toLowerCase(), p.name])).toEqual(
      plan.partitions.map((p) => [p.firstLba, p.sizeBytes / 512, p.typeGuid, p.guid, p.name]),
    )
  })

  it('copies each content image to its partition and leaves the rest zero', () => {
    const fd = openSync(disk, 'r')
    try {
      const usr = plan.partitions.find((p) => p.name === 'USR-A')!
      const got = Buffer.alloc(usrA.length + 4096)
      readSync(fd, got, 0, got.length, usr.offsetBytes)
      expect(got.subarray(0, usrA.length).equals(usrA)).toBe(true)
      expect(got.subarray(usrA.length).every((b) => b === 0)).toBe(true)
    } finally {
      closeSync(fd)
    }
  })

  it('finds the root hash veritysetup printed, and the slot PARTUUIDs derived from it', async () => {
    const gpt = await readGpt(disk)
    expect(gpt.problems).toEqual([])
    const verity = await readSlotVerity(disk, gpt.table)
    const report = inspectGpt(gpt, verity)
    expect(report.slots.map((s) => [s.partition, s.verity?.rootHash ?? null, s.verity?.partitionUuidsMatch ?? null])).toEqual([
      ['USR-A', rootHash, true],
      ['USR-B', null, null],
    ])
    expect(report.slots[0]!.verity).toMatchObject({salt: '00112233', uuid: '11111111-2222-3333-4444-555555555555', dataBlocks: 1536, verityPartition: 'USR-A-verity'})
    expect(report.nextBoot).toBe('USR-A')
  })

  it('the same inputs give a byte-identical disk', async () => {
    const again = join(dir, 'again.img')
    await writeDisk(plan, {'USR-A-verity': join(dir, 'usr-a.verity'), 'USR-A': join(dir, 'usr-a.img'), 'EFI-SYSTEM': join(dir, 'esp.img')}, again)
    expect(await sha256File(again)).toEqual(await sha256File(disk))
  })

  it('slot bits flipped by keel are what sgdisk -A N:show reports, and the GPT stays valid', async () => {
    const copy = join(dir, 'slots.img')
    copyFileSync(disk, copy)
    await updateSlots(copy, (s) => installUpdate(s, 4, 1))
    const show = async (n: number) => (await run('sgdisk', ['-A', `${n}:show`, copy])).stdout.trim().split('\n').map((l) => l.replace(/ \(.*\)$/, ''))
    expect(await show(2)).toEqual(['2:48:1', '2:56:1', '2:60:1']) // A: priority 1, successful, read-only
    expect(await show(4)).toEqual(['4:49:1', '4:52:1', '4:60:1']) // B: priority 2, one try, read-only
    expect((await run('sgdisk', ['-v', copy])).stdout).toMatch(/^No problems found\./m)
    await updateSlots(copy, (s) => markSlotGood(s, 4))
    expect(await show(4)).toEqual(['4:49:1', '4:56:1', '4:60:1'])
    const after = await readGpt(copy)
    expect(after.problems).toEqual([])
    expect(decodeAttributes(after.table.partitions.find((p) => p.index === 4)!.attributes)).toMatchObject({priority: 2, tries: 0, successful: true})
  })

  it('a corrupted primary header is reported and the table recovered from the backup, then repaired', async () => {
    const copy = join(dir, 'corrupt.img')
    copyFileSync(disk, copy)
    const fd = openSync(copy, 'r+')
    writeSync(fd, Buffer.from([0xff]), 0, 1, 512 + 40) // inside first usable LBA: the header CRC no longer matches
    closeSync(fd)
    const damaged = await readGpt(copy)
    expect(damaged.source).toBe('backup')
    expect(damaged.primary.valid).toBe(false)
    expect(damaged.problems).toEqual([expect.stringMatching(/^primary GPT: header CRC32 is 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}$/)])
    const healthy = await readGpt(disk)
    expect(damaged.table).toEqual(healthy.table)
    // sgdisk agrees that the main header is bad.
    const sg = await run('sgdisk', ['-v', copy])
    expect(sg.stderr).toMatch(/invalid main GPT header, but valid backup/)
    expect(sg.stderr).toMatch(/^Main header: ERROR$/m)
    await rewriteGpt(copy, (t) => t)
    expect((await readGpt(copy)).problems).toEqual([])
    expect(await sha256File(copy)).toEqual(await sha256File(disk))
  })

  it('a grown disk is noted (sgdisk agrees), still read from the primary, and rewriteGpt moves the backup to the end', async () => {
    const copy = join(dir, 'grown.img')
    copyFileSync(disk, copy)
    const fd = openSync(copy, 'r+')
    writeSync(fd, Buffer.alloc(1), 0, 1, plan.sizeBytes + 10 * MiB - 1)
    closeSync(fd)
    const grown = await readGpt(copy)
    expect(grown.source).toBe('primary')
    expect(grown.problems).toEqual([`disk: the GPT was written for ${plan.totalSectors} sectors but the disk has ${plan.totalSectors + 20480} (grown?); the backup is not at the end`])
    expect(grown.table.partitions).toEqual((await readGpt(disk)).table.partitions)
    expect((await run('sgdisk', ['-v', copy], {okExitCodes: [1, 2, 3, 4]})).stdout).toMatch(/secondary header's self-pointer indicates that it doesn't reside\s+at the end of the disk/)
    await rewriteGpt(copy, (t) => t)
    expect((await readGpt(copy)).problems).toEqual([])
    expect((await run('sgdisk', ['-v', copy])).stdout).toMatch(/^No problems found\./m)
  })

  it('a corrupted primary entry array is caught by its CRC; both copies broken is an integrity error', async () => {
    const copy = join(dir, 'entries.img')
    copyFileSync(disk, copy)
    const fd = openSync(copy, 'r+')
    writeSync(fd, Buffer.from('X'), 0, 1, 1024 + 56) // first letter of partition 1's name
    const damaged = await readGpt(copy)
    expect(damaged.problems).toEqual([expect.stringMatching(/^primary GPT: entry array CRC32 is/)])
    expect(damaged.table.partitions[0]!.name).toBe('EFI-SYSTEM')
    writeSync(fd, Buffer.from('X'), 0, 1, (plan.totalSectors - 33) * 512 + 56)
    closeSync(fd)
    await expect(readGpt(copy)).rejects.toMatchObject({exit: 'integrity', message: expect.stringMatching(/has no valid GPT/)})
  })

  it('reads a GPT that sgdisk wrote: same partitions as sgdisk -i reports', async () => {
    const other = join(dir, 'sgdisk.img')
    const fd = openSync(other, 'w')
    writeSync(fd, Buffer.alloc(1), 0, 1, 40 * MiB - 1)
    closeSync(fd)
    await run('sgdisk', ['-n', '1:2048:+4M', '-t', '1:ef00', '-c', '1:ESP', '-n', '3:0:+8M', '-t', '3:8314', '-c', '3:USR-A', '-A', '3:set:48', '-A', '3:set:56', other])
    const gpt = await readGpt(other)
    expect(gpt.problems).toEqual([])
    for (const p of gpt.table.partitions) {
      const info = await sgdiskInfo(other, p.index)
      expect({typeGuid: p.typeGuid, guid: p.guid, first: p.firstLba, last: p.lastLba, attributes: p.attributes.toString(16).padStart(16, '0'), name: p.name}).toEqual(info)
    }
    expect(gpt.table.partitions.map((p) => p.index)).toEqual([1, 3])
    expect(readFileSync(other).subarray(510, 512)).toEqual(Buffer.from([0x55, 0xaa]))
  })
})
