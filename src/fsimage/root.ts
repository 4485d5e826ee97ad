import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {KeelError} from '../core/errors.js'
import type {Reporter} from '../core/progress.js'
import {RootTree, type WriteOptions} from '../rootfs/tree.js'
import {makeExt4} from './ext4.js'
import {derivedFsUuid, fileBytes, type ImageFile, type ImageResult} from './output.js'
import {imageManifest} from './subtree.js'

/**
 * Directories / must have for the system to come up even when no package shipped them: mount points for
 * /usr and the API filesystems. Taken from the tree when present (its modes win), added otherwise.
 */
export const ROOT_MOUNTPOINTS: ReadonlyArray<{path: string; mode: number}> = [
  {path: 'usr', mode: 0o755},
  {path: 'proc', mode: 0o555},
  {path: 'sys', mode: 0o555},
  {path: 'dev', mode: 0o755},
  {path: 'run', mode: 0o755},
  {path: 'tmp', mode: 0o1777},
  {path: 'boot', mode: 0o755},
]

/**
 * Directories whose contents stay off ROOT (the directories themselves remain, as mount points): /usr is its
 * own image, and /boot's kernel and initrd go to the ESP per slot — a copy on ROOT, which updates never
 * rewrite, would go stale after the first /usr update.
 */
export const OFF_ROOT_CONTENTS: readonly string[] = ['usr', 'boot']

/** Whether a tree path belongs on ROOT. */
export function onRootFilesystem(path: string): boolean {
  return !OFF_ROOT_CONTENTS.some((dir) => path.startsWith(`${dir}/`))
}

export interface RootImageOptions {
  output: string
  /** From the disk layout (the ROOT partition's planned size). */
  sizeBytes: number
  seed: string
  epoch: number
  label?: string
  reporter?: Reporter
}

/**
 * The writable ROOT filesystem: /etc, /var, /home, the merged-/usr symlinks (bin → usr/bin …) and empty
 * mount points, with owners and modes from the manifest. ext4, labelled ROOT, grown to its partition on
 * first boot (resize_inode reserves the group descriptors for that).
 */
export async function makeRootImage(tree: RootTree, o: RootImageOptions): Promise<ImageResult & {entries: number}> {
  const manifest = imageManifest(tree, '', (e) => onRootFilesystem(e.path))
  for (const mp of ROOT_MOUNTPOINTS) {
    const existing = manifest.get(mp.path)
    if (existing && existing.type !== 'dir') throw new KeelError(`/${mp.path} must be a directory on ROOT, the tree has a ${existing.type}`, 'input')
    if (!existing) manifest.set(mp.path, {type: 'dir', mode: mp.mode, uid: 0, gid: 0})
  }
  return makeExt4({
    output: o.output,
    sizeBytes: o.sizeBytes,
    label: o.label ?? 'ROOT',
    uuid: derivedFsUuid(o.seed, 'root'),
    hashSeed: derivedFsUuid(o.seed, 'root/hash-seed'),
    epoch: o.epoch,
    content: {stagingRoot: tree.dir, manifest},
    reporter: o.reporter,
  })
}

export interface OemImageOptions {
  output: string
  sizeBytes: number
  seed: string
  epoch: number
  /** Image path → file; none gives an empty filesystem. */
  files?: Record<string, ImageFile>
  label?: string
  reporter?: Reporter
}

/** The OEM partition: a small ext4 (label OEM) for platform additions, empty or holding `files`. */
export async function makeOemImage(o: OemImageOptions): Promise<ImageResult & {entries: number}> {
  const files = Object.entries(o.files ?? {})
  const common = {
    output: o.output,
    sizeBytes: o.sizeBytes,
    label: o.label ?? 'OEM',
    uuid: derivedFsUuid(o.seed, 'oem'),
    hashSeed: derivedFsUuid(o.seed, 'oem/hash-seed'),
    epoch: o.epoch,
    reporter: o.reporter,
  }
  if (files.length === 0) return makeExt4(common)
  mkdirSync(dirname(resolve(o.output)), {recursive: true})
  const work = mkdtempSync(join(dirname(resolve(o.output)), '.keel-oem-'))
  try {
    const tree = new RootTree(join(work, 'root'))
    mkdirSync(tree.dir)
    for (const [path, f] of files) {
      const opts: WriteOptions = {owner: 'keel:oem', mode: f.mode, uid: f.uid, gid: f.gid}
      tree.writeFile(path, await fileBytes(path, f), opts)
    }
    return await makeExt4({...common, content: {stagingRoot: tree.dir, manifest: imageManifest(tree, '')}})
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}
