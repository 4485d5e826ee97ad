import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {run} from '../exec/run.js'
import {makeEspImage} from '../fsimage/index.js'
import type {ImageFile} from '../fsimage/output.js'
import {mtoolsEnv} from '../fsimage/vfat.js'
import {copySparse} from '../platforms/sparse.js'
import {compareBytes} from '../rootfs/tree.js'

/**
 * One ESP per platform group, cheaply. The groups' ESPs share the kernel, the initrd and systemd-boot and
 * differ only in a few small files (the boot entries with the group's ignition.platform.id, a baked config):
 * so the shared files go into one base image (mkfs.vfat + mcopy, once), and each group's ESP is a sparse copy
 * of the base plus mcopy of its own files. Same inputs, same operations: the bytes stay reproducible.
 */

function sameFile(a: ImageFile, b: ImageFile): boolean {
  if (a.hostPath !== undefined || b.hostPath !== undefined) return a.hostPath === b.hostPath && a.content === undefined && b.content === undefined
  return a.content !== undefined && b.content !== undefined && Buffer.from(a.content).equals(Buffer.from(b.content))
}

/** The files every group has, identically (pure). */
export function commonEspFiles(groups: ReadonlyArray<Record<string, ImageFile>>): Record<string, ImageFile> {
  const [first, ...rest] = groups
  if (!first) return {}
  return Object.fromEntries(Object.entries(first).filter(([path, f]) => rest.every((g) => g[path] !== undefined && sameFile(g[path]!, f))))
}

function parents(path: string): string[] {
  const parts = path.split('/')
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'))
}

export interface EspVariantsInput {
  /** Each group's full ESP file list, by group key. */
  groups: Record<string, Record<string, ImageFile>>
  sizeBytes: number
  seed: string
  epoch: number
  /** Directory for the images and staged file contents. */
  dir: string
}

/** Make every group's ESP; returns group key → image path. */
export async function makeEspVariants(input: EspVariantsInput): Promise<Record<string, string>> {
  const keys = Object.keys(input.groups)
  const common = {seed: input.seed, epoch: input.epoch, sizeBytes: input.sizeBytes}
  if (keys.length === 1) {
    const only = keys[0]!
    return {[only]: (await makeEspImage({...common, output: join(input.dir, `esp-${only}.vfat`), files: input.groups[only]!})).path}
  }
  const shared = commonEspFiles(keys.map((k) => input.groups[k]!))
  const base = (await makeEspImage({...common, output: join(input.dir, 'esp-base.vfat'), files: shared})).path
  const baseDirs = new Set(Object.keys(shared).flatMap(parents))
  const env = mtoolsEnv(input.epoch)
  const out: Record<string, string> = {}
  for (const key of keys) {
    const image = join(input.dir, `esp-${key}.vfat`)
    await copySparse(base, image)
    const own = Object.entries(input.groups[key]!)
      .filter(([path]) => !(path in shared))
      .sort(([a], [b]) => compareBytes(a, b))
    const dirs = [...new Set(own.flatMap(([path]) => parents(path)))].filter((d) => !baseDirs.has(d)).sort(compareBytes)
    if (dirs.length) await run('mmd', ['-i', image, ...dirs.map((d) => `::/${d}`)], {env})
    for (const [i, [path, f]] of own.entries()) {
      let host = f.hostPath
      if (host === undefined) {
        host = join(input.dir, `esp-${key}-file-${i}`)
        await writeFile(host, f.content!)
      }
      await run('mcopy', ['-i', image, '-o', host, `::/${path}`], {env})
    }
    out[key] = image
  }
  return out
}
