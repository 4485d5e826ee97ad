import {KeelError} from '../core/errors.js'
import type {Reporter} from '../core/progress.js'
import type {RootTree} from '../rootfs/tree.js'
import {makeErofs} from './erofs.js'
import {derivedFsUuid, type ImageResult} from './output.js'
import type {Compression, FilesystemName} from './compression.js'
import {FILESYSTEMS, parseCompression} from './registry.js'
import {makeSquashfs} from './squashfs.js'
import {type ImageManifest, imageManifest} from './subtree.js'

/** What a /usr image maker receives: the tree's usr/ directory as the image root, with its manifest. */
export interface UsrImageInput {
  source: string
  manifest: ImageManifest
  output: string
  compression: Compression
  uuid: string
  epoch: number
  reporter?: Reporter
}

/** The filesystems a /usr image can be, each with its maker (a registry: new formats add an entry). */
export const USR_IMAGE_MAKERS = {
  erofs: (i: UsrImageInput) => makeErofs(i),
  squashfs: (i: UsrImageInput) => makeSquashfs(i),
} as const satisfies Partial<Record<FilesystemName, (input: UsrImageInput) => Promise<ImageResult>>>

export type UsrFilesystemName = keyof typeof USR_IMAGE_MAKERS

/** What /usr may be: the filesystems with a maker that the registry marks read-only, in registry order. */
export const USR_FILESYSTEMS: readonly UsrFilesystemName[] = (Object.keys(USR_IMAGE_MAKERS) as UsrFilesystemName[]).filter((n) => FILESYSTEMS[n].readOnly)

/** The /usr filesystem when neither the recipe nor a flag names one (its compression: the registry's default). */
export const DEFAULT_USR_FILESYSTEM: UsrFilesystemName = 'erofs'

/** One line per /usr filesystem: its compressions with level ranges, the default marked (flag help, errors). */
export function usrCompressionChoices(): string[] {
  return USR_FILESYSTEMS.map((fs) => {
    const spec = FILESYSTEMS[fs]
    const names = Object.entries(spec.compressions).map(([name, c]: [string, {levels?: readonly [number, number]}]) => {
      const levels = c.levels ? `[,${c.levels[0]}-${c.levels[1]}]` : ''
      return `${name}${levels}${name === spec.defaultCompression ? ' (default)' : ''}`
    })
    return `${fs}: ${names.join(', ')}`
  })
}

export interface UsrImageOptions {
  filesystem?: UsrFilesystemName
  /** e.g. 'lz4', 'lz4hc,12', 'zstd,19'; default: the filesystem's default. */
  compression?: string
  output: string
  /** Digest of the build's inputs: the filesystem UUID derives from it. */
  seed: string
  /** SOURCE_DATE_EPOCH */
  epoch: number
  reporter?: Reporter
}

/**
 * The read-only /usr image of a tree: its usr/ directory becomes the filesystem root (mounted at /usr), with
 * owners and modes from the manifest, never from the staging files.
 */
export async function makeUsrImage(tree: RootTree, o: UsrImageOptions): Promise<ImageResult> {
  const filesystem = o.filesystem ?? DEFAULT_USR_FILESYSTEM
  const maker = USR_FILESYSTEMS.includes(filesystem) ? USR_IMAGE_MAKERS[filesystem] : undefined
  if (!maker) throw new KeelError(`a /usr image cannot be ${filesystem}`, 'usage', `choose one of: ${USR_FILESYSTEMS.join(', ')}`)
  return maker({
    source: tree.hostPath('usr'),
    manifest: imageManifest(tree, 'usr'),
    output: o.output,
    compression: parseCompression(filesystem, o.compression),
    uuid: derivedFsUuid(o.seed, 'usr'),
    epoch: o.epoch,
    reporter: o.reporter,
  })
}
