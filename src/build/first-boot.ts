import {KeelError} from '../core/errors.js'
import type {RootTree} from '../rootfs/tree.js'
import {ENTRIES_DIR, entryFileName, FIRST_BOOT_ENTRY, SLOT_ENTRY_PATTERN} from '../boot/entries.js'

/**
 * Ignition must run exactly once. systemd-boot cannot add `ignition.firstboot` conditionally (Flatcar's GRUB
 * reads a flag file), so the ESP carries two entries for slot A: the default one-shot entry with the flag and
 * the normal entry without it. On the first boot, once the system is up, a unit points loader.conf's default
 * at the normal entry (or, if another slot was installed before the first boot, at every slot entry:
 * SLOT_ENTRY_PATTERN) and deletes the first-boot entry, so Ignition can never run again by accident.
 */
export {FIRST_BOOT_ENTRY}
/** Slot A's normal entry as the build writes it (good: no boot counter). */
export const NORMAL_ENTRY = entryFileName('A')
export const FIRST_BOOT_DONE_UNIT = 'keel-firstboot-done.service'
const SCRIPT_PATH = 'usr/lib/keel/firstboot-done'
const UNIT_PATH = `usr/lib/systemd/system/${FIRST_BOOT_DONE_UNIT}`

// The ESP is found by its partition label. systemd-gpt-auto-generator may already have it mounted (it
// automounts the ESP on /boot): then that mount is used; otherwise the script mounts it privately.
const SCRIPT = `#!/bin/sh
# keel: the first boot is done; boot a normal slot entry (no ignition.firstboot) from now on.
set -eu
dev=$(readlink -f /dev/disk/by-partlabel/EFI-SYSTEM)
esp=$(findmnt -n -o TARGET --source "$dev" | head -n 1)
if [ -z "$esp" ]; then
  esp=/run/keel/esp
  mkdir -p "$esp"
  mount -t vfat "$dev" "$esp"
  trap 'umount "$esp"' EXIT
fi
# Slot A alone: its entry. A slot installed before this first boot (keel test does that) takes part from now
# on: then any slot entry, ranked by systemd-boot.
default=${NORMAL_ENTRY}
for f in "$esp/${ENTRIES_DIR}"/keel-b*.conf; do
  if [ -e "$f" ]; then default='${SLOT_ENTRY_PATTERN}'; fi
done
sed -i "s/^default .*/default $default/" "$esp/loader/loader.conf"
rm -f "$esp/${ENTRIES_DIR}/${FIRST_BOOT_ENTRY}"
sync
`

// Off the boot's critical path: with DefaultDependencies=no, multi-user.target does not order itself after
// the unit that it wants (a target orders after its wants only when they keep default dependencies), so
// multi-user.target is reached while this runs (2-3 s under emulation: a vfat mount and a sync). Units that
// need the switched loader order themselves after it (keel test's ready unit does). The condition is the
// boot's own flag, not ConditionFirstBoot: the initrd commits the machine ID (keel-machine-id.service), so
// systemd in ROOT never sees a "first boot".
const UNIT = `[Unit]
Description=keel: boot the normal entry from now on (Ignition has run)
ConditionKernelCommandLine=ignition.firstboot
DefaultDependencies=no
Wants=dev-disk-by\\x2dpartlabel-EFI\\x2dSYSTEM.device
After=local-fs.target dev-disk-by\\x2dpartlabel-EFI\\x2dSYSTEM.device
Conflicts=shutdown.target
Before=shutdown.target

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

/** What boot counting needs in the image; Debian ships the blessing half in the systemd-boot package. */
export const BLESS_BOOT_FILES = ['usr/lib/systemd/systemd-bless-boot', 'usr/lib/systemd/system-generators/systemd-bless-boot-generator', 'usr/lib/systemd/system/systemd-bless-boot.service'] as const
const HEALTH_CHECK = 'systemd-boot-check-no-failures.service'

/**
 * The health check of a boot-counted slot: boot-complete.target requires systemd-boot-check-no-failures
 * (no unit failed once multi-user.target is up), and systemd-bless-boot — pulled in by its generator only
 * when systemd-boot counted this boot — marks the entry good after it. Enabled statically in /usr (the
 * [Install] section's RequiredBy=), since /etc belongs to the machine.
 */
export function installBootAssessment(tree: RootTree): string[] {
  const missing = [...BLESS_BOOT_FILES, `usr/lib/systemd/system/${HEALTH_CHECK}`].filter((p) => !tree.get(p))
  if (missing.length) {
    throw new KeelError(`boot counting needs ${missing.join(', ')} in the image`, 'input', 'add systemd-boot (systemd-bless-boot) to the recipe\'s packages')
  }
  const link = `usr/lib/systemd/system/boot-complete.target.requires/${HEALTH_CHECK}`
  tree.symlink(link, `../${HEALTH_CHECK}`, {owner: 'keel:boot-assessment'})
  return [link]
}
