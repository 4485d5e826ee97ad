import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {derivedVolumeId} from '../../src/fsimage/output.js'
import {makeEspImage} from '../../src/fsimage/vfat.js'

// Oracles: fsck.vfat -n (clean) and mtools' mdir/mtype (what a firmware would find), no mount.
const MiB = 1024 * 1024
const EPOCH = 1_700_000_000 // 2023-11-14 22:13:20 UTC
let work: string
let efiBinary: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keel-fsimage-vfat-'))
  efiBinary = join(work, 'systemd-bootx64.efi')
  writeFileSync(efiBinary, Buffer.alloc(70_000, 0x4d))
  // Older than the epoch: the image must still show the epoch, not the host file's time.
  utimesSync(efiBinary, 1_000_000_000, 1_000_000_000)
})
afterAll(() => rmSync(work, {recursive: true, force: true}))

const files = () => ({
  'EFI/BOOT/BOOTX64.EFI': {hostPath: efiBinary},
  'loader/loader.conf': {content: 'default keel-a.conf\ntimeout 0\n'},
  'loader/entries/keel-a.conf': {content: 'title keel (A)\nlinux /keel/a/vmlinuz\n'},
  'keel/a/vmlinuz': {content: Buffer.alloc(5000, 1)},
})

const mtools = {MTOOLS_SKIP_CHECK: '1'}

describe('ESP vfat image', () => {
  it('is clean, labelled EFI-SYSTEM with the derived volume id, and lists every file at the epoch', async () => {
    const out = join(work, 'esp.img')
    const r = await makeEspImage({output: out, sizeBytes: 64 * MiB, seed: 'esp-seed', epoch: EPOCH, files: files()})
    const id = derivedVolumeId('esp-seed', 'esp').toUpperCase()
    expect(r).toMatchObject({filesystem: 'vfat', label: 'EFI-SYSTEM', uuid: `${id.slice(0, 4)}-${id.slice(4)}`, size: 64 * MiB, files: 4})
    expect(r.sha256).toBe(createHash('sha256').update(readFileSync(out)).digest('hex'))
    expect(r.tools).toEqual({'mkfs.vfat': expect.stringMatching(/^mkfs\.fat \d/), mtools: expect.stringMatching(/^mcopy \(GNU mtools\) \d/)})
    expect((await run('fsck.vfat', ['-n', out])).stdout).toMatch(/5 files|files, \d+\/\d+ clusters/)
    const listing = (await run('mdir', ['-i', out, '-/', '::/'], {env: mtools})).stdout
    expect(listing).toContain('Volume in drive : is EFI-SYSTEM')
    expect(listing).toContain(`Volume Serial Number is ${id.slice(0, 4)}-${id.slice(4)}`)
    expect(listing).toMatch(/BOOTX64\s+EFI\s+70000 2023-11-14\s+22:13/)
    expect(listing).toMatch(/\s+30 2023-11-14\s+22:13\s+loader\.conf/)
    expect(listing).toMatch(/keel-a\.conf/)
    const stamps = new Set(listing.match(/\d{4}-\d\d-\d\d\s+\d\d:\d\d/g)!.map((t) => t.replace(/\s+/, ' ')))
    expect([...stamps]).toEqual(['2023-11-14 22:13'])
    const copy = join(work, 'loader.conf.out')
    await run('mcopy', ['-i', out, '::/loader/loader.conf', copy], {env: mtools})
    expect(readFileSync(copy, 'utf8')).toBe('default keel-a.conf\ntimeout 0\n')
    expect(readFileSync(join(work, 'loader.conf.out')).length).toBe(30)
  })

  it('gives the same bytes at another time and from files given in another order', async () => {
    const a = await makeEspImage({output: join(work, 'a.img'), sizeBytes: 64 * MiB, seed: 'esp-seed', epoch: EPOCH, files: files()})
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const reordered = Object.fromEntries(Object.entries(files()).reverse())
    const b = await makeEspImage({output: join(work, 'b.img'), sizeBytes: 64 * MiB, seed: 'esp-seed', epoch: EPOCH, files: reordered})
    expect(b.sha256).toBe(a.sha256)
  })
})
