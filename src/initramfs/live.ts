import {KeelError} from '../core/errors.js'
import type {UsrFilesystemName} from '../fsimage/usr.js'
import type {TreeEntry} from '../rootfs/tree.js'

/**
 * Live mode of keel's initrd (pure): the system boots with no disk at all (PXE, ISO). A second cpio archive,
 * appended to the normal initrd (the kernel unpacks concatenated archives into one rootfs), carries
 *
 *   /keel/usr.img      the /usr image (squashfs or erofs), byte for byte what a disk slot would hold
 *   /keel/usr.verity   its dm-verity hash tree (superblock at offset 0, as systemd-veritysetup reads it)
 *   /keel/root/        the ROOT filesystem's contents (/etc, /var, /home, mount points)
 *
 * and three small additions to the initrd: a unit that puts the two images on /dev/loop0 and /dev/loop1, a
 * unit that copies /keel/root into the memory root, and `is-live-image` (Ignition's generator asks it whether
 * there is a root disk). Everything else is the disk boot: `usrhash=` + `systemd.verity_usr_data=/dev/loop0`
 * + `systemd.verity_usr_hash=/dev/loop1` make systemd-veritysetup open /dev/mapper/usr (udev marks a loop
 * device ready only once a backing file is attached, so the verity unit waits for losetup by itself),
 * `root=tmpfs` makes /sysroot a tmpfs, `mount.usr=` mounts the verity device read-only on /sysroot/usr, and
 * Ignition runs on every boot (`ignition.firstboot`): a live system starts from its image each time.
 */

export const LIVE_DIR = 'keel'
export const LIVE_USR_IMAGE = `${LIVE_DIR}/usr.img`
export const LIVE_USR_HASH = `${LIVE_DIR}/usr.verity`
export const LIVE_ROOT = `${LIVE_DIR}/root`
/** The loop devices the images are attached to, in this order (the kernel command line names them). */
export const LIVE_LOOP_DEVICES = {data: '/dev/loop0', hash: '/dev/loop1'} as const
/** The kernel module the loop devices need; the initrd carries it without loading it at start. */
export const LIVE_MODULES = ['loop'] as const
/** Ignition's hook for "no root disk"; keel's /init hands a live boot to systemd's initrd when it exists. */
export const LIVE_IMAGE_MARKER = 'usr/bin/is-live-image'

export const LIVE_USR_UNIT = 'keel-live-usr.service'
export const LIVE_ROOT_UNIT = 'keel-live-root.service'
export const LIVE_NETWORK_UNIT = 'keel-live-network.service'
const UNIT_DIR = 'usr/lib/systemd/system'

export interface LiveCmdlineInput {
  /** Root hash of the /usr image in the live archive (hex). */
  usrHash: string
  usrFs: UsrFilesystemName
  /** ignition.platform.id: metal for PXE and ISO. */
  platform: string
  /** ignition.config.url= (the metal provider fetches it; needs networking in the initrd). */
  configUrl?: string
  /** The recipe's kernel.cmdline, appended as given. */
  extra?: readonly string[]
}

/** The kernel command line of a live boot (pure). */
export function liveKernelCommandLine(input: LiveCmdlineInput): string {
  if (!/^[0-9a-f]{64}$/.test(input.usrHash)) throw new KeelError(`not a sha256 root hash: ${input.usrHash}`, 'internal')
  if (input.configUrl !== undefined && (/\s/.test(input.configUrl) || input.configUrl === '')) {
    throw new KeelError(`an Ignition config URL on the kernel command line cannot be empty or contain spaces: '${input.configUrl}'`, 'usage')
  }
  const args = [
    'root=tmpfs',
    'rw',
    'mount.usr=/dev/mapper/usr',
    `mount.usrfstype=${input.usrFs}`,
    'mount.usrflags=ro',
    `usrhash=${input.usrHash}`,
    `systemd.verity_usr_data=${LIVE_LOOP_DEVICES.data}`,
    `systemd.verity_usr_hash=${LIVE_LOOP_DEVICES.hash}`,
    `ignition.platform.id=${input.platform}`,
    // Every live boot starts from the image: Ignition runs each time.
    'ignition.firstboot',
  ]
  if (input.configUrl !== undefined) args.push(`ignition.config.url=${input.configUrl}`)
  args.push(...(input.extra ?? []))
  return args.join(' ')
}

