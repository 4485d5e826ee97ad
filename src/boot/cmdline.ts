import {KeelError} from '../core/errors.js'
import {verityPartitionGuids} from '../disk/guids.js'
import {USR_FILESYSTEMS, type UsrFilesystemName} from '../fsimage/usr.js'

/**
 * The kernel command line and systemd-boot files for a verity-/usr image (pure). systemd 252 in the initrd
 * opens /usr with systemd-veritysetup from `usrhash=` and the two partitions named by PARTUUID — the root
 * hash's first and last 128 bits, as planDisk assigns them (DPS) — then mounts /dev/mapper/usr read-only.
 */
export interface CmdlineInput {
  /** Root hash of the slot's /usr (hex). */
  usrHash: string
  usrFs: UsrFilesystemName
  /** The root filesystem, as systemd's fstab-generator takes root= (PARTLABEL=ROOT, PARTUUID=…). */
  root: string
  /** Add ignition.firstboot: only the first boot's entry may carry it. */
  firstBoot: boolean
  /** ignition.platform.id (qemu, azure, …). */
  platform: string
  /** The recipe's kernel.cmdline, appended as given. */
  extra?: readonly string[]
  /**
   * The slot's usr and usr-verity PARTUUIDs when they are not the ones derived from the root hash (a slot
   * holding a byte copy of another slot's /usr has the same hash, so its partitions carry other UUIDs).
   */
  usrPartitions?: {data: string; verity: string}
}

export function kernelCommandLine(input: CmdlineInput): string {
  if (!/^[0-9a-f]{64}$/.test(input.usrHash)) throw new KeelError(`not a sha256 root hash: ${input.usrHash}`, 'internal')
  const {data, verity} = input.usrPartitions ?? verityPartitionGuids(input.usrHash)
  const args = [
    `root=${input.root}`,
    'rw',
    'mount.usr=/dev/mapper/usr',
    `mount.usrfstype=${input.usrFs}`,
    'mount.usrflags=ro',
    `usrhash=${input.usrHash}`,
    `systemd.verity_usr_data=PARTUUID=${data}`,
    `systemd.verity_usr_hash=PARTUUID=${verity}`,
    `ignition.platform.id=${input.platform}`,
  ]
  if (input.firstBoot) args.push('ignition.firstboot')
  args.push(...(input.extra ?? []))
  return args.join(' ')
}

/** systemd-boot's EFI binary on the build host (package systemd-boot-efi): EFI/BOOT/BOOTX64.EFI on every ESP keel makes. */
export const SYSTEMD_BOOT_EFI = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi'

/** loader/loader.conf: boot the given entry at once (no menu); the menu stays reachable by holding a key. */
export function loaderConf(defaultEntry: string): string {
  return `default ${defaultEntry}\ntimeout 0\nconsole-mode keep\neditor no\n`
}

export interface BootEntry {
  title: string
  /** ESP paths, '/'-separated. */
  linux: string
  initrd: string
  options: string
  /** sort-key / version let systemd-boot order slot entries; optional. */
  version?: string
}

/** A Boot Loader Specification type 1 entry (loader/entries/*.conf). */
export function bootEntry(e: BootEntry): string {
  const lines = [`title ${e.title}`]
  if (e.version) lines.push(`version ${e.version}`)
  lines.push(`linux ${e.linux}`, `initrd ${e.initrd}`, `options ${e.options}`)
  return `${lines.join('\n')}\n`
}

/** The /usr filesystem a kernel command line mounts (its last `mount.usrfstype=`), if it is one keel makes. */
export function usrFilesystemOf(cmdline: string): UsrFilesystemName | undefined {
  const named = [...cmdline.matchAll(/(?:^|\s)mount\.usrfstype=(\S+)/g)].at(-1)?.[1]
  return USR_FILESYSTEMS.find((fs) => fs === named)
}
