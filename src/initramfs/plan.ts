import {KeelError} from '../core/errors.js'
import {fastInitOps} from './fast-init.js'
import {LIVE_IMAGE_MARKER} from './live.js'
import {MACHINE_ID_SCRIPT, machineIdOps} from './machine-id.js'
import {slotFallbackOps} from './slot-fallback.js'

/**
 * What turns a plain rootfs (composed from recipes/initrd.yaml) into a systemd initrd, as data (pure).
 * Nothing here runs a tool: the builder applies these operations to the RootTree.
 */

/** Where Debian's ignition package puts its dracut module; keel installs the same files without dracut. */
export const IGNITION_DRACUT_DIR = 'usr/lib/dracut/modules.d/30ignition'
export const SYSTEM_UNIT_DIR = 'usr/lib/systemd/system'

/**
 * Modules the initrd carries (with their dependencies), by module name: fw_cfg carries the Ignition config
 * under QEMU, virtio and the other hypervisors' drivers for the disk, dm-verity and erofs for /usr, vfat for
 * the ESP (Ignition may mount it). Names built into the kernel are recognised and skipped (ext4 in the cloud
 * kernel); unknown names are an error.
 */
export const DEFAULT_INITRD_MODULES = [
  'qemu_fw_cfg',
  'virtio_pci',
  'virtio_blk',
  'virtio_scsi',
  'virtio_net',
  // The boot disk's driver on Xen (older EC2 types), Hyper-V/Azure and VMware; NVMe is built into the cloud
  // kernel. Loaded only where udev finds the device (INITRD_MODULES_LOADED_AT_START), so free elsewhere.
  'xen_blkfront',
  'hv_storvsc',
  'vmw_pvscsi',
  'dm_mod',
  'dm_verity',
  'erofs',
  'squashfs',
  'ext4',
  'vfat',
  'nls_cp437',
  'nls_iso8859_1',
  'crc32c_intel',
  // systemd-boot's EFI variables (which entry booted): the slot fallback reads them in the initrd.
  'efivarfs',
] as const

/**
 * Which of those systemd-modules-load loads at start: none. Each is loaded when first needed — udev loads
 * device drivers from their modaliases during coldplug (virtio_pci/blk/scsi/net; qemu_fw_cfg from ACPI
 * QEMU0002, and Ignition modprobes it too), and the kernel runs modprobe for a filesystem at mount (fs-erofs,
 * fs-squashfs, fs-vfat, nls_cp437), a device-mapper target at table load (dm-verity) and crc32c at ext4's
 * mount. Loading all of them one by one at start kept sysinit.target — and so Ignition, which starts after
 * basic.target — waiting for systemd-modules-load under emulation.
 */
export const INITRD_MODULES_LOADED_AT_START: readonly string[] = []

/**
 * systemd generators the initrd keeps: /etc/fstab's and the command line's mounts (fstab), usrhash= (verity),
 * systemd.debug-shell (debug), plus Ignition's own. Every other generator runs on each boot for nothing —
 * under TCG each exec costs a few hundred milliseconds, and nine of them were a measurable part of the initrd.
 */
export const INITRD_GENERATORS = ['systemd-fstab-generator', 'systemd-veritysetup-generator', 'systemd-debug-generator'] as const
const GENERATOR_DIR = 'usr/lib/systemd/system-generators'

/**
 * sysinit.target.wants entries the initrd drops: API filesystems and bookkeeping that only the real root
 * uses (huge pages, POSIX queues, debugfs, tracefs, configfs, fusectl, binfmt_misc, utmp). Each one is a unit
 * start — a fork, an exec or a mount, and for configfs/fuse a modprobe@ service — and under emulation the
 * initrd started them one after another before reaching udev. The real root starts them as usual.
 */
export const INITRD_SKIPPED_SYSINIT_UNITS = [
  'dev-hugepages.mount',
  'dev-mqueue.mount',
  'proc-sys-fs-binfmt_misc.automount',
  'sys-fs-fuse-connections.mount',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'systemd-binfmt.service',
  'systemd-update-utmp.service',
  // keel's image has no repart.d (ROOT grows in ROOT, keel-grow-root): skipped by its condition, but its
  // Wants= still started modprobe@loop.service in every initrd.
  'systemd-repart.service',
] as const

