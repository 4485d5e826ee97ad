import {join} from 'node:path'
import {KeelError} from '../core/errors.js'
import {makeUsrImage} from '../fsimage/index.js'
import {concatenateInitrds, writeLiveArchive} from '../initramfs/live-build.js'
import {liveKernelCommandLine} from '../initramfs/live.js'
import type {RootTree} from '../rootfs/tree.js'
import {deriveVerityIdentity, formatVerity} from '../verity/format.js'
import type {BuildParts, PlatformSpec} from './types.js'

/**
 * What PXE and ISO share: the live archive (src/initramfs/live.ts) — a squashfs /usr, its verity hash tree
 * and ROOT's contents — made once per build from the composed tree, and each platform's live initrd and
 * kernel command line from it.
 *
 * squashfs zstd rather than the disk's erofs lz4: the image travels over the network and lives in RAM, and
 * the kernel reads squashfs zstd. Level 3 measured on recipes/base.yaml: 91.7 MiB in 2.7 s (erofs lz4 is
 * ≈ 206 MiB); higher levels cost tens of seconds for a few percent.
 */
export const LIVE_USR = {filesystem: 'squashfs', compression: 'zstd,3'} as const

export interface LiveArchive {
  /** The uncompressed newc cpio to append to the initrd. */
  path: string
  size: number
  usr: {filesystem: 'squashfs'; size: number; rootHash: string; hashSize: number}
}

const archives = new WeakMap<BuildParts, Promise<LiveArchive>>()

/** The build's live archive, made on first use (both live formats of a build share it). */
export function liveArchive(parts: BuildParts, tree: RootTree | undefined): Promise<LiveArchive> {
  let made = archives.get(parts)
  if (!made) {
    if (!tree) throw new KeelError('live formats need the composed tree (BuildParts.tree)', 'internal')
    made = makeLiveArchive(parts, tree)
    archives.set(parts, made)
  }
  return made
}

async function makeLiveArchive(parts: BuildParts, tree: RootTree): Promise<LiveArchive> {
  const dir = parts.scratch
  const usr = await makeUsrImage(tree, {...LIVE_USR, output: join(dir, 'live-usr.squashfs'), seed: parts.seed, epoch: parts.epoch})
  const id = deriveVerityIdentity(`${parts.seed}/live`)
  const verity = await formatVerity(usr.path, join(dir, 'live-usr.verity'), {salt: id.salt, uuid: id.uuid})
  const archive = await writeLiveArchive({tree, usrImage: usr.path, usrHash: join(dir, 'live-usr.verity'), out: join(dir, 'live.cpio'), sourceDateEpoch: parts.epoch})
  return {path: archive.path, size: archive.size, usr: {filesystem: 'squashfs', size: usr.size, rootHash: verity.rootHash, hashSize: verity.hashSize}}
}

/** The kernel command line a live platform boots with (pure). */
export function liveCmdline(spec: Pick<PlatformSpec, 'ignitionPlatformId' | 'kernelArgs'>, parts: Pick<BuildParts, 'recipeKernelArgs'>, usrHash: string): string {
  return liveKernelCommandLine({usrHash, usrFs: LIVE_USR.filesystem, platform: spec.ignitionPlatformId, extra: [...spec.kernelArgs, ...parts.recipeKernelArgs]})
}

/** The archives a live initrd is made of, in order: the normal initrd, the live archive, the baked config if any. */
export function liveInitrdParts(parts: Pick<BuildParts, 'initrd' | 'bakedConfig'>, archive: string, bakedConfig: boolean): string[] {
  return [parts.initrd, archive, ...(bakedConfig && parts.bakedConfig ? [parts.bakedConfig] : [])]
}

/** One live initrd file at `out` and the command line to boot it with. */
export async function writeLiveInitrd(parts: BuildParts, spec: PlatformSpec, out: string): Promise<{path: string; cmdline: string; archive: LiveArchive}> {
  const archive = await liveArchive(parts, parts.tree)
  await concatenateInitrds(liveInitrdParts(parts, archive.path, spec.bakedConfig), out)
  return {path: out, cmdline: liveCmdline(spec, parts, archive.usr.rootHash), archive}
}
