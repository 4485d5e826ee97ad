import {KeelError} from '../core/errors.js'
import type {ToolName} from '../exec/tools.js'
import type {Compression, FilesystemName} from './compression.js'
import {makeErofs, planErofs} from './erofs.js'
import {makeExt4, planMke2fs} from './ext4.js'
import type {ImageResult, ToolInvocation} from './output.js'
import {makeSquashfs, planSquashfs} from './squashfs.js'
import {makeVfat, planVfat} from './vfat.js'

/**
 * The filesystems keel writes, as data: which compressions each offers, how ownership from the tree's
 * manifest reaches the image (the staging files all belong to the build user), and which knobs make the
 * bytes reproducible. Stages look things up here instead of switching on names.
 */
export interface CompressionSpec {
  /** Inclusive level range when the algorithm takes one. */
  levels?: readonly [number, number]
  note?: string
}

export interface FilesystemSpec {
  description: string
  /** Compression algorithms by name; 'none' means stored uncompressed. */
  compressions: Readonly<Record<string, CompressionSpec>>
  defaultCompression: string
  /** Whether the format stores owners and modes, i.e. can carry them from the tree's manifest. */
  carriesOwnership: boolean
  /** How a manifest's uid/gid/mode get into the image without root. */
  ownership?: string
  readOnly: boolean
  /** What pins every byte (documentation and the build manifest). */
  reproducibility: readonly string[]
  /** Programs that make the image, and those that check it (tests, `keel doctor`). */
  makeTools: readonly ToolName[]
  checkTools: readonly ToolName[]
  /** The pure planner of the main tool run (argv + environment), and the adapter that makes the image. */
  plan: (options: never) => ToolInvocation
  make: (options: never) => Promise<ImageResult>
}

export const FILESYSTEMS = {
  erofs: {
    description: 'read-only, compressed; the default /usr image (the cloud kernel reads lz4 only)',
    // Debian's cloud kernel has CONFIG_EROFS_FS_ZIP=y but not CONFIG_EROFS_FS_ZIP_LZMA: an erofs /usr it can
    // mount is lz4 (or lz4hc, the same decompressor) or uncompressed. lzma is therefore not offered.
    compressions: {
      lz4: {note: 'fast; the only erofs algorithm Debian\'s cloud kernel decompresses'},
      lz4hc: {levels: [0, 12], note: 'smaller, ~20x slower to make; lz4 on disk, so the cloud kernel reads it'},
      none: {note: 'stored uncompressed; any kernel with erofs reads it'},
    },
    defaultCompression: 'lz4',
    carriesOwnership: true,
    ownership: 'mkfs.erofs --all-root, then each inode\'s uid/gid/mode rewritten from the manifest (and the superblock checksum)',
    readOnly: true,
    reproducibility: ['-T<epoch> (every inode time, build time)', '-U<derived uuid>', '--all-root before stamping', '-x-1 (no host xattrs)'],
    makeTools: ['mkfs.erofs'],
    checkTools: ['fsck.erofs', 'dump.erofs'],
    plan: planErofs,
    make: makeErofs,
  },
  squashfs: {
    description: 'read-only, compressed; selectable for /usr (smaller, slower to make)',
    // The cloud kernel reads all four (CONFIG_SQUASHFS_ZSTD, _XZ, _ZLIB, _LZ4 are =y).
    compressions: {
      zstd: {levels: [1, 22]},
      xz: {},
      gzip: {levels: [1, 9]},
      lz4: {},
    },
    defaultCompression: 'zstd',
    carriesOwnership: true,
    ownership: 'mksquashfs -pf: one "path m mode uid gid" pseudo definition per entry',
    readOnly: true,
    reproducibility: ['-all-time <epoch>', '-mkfs-time <epoch>', 'SOURCE_DATE_EPOCH unset (4.5 only clamps to it)', '-reproducible', '-no-xattrs', 'entries sorted by mksquashfs'],
    makeTools: ['mksquashfs'],
    checkTools: ['unsquashfs'],
    plan: planSquashfs,
    make: makeSquashfs,
  },
  ext4: {
    description: 'writable; ROOT and OEM, made from a directory (mke2fs -d), grown on first boot',
    compressions: {none: {}},
    defaultCompression: 'none',
    carriesOwnership: true,
    ownership: 'mke2fs -d from a private copy, then debugfs set_inode_field uid/gid/mode/times per entry',
    readOnly: false,
    reproducibility: ['-U <derived uuid>', '-E hash_seed=<derived uuid>', 'E2FSPROGS_FAKE_TIME=<epoch>', 'debugfs sets every inode time to the epoch'],
    makeTools: ['mke2fs', 'debugfs'],
    checkTools: ['e2fsck', 'debugfs'],
    plan: planMke2fs,
    make: makeExt4,
  },
  vfat: {
    description: 'the EFI system partition; no owners, made with mkfs.vfat -C and filled with mtools (no mount)',
    compressions: {none: {}},
    defaultCompression: 'none',
    carriesOwnership: false,
    readOnly: false,
    reproducibility: ['-i <derived volume id>', '--invariant', 'SOURCE_DATE_EPOCH for mtools time stamps', 'files copied in sorted order'],
    makeTools: ['mkfs.vfat', 'mmd', 'mcopy'],
    checkTools: ['fsck.vfat', 'mdir'],
    plan: planVfat,
    make: makeVfat,
  },
} as const satisfies Record<FilesystemName, FilesystemSpec>

export const FILESYSTEM_NAMES = Object.keys(FILESYSTEMS) as FilesystemName[]

/**
 * Parse 'lz4hc', 'lz4hc,9' or 'zstd:19' for a filesystem, against its registry entry. Unknown algorithms and
 * out-of-range levels are usage errors naming what is allowed.
 */
export function parseCompression(fs: FilesystemName, text: string | undefined): Compression {
  const spec: FilesystemSpec = FILESYSTEMS[fs]
  const value = text ?? spec.defaultCompression
  const [algorithm = '', levelText, ...rest] = value.split(/[,:]/)
  const known = Object.keys(spec.compressions)
  const algo = spec.compressions[algorithm]
  if (!algo || rest.length > 0) throw new KeelError(`${fs} has no compression '${value}'`, 'usage', `choose one of: ${known.join(', ')}`)
  if (levelText === undefined || levelText === '') return {algorithm}
  const level = Number(levelText)
  if (!algo.levels || !Number.isInteger(level) || level < algo.levels[0] || level > algo.levels[1]) {
    const range = algo.levels ? `a level from ${algo.levels[0]} to ${algo.levels[1]}` : 'no level'
    throw new KeelError(`${fs} ${algorithm} takes ${range}, not '${levelText}'`, 'usage')
  }
  return {algorithm, level}
}

export {type Compression, type FilesystemName, formatCompression} from './compression.js'