export type InitrdOp =
  | {op: 'write'; path: string; content: string; mode: number}
  | {op: 'symlink'; path: string; target: string}
  /** Copy a file already in the tree to a new path (the dracut module's files to where systemd looks). */
  | {op: 'copy'; from: string; path: string; mode: number}
  | {op: 'remove'; path: string}

/** Ignition's units and where the dracut module links them (module-setup.sh's install_ignition_unit). */
const IGNITION_UNITS: ReadonlyArray<{unit: string; wantedBy: string}> = [
  {unit: 'ignition-fetch.service', wantedBy: 'ignition-complete.target'},
  {unit: 'ignition-fetch-offline.service', wantedBy: 'ignition-complete.target'},
  {unit: 'ignition-kargs.service', wantedBy: 'ignition-complete.target'},
  {unit: 'ignition-disks.service', wantedBy: 'ignition-complete.target'},
  {unit: 'ignition-mount.service', wantedBy: 'ignition-complete.target'},
  {unit: 'ignition-files.service', wantedBy: 'ignition-complete.target'},
  {unit: 'ignition-remount-sysroot.service', wantedBy: 'ignition-diskful.target'},
]
const IGNITION_TARGETS = ['complete', 'subsequent', 'diskful', 'diskful-subsequent'].map((x) => `ignition-${x}.target`)

export interface InitrdPlanInput {
  /** Generators present in the tree (names in usr/lib/systemd/system-generators); all but INITRD_GENERATORS go. */
  generators?: readonly string[]
  /** os-release fields of the initrd (systemd enters initrd mode when /etc/initrd-release exists). */
  osRelease: {id: string; name: string; version: string}
  /** Kernel module names to load at start (after resolving which exist as modules). */
  loadModules: readonly string[]
}

export function initrdRelease(r: InitrdPlanInput['osRelease']): string {
  const q = (v: string): string => `"${v.replace(/["\\$`]/g, (c) => `\\${c}`)}"`
  return [`NAME=${q(r.name)}`, `ID=${r.id}`, `VERSION_ID=${q(r.version)}`, `PRETTY_NAME=${q(`${r.name} ${r.version} (initrd)`)}`, ''].join('\n')
}