const USR_UNIT = `[Unit]
Description=keel live: /usr image and hash tree on loop devices
DefaultDependencies=no
ConditionPathExists=/etc/initrd-release
ConditionPathExists=/${LIVE_USR_IMAGE}
Before=systemd-veritysetup@usr.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/modprobe loop
ExecStart=/usr/sbin/losetup --read-only ${LIVE_LOOP_DEVICES.data} /${LIVE_USR_IMAGE}
ExecStart=/usr/sbin/losetup --read-only ${LIVE_LOOP_DEVICES.hash} /${LIVE_USR_HASH}
`

// Before sysroot-usr.mount: cp must not walk into (or try to chmod) the read-only /usr mount. Ignition's
// mount and files stages run after initrd-root-fs.target, so they see a complete /etc (passwd for useradd).
const ROOT_UNIT = `[Unit]
Description=keel live: the root filesystem's contents into the memory root
DefaultDependencies=no
ConditionPathExists=/etc/initrd-release
ConditionPathIsDirectory=/${LIVE_ROOT}
RequiresMountsFor=/sysroot
Before=initrd-root-fs.target sysroot-usr.mount

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/cp -a /${LIVE_ROOT}/. /sysroot/
`

// ignition.config.url= (metal): fetch-offline finds it needs the network and writes /run/ignition/neednet; the
// distro is to bring the network up between fetch-offline and fetch (Ignition's unit comments). networkd is in
// the initrd; a condition cannot guard Wants= (dependencies start even when it fails), so the unit starts it.
// Ignition retries the fetch until the DHCP lease is there.
const NETWORK_UNIT = `[Unit]
Description=keel live: the network for Ignition's config URL
DefaultDependencies=no
After=ignition-fetch-offline.service
Before=ignition-fetch.service
ConditionPathExists=/run/ignition/neednet

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/systemctl start --no-block systemd-networkd.service
`

const NETWORK_CONFIG = `# keel live: DHCP on wired interfaces in the initrd (only started for ignition.config.url=).
[Match]
Name=en* eth*

[Network]
DHCP=yes
`

// There is no /bin/sh in the initrd (src/initramfs/README.md): bash.
const IS_LIVE_IMAGE = '#!/bin/bash\n# keel live boot: no root disk (Ignition\'s generator then skips ignition-diskful.target).\nexit 0\n'

/** A file or link the live archive adds to the initrd, outside the payload (pure data). */
export type LiveAddition =
  | {type: 'file'; path: string; content: string; mode: number}
  | {type: 'symlink'; path: string; target: string}

/** The live units, their links and is-live-image. */
export function planLiveAdditions(): LiveAddition[] {
  return [
    {type: 'file', path: `${UNIT_DIR}/${LIVE_USR_UNIT}`, content: USR_UNIT, mode: 0o644},
    {type: 'symlink', path: `${UNIT_DIR}/sysinit.target.wants/${LIVE_USR_UNIT}`, target: `../${LIVE_USR_UNIT}`},
    {type: 'file', path: `${UNIT_DIR}/${LIVE_ROOT_UNIT}`, content: ROOT_UNIT, mode: 0o644},
    {type: 'symlink', path: `${UNIT_DIR}/initrd-root-fs.target.requires/${LIVE_ROOT_UNIT}`, target: `../${LIVE_ROOT_UNIT}`},
    {type: 'file', path: LIVE_IMAGE_MARKER, content: IS_LIVE_IMAGE, mode: 0o755},
    {type: 'file', path: `${UNIT_DIR}/${LIVE_NETWORK_UNIT}`, content: NETWORK_UNIT, mode: 0o644},
    {type: 'symlink', path: `${UNIT_DIR}/ignition-complete.target.wants/${LIVE_NETWORK_UNIT}`, target: `../${LIVE_NETWORK_UNIT}`},
    {type: 'file', path: 'etc/systemd/network/80-keel-live.network', content: NETWORK_CONFIG, mode: 0o644},
  ]
}

/**
 * Units of the installed system that cannot work without a disk, masked in the live root:
 * keel-firstboot-done switches the ESP's loader.conf (a live system has no ESP and always boots "first"), and
 * keel-grow-root grows the ROOT partition (a live ROOT is a tmpfs).
 */
