import type {RootTree} from '../rootfs/tree.js'

/**
 * The ESP on /boot, mounted on first access: where systemd-bless-boot finds the boot entries whose counters it
 * blesses (it looks in /efi, /boot and /boot/efi), and where an admin looks for the loader. Debian leaves this to
 * systemd-gpt-auto-generator, which on every boot, before PID 1 starts any unit, reads an EFI variable and
 * probes every partition of the boot disk with libblkid to find the ESP; under emulation it was the last of the
 * generators by ≈ 0.4 s, and systemd's start (to its first unit) came 0.3 s sooner without it (median of 5
 * interleaved pairs). keel's disks name their ESP: the partition labelled EFI-SYSTEM (images/layouts/base.yaml),
 * so base.yaml drops the generator and the build installs the same two units it made, statically.
 *
 * A machine without that partition (live media) gets /boot too; a read there waits for the device like any
 * fstab mount would (the job timeout, 90 s) and fails. Nothing in keel reads /boot there.
 */
export const ESP_MOUNT_UNIT = 'boot.mount'
export const ESP_AUTOMOUNT_UNIT = 'boot.automount'
const ESP_DEVICE = '/dev/disk/by-partlabel/EFI-SYSTEM'
const UNIT_DIR = 'usr/lib/systemd/system'

// As the generator writes them (systemd 252): umask=0077 (the ESP holds the machine's boot entries, root only)
// and an automount that lets go of an idle mount after two minutes. nosuid,nodev,noexec: nothing on a FAT ESP
// is run by Linux.
const MOUNT = `[Unit]
Description=EFI System Partition
Documentation=https://uapi-group.org/specifications/specs/boot_loader_specification/

[Mount]
What=${ESP_DEVICE}
Where=/boot
Type=vfat
Options=umask=0077,nosuid,nodev,noexec
`

const AUTOMOUNT = `[Unit]
Description=EFI System Partition Automount
Documentation=https://uapi-group.org/specifications/specs/boot_loader_specification/

[Automount]
Where=/boot
TimeoutIdleSec=120

[Install]
WantedBy=local-fs.target
`

/** Put the two units and the automount's static .wants link into /usr. Returns the paths written. */
export function installEspMount(tree: RootTree): string[] {
  const owner = 'keel:esp-mount'
  const mount = `${UNIT_DIR}/${ESP_MOUNT_UNIT}`
  const automount = `${UNIT_DIR}/${ESP_AUTOMOUNT_UNIT}`
  const wants = `${UNIT_DIR}/local-fs.target.wants/${ESP_AUTOMOUNT_UNIT}`
  tree.writeFile(mount, MOUNT, {owner})
  tree.writeFile(automount, AUTOMOUNT, {owner})
  tree.symlink(wants, `../${ESP_AUTOMOUNT_UNIT}`, {owner})
  return [mount, automount, wants]
}
