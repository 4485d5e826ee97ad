import {BOOT_PREFETCH_LIST} from '../rootfs/boot-prefetch.js'
import type {InitrdOp} from './plan.js'

/**
 * keel's /init (pure: the script, as InitrdOps). systemd stays in the initrd, but the kernel starts this
 * script first: it does the common boot of a disk image itself — load the drivers of the devices present,
 * open /usr through dm-verity, mount ROOT and /usr, run Ignition's files stage on a first boot, commit the
 * machine ID, switch to ROOT — and hands everything else, untouched, to systemd's initrd in the same archive
 * (`exec /usr/lib/systemd/systemd`): live media, a config that needs the network (cloud metadata,
 * ignition.config.url=), storage or kernel arguments in the config (they need udev), rd.* options, and any
 * failure, including a /usr that fails verification, whose slot fallback lives in systemd's initrd
 * (slot-fallback.ts).
 *
 * Why: under emulation systemd's initrd costs ≈ 6 s before Ignition's own work — systemd's start and unit
 * loading, journald, udev's coldplug until the disk's links exist, one unit per Ignition stage, the
 * switch-root serialisation. Measured here (TCG, interleaved boots of the same image): ROOT reached ≈ 4.5 s
 * sooner and the Ignition marker a median 3.3-3.7 s sooner with this path than with systemd's.
 */
export const FAST_INIT_PATH = 'usr/lib/keel/init'
export const FAST_INIT_TAG = 'keel-init:'
/** Written (in /run, which ROOT keeps) when this script booted the machine: 'keel-init'. keel test reads it. */
export const FAST_INIT_RUN_FILE = 'run/keel/initrd'
/** The systemd initrd the script hands over to. */
export const INITRD_SYSTEMD = 'usr/lib/systemd/systemd'

export interface FastInitInput {
  /** The machine-id script (machine-id.ts) to run after Ignition, with KEEL_SYSROOT=/sysroot. */
  machineIdScript: string
  /** A file whose presence marks a live medium (live.ts's is-live-image): handed over. */
  liveMarker: string
}

/**
 * What in the fetched config (Ignition's cache, /run/ignition.json: compact JSON, empty lists left out) the
 * fast path leaves to systemd's initrd: storage needs udev's links and settle, kernel arguments a reboot
 * through ignition-kargs.
 */
export const HANDED_OVER_CONFIG_KEYS = ['"disks":[', '"raid":[', '"filesystems":[', '"luks":[', '"shouldExist":[', '"shouldNotExist":['] as const

