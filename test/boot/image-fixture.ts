import {readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {bootEntry, kernelCommandLine, loaderConf} from '../../src/boot/cmdline.js'
import {planDisk} from '../../src/disk/plan.js'
import {loadLayout} from '../../src/disk/layout.js'
import {writeDisk} from '../../src/disk/write.js'
import {makeEspImage, makeRootImage, makeUsrImage} from '../../src/fsimage/index.js'
import type {RootTree} from '../../src/rootfs/tree.js'
import {deriveVerityIdentity, formatVerity} from '../../src/verity/format.js'

/**
 * Assembles a bootable qemu disk from a composed tree and an initrd the way src/boot/README.md describes:
 * erofs /usr + its verity partition, ext4 ROOT with everything else, an ESP with systemd-boot, the kernel,
 * the initrd and one BLS entry, all in the qemu GPT layout. `keel build` owns the production pipeline; this
 * is the boot test's copy of it, including the image fix-ups the boot needed (IMAGE_BOOT_FIXUPS).
 */
export interface FixtureImage {
  disk: string
  rootHash: string
  cmdline: string
}

export const SYSTEMD_BOOT = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi'

/**
 * What a booting image needed beyond the rootfs stage's fix-ups (each found by booting; see the README).
 * Applied to the tree, so they land on ROOT exactly as a fix-up would put them there.
 */
export function applyImageBootFixups(tree: RootTree): void {
  const owner = 'keel:boot-fixture'
  // Debian's Ignition relabels for SELinux; without SELINUXTYPE it fails, with it it runs setfiles (a no-op in the initrd).
  tree.writeFile('etc/selinux/config', 'SELINUX=disabled\nSELINUXTYPE=default\n', {owner})
  // systemd-firstboot prompts on the console on a first boot (machine-id "uninitialized") and blocks sysinit.
  tree.remove('etc/systemd/system/systemd-firstboot.service')
  tree.symlink('etc/systemd/system/systemd-firstboot.service', '/dev/null', {owner})
  // networkd configures nothing without a .network file; QEMU's user network (and most clouds) speak DHCP.
  tree.writeFile('etc/systemd/network/80-keel-dhcp.network', '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n', {owner})
  // OpenSSH 9.2 takes AuthorizedKeysFile literally (no globs); Ignition writes authorized_keys.d/ignition.
  tree.writeFile('etc/ssh/sshd_config.d/05-keel-ignition-keys.conf', 'AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys.d/ignition\n', {owner})
}

export interface AssembleOptions {
  tree: RootTree
  initrd: string
  work: string
  epoch: number
  seed?: string
  extraKernelArgs?: readonly string[]
}

export async function assembleImage(o: AssembleOptions): Promise<FixtureImage> {
  const seed = o.seed ?? 'keel-boot-fixture'
  const {tree, work, epoch} = o
  const kernel = readdirSync(tree.hostPath('boot')).find((n) => n.startsWith('vmlinuz-'))
  if (!kernel) throw new Error('no kernel in the tree\'s /boot')
  applyImageBootFixups(tree)
  const layout = loadLayout('qemu')

  const usr = await makeUsrImage(tree, {filesystem: 'erofs', compression: 'lz4', output: join(work, 'usr.erofs'), seed, epoch})
  const verityPath = join(work, 'usr.verity')
  rmSync(verityPath, {force: true})
  const id = deriveVerityIdentity(seed)
  const verity = await formatVerity(usr.path, verityPath, {salt: id.salt, uuid: id.uuid})

  const plan = planDisk(layout, {seed, architecture: 'x86-64', usrFilesystem: 'erofs', slots: {A: {rootHash: verity.rootHash}}})
  const size = (name: string): number => plan.partitions.find((p) => p.name === name)!.sizeBytes
  const root = await makeRootImage(tree, {output: join(work, 'root.ext4'), sizeBytes: size('ROOT'), seed, epoch, label: 'ROOT'})

  const cmdline = kernelCommandLine({usrHash: verity.rootHash, usrFs: 'erofs', root: 'PARTLABEL=ROOT', firstBoot: true, platform: 'qemu', extra: ['console=ttyS0,115200n8', ...(o.extraKernelArgs ?? [])]})
  const esp = await makeEspImage({
    output: join(work, 'esp.vfat'),
    sizeBytes: size('EFI-SYSTEM'),
    seed,
    epoch,
    files: {
      'EFI/BOOT/BOOTX64.EFI': {hostPath: SYSTEMD_BOOT},
      'loader/loader.conf': {content: loaderConf('keel-a.conf')},
      'loader/entries/keel-a.conf': {content: bootEntry({title: 'keel (slot A)', linux: '/keel/vmlinuz-a', initrd: '/keel/initrd-a', options: cmdline})},
      'keel/vmlinuz-a': {hostPath: tree.hostPath(`boot/${kernel}`)},
      'keel/initrd-a': {hostPath: o.initrd},
    },
  })

  const disk = join(work, 'disk.raw')
  rmSync(disk, {force: true})
  await writeDisk(plan, {'EFI-SYSTEM': esp.path, 'USR-A': usr.path, 'USR-A-verity': verityPath, ROOT: root.path}, disk)
  return {disk, rootHash: verity.rootHash, cmdline}
}
