import type {InitrdOp} from './plan.js'

/**
 * The initrd's half of A/B rollback (pure: the files, as InitrdOps). When the booted slot's /usr fails
 * dm-verity or will not mount, the boot would otherwise stop in the emergency shell — and, if the entry is
 * a good one (no boot counter), systemd-boot would choose it again on every boot. Instead the failing units
 * trigger keel-slot-fallback.service (OnFailure=), which renames the boot entry that chose this slot to
 * `+0` ("no tries left": systemd-boot ranks it after every other entry) and reboots, so the other slot boots.
 *
 * Which entry: systemd-boot exports the entry id it chose in LoaderEntrySelected and, for a counted entry,
 * the name it renamed it to in LoaderBootCountPath (both volatile EFI variables, read through efivarfs).
 * An entry that was already at `+0` when chosen means no better entry was left: then nothing is renamed and
 * there is no reboot — the emergency shell as before, rather than a reboot loop.
 */

export const SLOT_FALLBACK_UNIT = 'keel-slot-fallback.service'
export const SLOT_FALLBACK_SCRIPT = 'usr/lib/keel/slot-fallback'
/** What fails when /usr is corrupt: the verity device (bad hash tree or root hash) or the mount (bad data). */
export const SLOT_FAILURE_UNITS = ['systemd-veritysetup@usr.service', 'sysusr-usr.mount', 'sysroot-usr.mount'] as const
/** The prefix of every console line the script prints (the checks look for it). */
export const SLOT_FALLBACK_TAG = 'keel-slot-fallback:'

/** systemd-boot's vendor GUID for its Loader* variables (Boot Loader Interface). */
const LOADER_VENDOR = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f'

// bash: the initrd has no /bin/sh. Only coreutils, util-linux's mount and systemctl are used.
const SCRIPT = `#!/bin/bash
# keel: this slot's /usr failed verification or would not mount. Mark the boot entry that chose it bad
# (+0 tries left: systemd-boot ranks it last) and reboot, so the other slot boots.
set -u
say() { echo "${SLOT_FALLBACK_TAG} $*"; echo "${SLOT_FALLBACK_TAG} $*" >/dev/kmsg 2>/dev/null || true; }
efivar() {
  local f="/sys/firmware/efi/efivars/$1-${LOADER_VENDOR}"
  [ -r "$f" ] || return 1
  # efivarfs files cannot seek (tail -c +5 on the file itself reads nothing): 4 attribute bytes, then UTF-16.
  cat "$f" | tail -c +5 | tr -d '\\000'
}
# Only a unit that failed on its own is evidence against the slot (verification refused a block, the
# tree does not match the root hash); a timeout on a slow or overloaded machine is not.
cause=
for unit in ${SLOT_FAILURE_UNITS.join(' ')}; do
  case "$(systemctl show -P Result "$unit" 2>/dev/null)" in
    exit-code|signal|core-dump) cause=$unit ;;
  esac
done
[ -n "$cause" ] || { say "no /usr unit failed on its own (a timeout says nothing about the slot); staying in the initrd"; exit 1; }
selected=$(efivar LoaderEntrySelected) || selected=
[ -n "$selected" ] || { say "not booted by systemd-boot (no LoaderEntrySelected); staying in the initrd"; exit 1; }
counted=$(efivar LoaderBootCountPath) || counted=
# A counted entry was renamed by systemd-boot before it booted; LoaderBootCountPath names it now.
current=$selected
[ -n "$counted" ] && current=\${counted##*\\\\}
case "$selected" in
  *+0.conf|*+0-*.conf) say "entry $selected had no tries left and was still chosen: no other slot can boot"; exit 1 ;;
esac
case "$current" in
  keel-*.conf) ;;
  *) say "entry $current is not a keel slot entry; leaving it"; exit 1 ;;
esac
name=\${current%.conf}
stem=\${name%%+*}
done_part=
case "$name" in *+*-*) done_part=-\${name##*-} ;; esac
bad="$stem+0$done_part.conf"
dev=
partuuid=$(efivar LoaderDevicePartUUID) && dev=/dev/disk/by-partuuid/\${partuuid,,}
[ -n "$dev" ] && [ -e "$dev" ] || dev=/dev/disk/by-partlabel/EFI-SYSTEM
esp=/run/keel-esp
mkdir -p "$esp"
# The kernel's default iocharset (ascii) is a module the initrd does not carry; iso8859-1 is there.
if ! mount -t vfat -o iocharset=iso8859-1 "$dev" "$esp"; then say "cannot mount the ESP ($dev)"; exit 1; fi
if [ "$current" != "$bad" ]; then
  if ! mv "$esp/loader/entries/$current" "$esp/loader/entries/$bad"; then say "cannot rename $current"; umount "$esp"; exit 1; fi
fi
sync
umount "$esp"
say "/usr of entry $selected failed ($cause); marked it bad ($bad), rebooting into the other slot"
sync
systemctl --force --force reboot
`

const UNIT = `[Unit]
Description=keel: mark this slot's boot entry bad and reboot into the other slot
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/${SLOT_FALLBACK_SCRIPT}
StandardOutput=journal+console
`

const DROP_IN = `[Unit]
OnFailure=${SLOT_FALLBACK_UNIT}
`

/** The script, the unit and one OnFailure= drop-in per failure unit (drop-ins apply to generated units too). */
export function slotFallbackOps(): InitrdOp[] {
  return [
    {op: 'write', path: SLOT_FALLBACK_SCRIPT, content: SCRIPT, mode: 0o755},
    {op: 'write', path: `usr/lib/systemd/system/${SLOT_FALLBACK_UNIT}`, content: UNIT, mode: 0o644},
    ...SLOT_FAILURE_UNITS.map((u): InitrdOp => ({op: 'write', path: `usr/lib/systemd/system/${u}.d/keel-slot-fallback.conf`, content: DROP_IN, mode: 0o644})),
  ]
}
