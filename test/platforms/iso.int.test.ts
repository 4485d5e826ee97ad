import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {makeLiveIso} from '../../src/platforms/iso.js'

// Oracles: xorriso reads back the El Torito catalog and the system area, sfdisk the GPT a USB stick's firmware
// sees, mtools the FAT boot image inside it. (The ISO really booting is test/platforms/live.boot.test.ts.)
const work = mkdtempSync(join(tmpdir(), 'keel-iso-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const CMDLINE = 'root=tmpfs rw ignition.platform.id=metal ignition.firstboot console=ttyS0,115200n8'

describe('makeLiveIso', () => {
  const kernel = join(work, 'vmlinuz')
  const initrd = join(work, 'initrd')
  const iso = join(work, 'a.iso')
  const again = join(work, 'b.iso')
  const opts = {kernel, initrd, cmdline: CMDLINE, image: {name: 'keel', version: '0.1.0'}, seed: 'test-seed', epoch: 1700000000, scratch: join(work, 'scratch')}

  beforeAll(async () => {
    mkdirSync(opts.scratch)
    writeFileSync(kernel, Buffer.alloc(3 * 1024 * 1024, 0x4b))
    // Over 32 MiB: El Torito's 16-bit sector count cannot say the image's size.
    writeFileSync(initrd, Buffer.alloc(40 * 1024 * 1024 + 5, 0x49))
    await makeLiveIso({...opts, out: iso})
    await new Promise((r) => setTimeout(r, 1100))
    await makeLiveIso({...opts, out: again})
  }, 300_000)

  it('has one UEFI El Torito boot image, /efi.img, with the load size left to the end of the medium', async () => {
    const r = await run('xorriso', ['-no_rc', '-indev', iso, '-report_el_torito', 'plain'])
    const stdout = r.stdout + r.stderr
    expect(stdout).toMatch(/^Volume id +: 'KEEL_0_1_0_LIVE'$/m)
    expect(stdout).toMatch(/^El Torito boot img : +1 +UEFI +y +none +0x0000 +0x00 +0 +\d+$/m)
    expect(stdout).toMatch(/^El Torito img path : +1 +\/efi\.img$/m)
  })

  it('is a GPT disk behind a protective MBR whose one partition is the EFI system partition', async () => {
    const {stdout: area} = await run('xorriso', ['-no_rc', '-indev', iso, '-report_system_area', 'plain'])
    expect(area).toMatch(/^MBR partition +: +1 +0x00 +0xee /m)
    const table = JSON.parse((await run('sfdisk', ['--json', iso])).stdout).partitiontable
    expect(table.label).toBe('gpt')
    expect(table.partitions).toHaveLength(1)
    expect(table.partitions[0].type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B')
  })

  it('carries systemd-boot, the live entry, the kernel and the initrd in that partition', async () => {
    const table = JSON.parse((await run('sfdisk', ['--json', iso])).stdout).partitiontable
    const {start, size} = table.partitions[0]
    const esp = join(work, 'esp.img')
    writeFileSync(esp, readFileSync(iso).subarray(start * 512, (start + size) * 512))
    const env = {MTOOLS_SKIP_CHECK: '1'}
    const type = async (path: string) => (await run('mcopy', ['-i', esp, `::/${path}`, '-'], {env})).stdout
    expect(await type('loader/loader.conf')).toMatch(/^default keel-live\.conf\n/)
    expect(await type('loader/entries/keel-live.conf')).toContain(`\noptions ${CMDLINE}\n`)
    const bytes = async (path: string) => {
      const out = join(work, path.replace(/\//g, '_'))
      await run('mcopy', ['-i', esp, '-o', `::/${path}`, out], {env})
      return createHash('sha256').update(readFileSync(out)).digest('hex')
    }
    expect(await bytes('keel/initrd')).toBe(createHash('sha256').update(readFileSync(initrd)).digest('hex'))
    expect(await bytes('EFI/BOOT/BOOTX64.EFI')).toBe(createHash('sha256').update(readFileSync('/usr/lib/systemd/boot/efi/systemd-bootx64.efi')).digest('hex'))
  })

  it('gives the same bytes when made again later', () => {
    const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex')
    expect(digest(again)).toBe(digest(iso))
  })
})