/** The operations, in order. */
export function planInitrd(input: InitrdPlanInput): InitrdOp[] {
  const ops: InitrdOp[] = [
    {op: 'remove', path: 'etc/initrd-release'},
    {op: 'write', path: 'etc/initrd-release', content: initrdRelease(input.osRelease), mode: 0o644},
    // The rootfs's fstab is the image's; the initrd's mounts come from the command line.
    {op: 'write', path: 'etc/fstab', content: '', mode: 0o644},
    // Debian builds Ignition with SELinux relabelling; with no policy, setfiles has nothing to do (boot.md).
    {op: 'write', path: 'usr/sbin/setfiles', content: '#!/bin/bash\n# keel: no SELinux policy in this image; Ignition\'s relabel is a no-op.\nexit 0\n', mode: 0o755},
    ...(input.loadModules.length ? [{op: 'write', path: 'etc/modules-load.d/keel-initrd.conf', content: `${input.loadModules.join('\n')}\n`, mode: 0o644} as const] : []),
    {op: 'copy', from: `${IGNITION_DRACUT_DIR}/ignition`, path: 'usr/bin/ignition', mode: 0o755},
    {op: 'copy', from: `${IGNITION_DRACUT_DIR}/ignition-generator`, path: 'usr/lib/systemd/system-generators/ignition-generator', mode: 0o755},
    {op: 'copy', from: `${IGNITION_DRACUT_DIR}/ignition-kargs-helper.sh`, path: 'usr/sbin/ignition-kargs-helper', mode: 0o755},
    {op: 'copy', from: `${IGNITION_DRACUT_DIR}/99-xx-ignition-systemd-cryptsetup.rules`, path: 'usr/lib/udev/rules.d/99-xx-ignition-systemd-cryptsetup.rules', mode: 0o644},
  ]
  for (const t of IGNITION_TARGETS) ops.push({op: 'copy', from: `${IGNITION_DRACUT_DIR}/${t}`, path: `${SYSTEM_UNIT_DIR}/${t}`, mode: 0o644})
  for (const {unit, wantedBy} of IGNITION_UNITS) {
    ops.push({op: 'copy', from: `${IGNITION_DRACUT_DIR}/${unit}`, path: `${SYSTEM_UNIT_DIR}/${unit}`, mode: 0o644})
    ops.push({op: 'symlink', path: `${SYSTEM_UNIT_DIR}/${wantedBy}.requires/${unit}`, target: `../${unit}`})
  }
  for (const g of input.generators ?? []) {
    if (!(INITRD_GENERATORS as readonly string[]).includes(g)) ops.push({op: 'remove', path: `${GENERATOR_DIR}/${g}`})
  }
  // A /usr that fails verification marks its boot entry bad and reboots into the other slot.
  ops.push(...slotFallbackOps())
  // Ignition's presets and the machine ID before the switch: ROOT's systemd then skips its first-boot walk.
  ops.push(...machineIdOps())
  // The kernel execs /init: keel's script, which boots a disk itself or hands over to systemd (fast-init.ts).
  ops.push(...fastInitOps({machineIdScript: MACHINE_ID_SCRIPT, liveMarker: LIVE_IMAGE_MARKER}))
  for (const u of INITRD_SKIPPED_SYSINIT_UNITS) ops.push({op: 'remove', path: `${SYSTEM_UNIT_DIR}/sysinit.target.wants/${u}`})
  // The rootfs stage enabled the image's units here (networkd, getty, timers...); in initrd mode systemd
  // starts initrd.target, and only systemd's initrd units and Ignition's belong in it.
  ops.push({op: 'remove', path: 'etc/systemd/system'})
  // The module's files are installed; the dracut copy would only double the initrd's largest binary.
  ops.push({op: 'remove', path: 'usr/lib/dracut'})
  return ops
}

/** modules.dep: 'kernel/a.ko: kernel/b.ko kernel/c.ko' → path → its dependencies. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const i = line.indexOf(':')
    if (i < 0) continue
    deps.set(line.slice(0, i).trim(), line.slice(i + 1).trim().split(/\s+/).filter(Boolean))
  }
  return deps
}

/** Module name of a module path: 'kernel/drivers/md/dm-verity.ko.xz' → 'dm_verity' (as modprobe normalises). */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1)
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_')
}

export interface ModuleSelection {
  /** Module files to copy (relative to /usr/lib/modules/<kver>), dependencies included, sorted. */
  files: string[]
  /** Requested names that are modules (so go to modules-load.d), in request order. */
  load: string[]
  /** Requested names that are built into the kernel. */
  builtin: string[]
}

/**
 * The module files the initrd needs: each requested module and everything modules.dep says it needs. A name
 * that is neither a module nor in modules.builtin is an error — a typo would otherwise boot without it.
 */
export function selectModules(requested: readonly string[], modulesDep: string, modulesBuiltin: string): ModuleSelection {
  const deps = parseModulesDep(modulesDep)
  const byName = new Map<string, string>()
  for (const path of deps.keys()) byName.set(moduleName(path), path)
  const builtinNames = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleName))
  const files = new Set<string>()
  const load: string[] = []
  const builtin: string[] = []
  const unknown: string[] = []
  for (const raw of requested) {
    const name = raw.replace(/-/g, '_')
    const path = byName.get(name)
    if (path) {
      load.push(name)
      files.add(path)
      for (const d of deps.get(path) ?? []) files.add(d)
    } else if (builtinNames.has(name)) builtin.push(name)
    else unknown.push(raw)
  }
  if (unknown.length) throw new KeelError(`kernel modules not found in the image's kernel: ${unknown.join(', ')}`, 'input')
  return {files: [...files].sort(), load, builtin}
}