export const LIVE_MASKED_UNITS = ['keel-firstboot-done.service', 'keel-grow-root.service'] as const

/** Where the archive takes an entry's bytes from. */
export type LiveSource = {kind: 'tree'; path: string} | {kind: 'host'; path: string} | {kind: 'content'; content: string}

export interface LiveArchiveInput {
  /** ROOT's entries (tree paths, byte order), as src/fsimage's ROOT image takes them. */
  rootEntries: readonly TreeEntry[]
  /** Mount points ROOT must have even when the tree lacks them (src/fsimage ROOT_MOUNTPOINTS). */
  mountpoints: ReadonlyArray<{path: string; mode: number}>
}

export interface LiveArchivePlan {
  /** Archive entries (TreeEntry form, archive paths), byte order, parents first. */
  entries: TreeEntry[]
  /** For each file entry: where its bytes come from. */
  sources: Map<string, LiveSource>
}

const OWNER = 'keel:live'

function dirEntry(path: string, mode = 0o755): TreeEntry {
  return {path, type: 'dir', mode, uid: 0, gid: 0, owner: OWNER}
}

function parents(path: string): string[] {
  const parts = path.split('/')
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'))
}

/**
 * Every entry of the live archive (pure): the payload directory, the two images (their bytes from host files
 * named `usr.img`/`usr.verity` by the caller's sources), ROOT's entries re-rooted under /keel/root (hard
 * links re-pointed inside it, the masked units added) and the initrd additions with their parent
 * directories. Byte order of paths, so one input always gives one archive.
 */
export function planLiveArchive(input: LiveArchiveInput): LiveArchivePlan {
  const entries = new Map<string, TreeEntry>()
  const sources = new Map<string, LiveSource>()
  const addDir = (path: string, mode = 0o755): void => {
    for (const p of parents(path)) if (!entries.has(p)) entries.set(p, dirEntry(p))
    if (!entries.has(path)) entries.set(path, dirEntry(path, mode))
  }
  addDir(LIVE_DIR, 0o700)
  for (const [path, source] of [[LIVE_USR_IMAGE, 'usr.img'], [LIVE_USR_HASH, 'usr.verity']] as const) {
    entries.set(path, {path, type: 'file', mode: 0o400, uid: 0, gid: 0, owner: OWNER})
    sources.set(path, {kind: 'host', path: source})
  }
  addDir(LIVE_ROOT)
  const under = (p: string): string => `${LIVE_ROOT}/${p}`
  const included = new Set(input.rootEntries.map((e) => e.path))
  for (const e of input.rootEntries) {
    if (e.path === '') continue
    const path = under(e.path)
    if (e.type === 'hardlink' && included.has(e.linkTarget ?? '')) {
      entries.set(path, {...e, path, linkTarget: under(e.linkTarget!)})
      continue
    }
    if (e.type === 'hardlink') {
      // Its original stays off ROOT (under /usr): this path carries the bytes itself.
      entries.set(path, {...e, path, type: 'file', linkTarget: undefined})
      sources.set(path, {kind: 'tree', path: e.path})
      continue
    }
    entries.set(path, {...e, path})
    if (e.type === 'file') sources.set(path, {kind: 'tree', path: e.path})
  }
  for (const mp of input.mountpoints) {
    const path = under(mp.path)
    const existing = entries.get(path)
    if (existing && existing.type !== 'dir') throw new KeelError(`/${mp.path} must be a directory in the live root, the tree has a ${existing.type}`, 'input')
    if (!existing) addDir(path, mp.mode)
  }
  for (const unit of LIVE_MASKED_UNITS) {
    const path = under(`etc/systemd/system/${unit}`)
    addDir(under('etc/systemd/system'))
    entries.set(path, {path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: '/dev/null', owner: OWNER})
  }
  for (const a of planLiveAdditions()) {
    for (const p of parents(a.path)) if (!entries.has(p)) entries.set(p, dirEntry(p))
    if (a.type === 'file') {
      entries.set(a.path, {path: a.path, type: 'file', mode: a.mode, uid: 0, gid: 0, owner: OWNER})
      sources.set(a.path, {kind: 'content', content: a.content})
    } else entries.set(a.path, {path: a.path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: a.target, owner: OWNER})
  }
  const sorted = [...entries.values()].sort((a, b) => (a.path === b.path ? 0 : Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))))
  return {entries: sorted, sources}
}