/** bash, as the rest of keel's initrd scripts: the initrd has no /bin/sh. Only kept programs are called. */
export function fastInitScript(input: FastInitInput): string {
  const handedOverKeys = HANDED_OVER_CONFIG_KEYS.map((k) => `*'${k}'*`).join('|')
  return `#!/bin/bash
# keel's initrd /init: the common disk boot without systemd and udev, everything else handed to systemd's
# initrd in this archive. See src/initramfs/fast-init.ts in keel.
export PATH=/usr/sbin:/usr/bin
say() { echo "${FAST_INIT_TAG} $*" > /dev/console; }
fetch_pid= prefetch_pid=
handover() {
  say "handing the boot to systemd's initrd: $*"
  # Undo what this script did, so systemd's initrd starts from the kernel's state (its own units set up /usr).
  # A running fetch-offline finishes (its cache file is then whole); the read-ahead is only a hint.
  [ -n "$prefetch_pid" ] && kill "$prefetch_pid" 2>/dev/null
  [ -n "$fetch_pid" ] && wait "$fetch_pid"
  umount /sysroot/usr 2>/dev/null
  umount /sysroot 2>/dev/null
  [ -e /dev/mapper/usr ] && DM_DISABLE_UDEV=1 dmsetup remove usr
  exec /${INITRD_SYSTEMD} "\${init_args[@]}"
}
init_args=("$@")
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
read -r -a cmdline < /proc/cmdline
arg() { local v=; for a in "\${cmdline[@]}"; do [ "\${a%%=*}" = "$1" ] && [ "$a" != "$1" ] && v=\${a#*=}; done; echo "$v"; }
has() { for a in "\${cmdline[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }

[ -e /${input.liveMarker} ] && handover "a live medium"
for a in "\${cmdline[@]}"; do
  case "$a" in rd.*|systemd.unit=*|keel.init=systemd|rootflags=*|rootfstype=*) handover "$a on the command line" ;; esac
done
usrhash=$(arg usrhash); data=$(arg systemd.verity_usr_data); hash=$(arg systemd.verity_usr_hash)
usrfs=$(arg mount.usrfstype); usrflags=$(arg mount.usrflags); root=$(arg root); platform=$(arg ignition.platform.id)
[ -n "$usrhash" ] && [ -n "$data" ] && [ -n "$hash" ] && [ "$(arg mount.usr)" = /dev/mapper/usr ] && [ -n "$usrfs" ] && [ -n "$root" ] ||
  handover "a command line without a verity /usr"

# No udev: load the drivers of the devices present from their modaliases, again for the devices those add.
load_drivers() {
  local before aliases
  for _ in 1 2 3; do
    before=$(wc -l < /proc/modules)
    # (No process substitution: there is no /dev/fd before ROOT's tmpfiles.) Modaliases hold no spaces.
    aliases=$(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u)
    [ -n "$aliases" ] && modprobe -a -q -b $aliases 2>/dev/null
    [ "$(wc -l < /proc/modules)" = "$before" ] && return
  done
}
device() {
  case "$1" in
    /dev/*) [ -b "$1" ] && echo "$1" ;;
    *=*) blkid -l -o device -t "$1" 2>/dev/null ;;
  esac
}
# 30 s for a device to appear (systemd's initrd waits 90 s for its own; a slow disk is handed over).
wait_device() {
  local d i
  for ((i = 1; i <= 1000; i++)); do
    d=$(device "$1") && [ -n "$d" ] && { echo "$d"; return 0; }
    ((i % 50 == 0)) && load_drivers
    sleep 0.03
  done
  return 1
}
ignition() { /usr/bin/ignition --root=/sysroot --platform="$platform" --stage="$1" --log-to-stdout > /dev/console 2>&1; }
first_boot=
if has ignition.firstboot; then
  [ -n "$platform" ] || handover "ignition.firstboot without ignition.platform.id"
  first_boot=1
  # fetch-offline reads the config from the firmware or the command line, not from the disk: it runs while the
  # disk is found and opened (Ignition is a Go program, ≈ 0.5 s just to start under emulation).
  ignition fetch-offline & fetch_pid=$!
fi
load_drivers
data_dev=$(wait_device "$data") && hash_dev=$(wait_device "$hash") && root_dev=$(wait_device "$root") ||
  handover "the /usr or ROOT partitions did not appear"
# Opening /usr (its verity superblock and root hash) and checking ROOT touch different partitions: both at once.
DM_DISABLE_UDEV=1 /usr/lib/systemd/systemd-veritysetup attach usr "$data_dev" "$hash_dev" "$usrhash" > /dev/console 2>&1 & verity_pid=$!
fsck -a "$root_dev" > /dev/console 2>&1; fsck_status=$?
wait "$verity_pid" || handover "/usr did not open through dm-verity"
[ "$fsck_status" -lt 2 ] || handover "ROOT's file system check asked for more"
mkdir -p /sysroot
mount -o rw "$root_dev" /sysroot || handover "ROOT would not mount"
mount -t "$usrfs" -o "\${usrflags:-ro}" /dev/mapper/usr /sysroot/usr || handover "/usr would not mount"
# Read ahead what ROOT's first seconds read from /usr (the build's list, ${BOOT_PREFETCH_LIST}, in the order
# ROOT wants it): dm-verity and decompression then run here, on a CPU Ignition leaves idle. It stops at
# switch_root: in ROOT both CPUs are busy, and reading ahead there only competes with the boot.
if [ -r /sysroot/${BOOT_PREFETCH_LIST} ]; then
  (cd /sysroot/usr && mapfile -t files < ${BOOT_PREFETCH_LIST.replace(/^usr\//, '')} && exec cat -- "\${files[@]}" > /dev/null 2>&1) & prefetch_pid=$!
fi
if [ -n "$first_boot" ]; then
  wait "$fetch_pid"; fetch_status=$? fetch_pid=
  [ "$fetch_status" = 0 ] || handover "Ignition's fetch-offline stage failed"
  [ -e /run/ignition/neednet ] && handover "the Ignition config needs the network"
  config=$(cat /run/ignition.json 2>/dev/null)
  case "$config" in ${handedOverKeys}) handover "the Ignition config has storage or kernel arguments" ;; esac
  ignition files || handover "Ignition's files stage failed"
  KEEL_SYSROOT=/sysroot /${input.machineIdScript} > /dev/console 2>&1 || handover "committing the machine ID failed"
fi
# ROOT's veritysetup generator would order sysinit.target after /usr's partitions again, waiting for udev
# in ROOT to announce them; /usr is open and mounted already.
mkdir -p /run/systemd/system
ln -sf /dev/null /run/systemd/system/systemd-veritysetup@usr.service
mkdir -p /run/keel
echo keel-init > /${FAST_INIT_RUN_FILE}
say "/usr verified, ROOT mounted\${first_boot:+, Ignition applied}; switching to ROOT"
[ -n "$prefetch_pid" ] && kill "$prefetch_pid" 2>/dev/null
exec switch_root /sysroot /sbin/init "\${init_args[@]}"
`
}

/** The script and /init pointing at it. */
export function fastInitOps(input: FastInitInput): InitrdOp[] {
  return [
    {op: 'write', path: FAST_INIT_PATH, content: fastInitScript(input), mode: 0o755},
    {op: 'symlink', path: 'init', target: FAST_INIT_PATH},
  ]
}
