import type {RootTree} from '../rootfs/tree.js'

/**
 * Ignition must run exactly once. systemd-boot cannot add `ignition.firstboot` conditionally (Flatcar's GRUB
 * reads a flag file), so the ESP carries two entries for slot A: the default one-shot entry with the flag and
 * the normal entry without it. On the first boot, once the system is up, a unit switches loader.conf's
 * default to the normal entry; every later boot is a normal boot.
 */
export const FIRST_BOOT_ENTRY = 'keel-a-firstboot.conf'
export const NORMAL_ENTRY = 'keel-a.conf'
export const FIRST_BOOT_DONE_UNIT = 'keel-firstboot-done.service'
const SCRIPT_PATH = 'usr/lib/keel/firstboot-done'
const UNIT_PATH = `usr/lib/systemd/system/${FIRST_BOOT_DONE_UNIT}`

// The ESP is found by its partition label. systemd-gpt-auto-generator may already have it mounted (it
// automounts the ESP on /boot): then that mount is used; otherwise the script mounts it privately.
const SCRIPT = `#!/bin/sh
# keel: the first boot is done; boot ${NORMAL_ENTRY} (no ignition.firstboot) from now on.
set -eu
dev=$(readlink -f /dev/disk/by-partlabel/EFI-SYSTEM)
esp=$(findmnt -n -o TARGET --source "$dev" | head -n 1)
if [ -z "$esp" ]; then
  esp=/run/keel/esp
  mkdir -p "$esp"
  mount -t vfat "$dev" "$esp"
  trap 'umount "$esp"' EXIT
fi
sed -i 's/^default .*/default ${NORMAL_ENTRY}/' "$esp/loader/loader.conf"
sync
`

const UNIT = `[Unit]
Description=keel: boot the normal entry from now on (Ignition has run)
ConditionFirstBoot=yes
After=local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/${SCRIPT_PATH}

[Install]
WantedBy=multi-user.target
`

/** Put the unit and its script into /usr, enabled statically (a .wants link under /usr/lib). */
export function installFirstBootDone(tree: RootTree): string[] {
  const owner = 'keel:first-boot'
  tree.writeFile(SCRIPT_PATH, SCRIPT, {mode: 0o755, owner})
  tree.writeFile(UNIT_PATH, UNIT, {owner})
  const wants = `usr/lib/systemd/system/multi-user.target.wants/${FIRST_BOOT_DONE_UNIT}`
  tree.symlink(wants, `../${FIRST_BOOT_DONE_UNIT}`, {owner})
  return [SCRIPT_PATH, UNIT_PATH, wants]
}
