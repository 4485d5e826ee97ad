import {statSync} from 'node:fs'
import {mkdir, rename, rm} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {bootEntry, loaderConf, SYSTEMD_BOOT_EFI} from '../boot/cmdline.js'
import {tempPathFor} from '../core/atomic.js'
import {derivedGuid} from '../disk/guids.js'
import {run} from '../exec/run.js'
import {derivedVolumeId, makeVfat} from '../fsimage/index.js'
import type {ImageFile} from '../fsimage/output.js'
import {pxeInitrdPath} from './pxe.js'
import {writeLiveInitrd} from './live.js'
import type {FormatContext, FormatSpec, ProducedFile} from './types.js'

/**
 * ISO: a hybrid UEFI ISO that boots the live system (the PXE kernel and initrd) from a CD/DVD or, written
 * to a USB stick, as a disk. UEFI firmware reads only FAT, so the boot files live in a FAT image — the
 * El Torito EFI boot image — holding systemd-boot, loader.conf, one entry with the live command line, the
 * kernel and the live initrd. The same image is exposed as the ESP partition of a GPT behind a protective
 * MBR, which is what firmware looks for on a stick.
 *
 * The FAT image is larger than El Torito's 16-bit sector count can say (32 MiB), so xorriso records 0, which
 * firmware (OVMF/EDK2 measured here) reads as "from the image to the end of the medium": a FAT driver ignores
 * what follows the filesystem, so the image only has to be in the ISO (it is the only file).
 */

export const ISO_EFI_IMAGE = 'efi.img'
export const LIVE_ENTRY = 'keel-live.conf'

/** ISO 9660 volume id: d-characters (A-Z, 0-9, _), 32 at most (pure). */
export function isoVolumeId(image: {name: string; version: string}): string {
  return `${image.name}_${image.version}_live`.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 32)
}

/** xorriso's YYYYMMDDhhmmsscc (GMT) for an epoch (pure). */
export function isoTimestamp(epoch: number): string {
  const d = new Date(epoch * 1000)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`
}

export interface XorrisoPlanInput {
  out: string
  /** Directory mapped to the ISO's root; holds the FAT image as ISO_EFI_IMAGE and nothing else. */
  root: string
  volumeId: string
  epoch: number
  /** GPT disk GUID (partition GUIDs are derived from it by xorriso). */
  diskGuid: string
}

/**
 * xorriso argv (native commands, pure). Every timestamp is the epoch (volume dates, file dates, the boot
 * catalog via `uuid`), the GPT GUID comes from the inputs: two runs give the same bytes.
 */
export function planXorriso(i: XorrisoPlanInput): string[] {
  const any = (spec: string) => ['-boot_image', 'any', spec]
  return [
    '-no_rc',
    '-outdev', i.out,
    '-volid', i.volumeId,
    '-volume_date', 'uuid', isoTimestamp(i.epoch),
    '-volume_date', 'all_file_dates', `=${i.epoch}`,
    '-iso_nowtime', `=${i.epoch}`,
    '-map', i.root, '/',
    ...any(`efi_path=/${ISO_EFI_IMAGE}`),
    ...any('platform_id=0xef'),
    // The boot image doubles as the GPT's EFI system partition; a protective MBR (0xee) makes firmware read the GPT.
    ...any('efi_boot_part=--efi-boot-image'),
    ...any('part_like_isohybrid=on'),
    ...any('iso_mbr_part_type=0xee'),
    ...any(`gpt_disk_guid=${i.diskGuid}`),
  ]
}

/** The FAT image's files: systemd-boot, loader.conf, the one live entry, kernel and initrd (pure). */
export function liveEspFiles(o: {kernel: string; initrd: string; cmdline: string; title: string; version: string}): Record<string, ImageFile> {
  return {
    'EFI/BOOT/BOOTX64.EFI': {hostPath: SYSTEMD_BOOT_EFI},
    'loader/loader.conf': {content: loaderConf(LIVE_ENTRY)},
    [`loader/entries/${LIVE_ENTRY}`]: {content: bootEntry({title: o.title, version: o.version, linux: '/keel/vmlinuz', initrd: '/keel/initrd', options: o.cmdline})},
    'keel/vmlinuz': {hostPath: o.kernel},
    'keel/initrd': {hostPath: o.initrd},
  }
}

/**
 * FAT image size for files of these sizes (pure): their sum plus room for FAT tables, directories and
 * cluster slack (3 % + 4 MiB), rounded up to a MiB.
 */
export function liveEspSize(fileSizes: readonly number[]): number {
  const MiB = 1024 * 1024
  const total = fileSizes.reduce((a, b) => a + b, 0)
  return Math.ceil((total * 1.03 + 4 * MiB) / MiB) * MiB
}

export interface LiveIsoOptions {
  kernel: string
  initrd: string
  cmdline: string
  image: {name: string; version: string}
  seed: string
  epoch: number
  out: string
  /** Scratch directory (the FAT image is staged here). */
  scratch: string
}

export async function makeLiveIso(o: LiveIsoOptions): Promise<{path: string; espSize: number}> {
  const root = join(o.scratch, `iso-root-${basename(o.out)}`)
  await rm(root, {recursive: true, force: true})
  await mkdir(root, {recursive: true})
  const tmp = tempPathFor(o.out)
  try {
    const files = liveEspFiles({kernel: o.kernel, initrd: o.initrd, cmdline: o.cmdline, title: `${o.image.name} ${o.image.version} (live)`, version: o.image.version})
    const sizes = [o.kernel, o.initrd, SYSTEMD_BOOT_EFI].map((p) => statSync(p).size)
    const esp = await makeVfat({output: join(root, ISO_EFI_IMAGE), sizeBytes: liveEspSize(sizes), label: 'KEEL-LIVE', volumeId: derivedVolumeId(o.seed, 'iso-esp'), epoch: o.epoch, files})
    await rm(tmp, {force: true})
    await run('xorriso', planXorriso({out: tmp, root, volumeId: isoVolumeId(o.image), epoch: o.epoch, diskGuid: derivedGuid(o.seed, 'iso')}), {env: {SOURCE_DATE_EPOCH: String(o.epoch)}})
    await rename(tmp, o.out)
    return {path: o.out, espSize: esp.size}
  } finally {
    await rm(tmp, {force: true})
    await rm(root, {recursive: true, force: true})
  }
}

export async function produceIso(ctx: FormatContext): Promise<ProducedFile[]> {
  const initrd = pxeInitrdPath(join(ctx.parts.scratch, `${ctx.platform}-live.vmlinuz`))
  ctx.reporter.status('ISO: the live initrd')
  try {
    const live = await writeLiveInitrd(ctx.parts, ctx.spec, initrd)
    ctx.reporter.status('ISO: FAT boot image and xorriso')
    await makeLiveIso({kernel: ctx.parts.kernel.path, initrd, cmdline: live.cmdline, image: ctx.parts.image, seed: ctx.parts.seed, epoch: ctx.parts.epoch, out: ctx.out, scratch: ctx.parts.scratch})
    return [{path: ctx.out, format: 'iso', cmdline: live.cmdline}]
  } finally {
    await rm(initrd, {force: true})
  }
}

export const ISO_FORMAT = {
  description: 'hybrid UEFI ISO (CD/DVD or USB stick) that boots the live system: systemd-boot, kernel, live initrd',
  suffix: '.iso',
  tools: ['xorriso', 'mksquashfs', 'mkfs.vfat', 'mcopy'],
  needsDisk: false,
  produce: produceIso,
} as const satisfies FormatSpec
