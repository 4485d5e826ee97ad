import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {espEntries, FIRST_BOOT_ENTRY, loaderConf} from '../../src/boot/entries.js'
import {kernelCommandLine} from '../../src/boot/cmdline.js'
import {copySlot, readBootEntryNames, readEspText} from '../../src/boot/slot-install-io.js'
import {loadLayout} from '../../src/disk/layout.js'
import {planDisk} from '../../src/disk/plan.js'
import {writeDisk} from '../../src/disk/write.js'
import {run} from '../../src/exec/run.js'
import {makeEspImage} from '../../src/fsimage/index.js'
import {pseudoRandomBytes} from '../helpers/bytes.js'

// copySlot on a real disk image, read back with the oracles: veritysetup verifies slot B's bytes against
// A's root hash, sgdisk reads B's new GUIDs and A/B bits, mtools lists and reads the ESP.

const MiB = 1 << 20
const SIZES = {'EFI-SYSTEM': 64 * MiB, 'USR-A': 16 * MiB, 'USR-A-verity': MiB, 'USR-B': 16 * MiB, 'USR-B-verity': MiB, OEM: 4 * MiB, ROOT: 8 * MiB}


describe('copySlot: slot A copied into B as an updater installs it', () => {
  let dir: string
  let disk: string
  let rootHash: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-slot-io-'))
    writeFileSync(join(dir, 'usr-a.img'), pseudoRandomBytes(6 * MiB, 'usr-a'))
    const vs = await run('veritysetup', ['format', join(dir, 'usr-a.img'), join(dir, 'usr-a.verity'), '--salt', '00112233'])
    rootHash = /^Root hash:\s+([0-9a-f]{64})$/m.exec(vs.stdout)![1]!
    const plan = planDisk(loadLayout('base'), {seed: 'slot-io', architecture: 'x86-64', sizes: SIZES, slots: {A: {rootHash}}})
    const cmdline = (firstBoot: boolean) => kernelCommandLine({usrHash: rootHash, usrFs: 'erofs', root: 'PARTLABEL=ROOT', firstBoot, platform: 'qemu', extra: ['console=ttyS0']})
    writeFileSync(join(dir, 'vmlinuz'), 'kernel bytes')
    writeFileSync(join(dir, 'initrd'), 'initrd bytes')
    const entries = espEntries({slot: 'A', kernelPath: '/keel/vmlinuz-a', initrdPaths: ['/keel/initrd-a'], cmdline, title: 'keel 1.0 (slot A)', version: '1.0', firstBoot: true})
    await makeEspImage({
      output: join(dir, 'esp.img'),
      sizeBytes: SIZES['EFI-SYSTEM'],
      seed: 'slot-io',
      epoch: 0,
      files: {
        // after the first boot: keel-firstboot-done set the normal entry and removed the first-boot one
        'loader/loader.conf': {content: loaderConf('keel-a.conf')},
        'loader/entries/keel-a.conf': {content: entries['loader/entries/keel-a.conf']!},
        'keel/vmlinuz-a': {hostPath: join(dir, 'vmlinuz')},
        'keel/initrd-a': {hostPath: join(dir, 'initrd')},
      },
    })
    disk = join(dir, 'disk.img')
    await writeDisk(plan, {'EFI-SYSTEM': join(dir, 'esp.img'), 'USR-A': join(dir, 'usr-a.img'), 'USR-A-verity': join(dir, 'usr-a.verity')}, disk)
    expect(FIRST_BOOT_ENTRY).not.toBe('keel-a.conf')
  })

  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('B verifies against A\'s root hash, names its own partitions, is on trial in the GPT, and boots from its own files', async () => {
    const plan = await copySlot(disk, {from: 'A', to: 'B', tries: 2, extraArgs: ['keel.test=1']})
    // B's bytes, cut out of the disk, verify against A's root hash (veritysetup is the oracle).
    const b = plan.partitions
    const raw = readFileSync(disk)
    writeFileSync(join(dir, 'b.img'), raw.subarray(b.usr.offsetBytes, b.usr.offsetBytes + 6 * MiB))
    writeFileSync(join(dir, 'b.verity'), raw.subarray(b.verity.offsetBytes, b.verity.offsetBytes + b.verity.sizeBytes))
    await run('veritysetup', ['verify', join(dir, 'b.img'), join(dir, 'b.verity'), rootHash])

    const info = (await run('sgdisk', ['-i', String(b.usr.index), disk])).stdout
    expect(/^Partition unique GUID: (\S+)/m.exec(info)![1]!.toLowerCase()).toBe(b.usr.guid)
    // priority 2 (bits 48-51), tries 2 (52-55), not successful; read-only (60) kept from the layout
    expect(/^Attribute flags: (\S+)/m.exec(info)![1]!.toLowerCase()).toBe('1022000000000000')
    const a = (await run('sgdisk', ['-i', '2', disk])).stdout
    expect(/^Attribute flags: (\S+)/m.exec(a)![1]!.toLowerCase()).toBe('1101000000000000')
    expect((await run('sgdisk', ['-v', disk])).stdout).toMatch(/No problems found/)

    expect(await readBootEntryNames(disk)).toEqual(['keel-a.conf', 'keel-b+2.conf'])
    expect(await readEspText(disk, 'loader/loader.conf')).toMatch(/^default keel-\[ab\]\[\+\.\]\*$/m)
    const entry = await readEspText(disk, 'loader/entries/keel-b+2.conf')
    expect(entry).toMatch(/^linux \/keel\/vmlinuz-b$/m)
    expect(entry).toMatch(/^version 1\.0$/m)
    expect(entry).toContain(`systemd.verity_usr_data=PARTUUID=${b.usr.guid} systemd.verity_usr_hash=PARTUUID=${b.verity.guid}`)
    expect(entry).toMatch(/ console=ttyS0 keel\.test=1$/m)
    expect(await readEspText(disk, 'keel/initrd-b')).toBe('initrd bytes')
  })

  it('installing B again replaces its entry, whatever state the old one was in', async () => {
    await copySlot(disk, {from: 'A', to: 'B', version: '0.9'})
    expect(await readBootEntryNames(disk)).toEqual(['keel-a.conf', 'keel-b.conf'])
  })
})
