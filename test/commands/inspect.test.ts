import {createHash} from 'node:crypto'
import {copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {loadLayout} from '../../src/disk/layout.js'
import {planDisk} from '../../src/disk/plan.js'
import {writeDisk} from '../../src/disk/write.js'
import {formatVerity} from '../../src/verity/format.js'
import {keel} from '../helpers/cli.js'

const MiB = 1 << 20

describe('keel inspect', () => {
  let dir: string
  let disk: string
  let rootHash: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-inspect-'))
    const usr = Buffer.alloc(2 * MiB)
    for (let off = 0; off < usr.length; off += 32) createHash('sha256').update(String(off)).digest().copy(usr, off)
    writeFileSync(join(dir, 'usr.img'), usr)
    const v = await formatVerity(join(dir, 'usr.img'), join(dir, 'usr.verity'), {salt: Buffer.from('abcd', 'hex'), uuid: '11111111-2222-3333-4444-555555555555'})
    rootHash = v.rootHash
    const sizes = {'EFI-SYSTEM': 4 * MiB, 'USR-A': 4 * MiB, 'USR-A-verity': MiB, 'USR-B': 4 * MiB, 'USR-B-verity': MiB, OEM: MiB, ROOT: 4 * MiB}
    const plan = planDisk(loadLayout('base'), {seed: 'cli', architecture: 'x86-64', sizes, slots: {A: {rootHash}}})
    disk = join(dir, 'disk.img')
    await writeDisk(plan, {'USR-A': join(dir, 'usr.img'), 'USR-A-verity': join(dir, 'usr.verity')}, disk)
  })

  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('prints the partition table, slot state with the root hash, and the layout bar', () => {
    const r = keel(['inspect', disk])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('GPT ok (primary and backup agree)')
    expect(r.stdout).toMatch(/^2 +USR-A +\/usr \(DPS\), x86-64 +10240 +18431 +4\.0 MiB +[0-9a-f-]{36} +read-only$/m)
    expect(r.stdout).toMatch(/^7 +ROOT +root \(DPS\), x86-64 /m)
    expect(r.stdout).toContain('Slots (next boot: USR-A)')
    expect(r.stdout).toMatch(new RegExp(`^> +USR-A +1 +0 +yes +${rootHash}$`, 'm'))
    expect(r.stdout).toMatch(/^ +USR-B +0 +0 +no +- \(no verity superblock\)$/m)
    expect(r.stdout).toMatch(/^\[\.*1+2+3+4+5+6+7+\]$/m)
  })

  it('--json prints the report as JSON only', () => {
    const r = keel(['inspect', disk, '--json'])
    expect(r.status).toBe(0)
    const json = JSON.parse(r.stdout) as {nextBoot: string; partitions: Array<{name: string; firstLba: number; attributes: string}>; slots: Array<{partition: string; verity?: {rootHash: string; partitionUuidsMatch: boolean}}>}
    expect(json.nextBoot).toBe('USR-A')
    expect(json.partitions.map((p) => p.name)).toEqual(['EFI-SYSTEM', 'USR-A', 'USR-A-verity', 'USR-B', 'USR-B-verity', 'OEM', 'ROOT'])
    expect(json.partitions[1]).toMatchObject({firstLba: 10240, attributes: '1101000000000000'})
    expect(json.slots[0]!.verity).toMatchObject({rootHash, partitionUuidsMatch: true})
    expect(json.slots[1]!.verity).toBeUndefined()
  })

  it('a file without a GPT is an integrity error; qcow2 and missing files are input errors', () => {
    writeFileSync(join(dir, 'blank.img'), Buffer.alloc(MiB))
    const blank = keel(['inspect', join(dir, 'blank.img')])
    expect(blank.status).toBe(7)
    expect(blank.stderr).toMatch(/^error: .*blank\.img has no valid GPT/)
    expect(blank.stderr).toContain('primary GPT: no "EFI PART" signature')
    expect(blank.stdout).toBe('')
    const qcow2 = Buffer.alloc(MiB)
    Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]).copy(qcow2)
    writeFileSync(join(dir, 'disk.qcow2'), qcow2)
    const q = keel(['inspect', join(dir, 'disk.qcow2')])
    expect(q.status).toBe(3)
    expect(q.stderr).toMatch(/is a qcow2 image; keel reads raw disks\nhint: convert it first: qemu-img convert -O raw /)
    const missing = keel(['inspect', join(dir, 'nope.img')])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toMatch(/cannot open .*nope\.img: no such file/)
  })

  it('a disk whose primary GPT is damaged is still shown, from the backup, with the problem, and exits 7', () => {
    const damaged = join(dir, 'damaged.img')
    copyFileSync(disk, damaged)
    // Byte 0x10 of LBA 1 is inside the primary header's own CRC32 field.
    const fd = openSync(damaged, 'r+')
    writeSync(fd, Buffer.from([0xde, 0xad]), 0, 2, 512 + 0x10)
    closeSync(fd)
    const r = keel(['inspect', damaged])
    expect(r.status).toBe(7)
    expect(r.stdout).toContain('table read from the backup copy')
    expect(r.stdout).toMatch(/! primary GPT: .*CRC32/)
    expect(r.stdout).toContain('Slots (next boot: USR-A)')
  })
})
