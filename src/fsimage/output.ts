import {closeSync, fsyncSync, openSync, renameSync, rmSync} from 'node:fs'
import {mkdir, readFile} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {sha256File} from '../core/hashing.js'
import {uuidV5} from '../disk/guids.js'
import type {ToolName} from '../exec/tools.js'
import type {FilesystemName} from './compression.js'

/** keel's namespace for derived filesystem UUIDs and volume ids: uuidV5(NAMESPACE_URL, 'keel:fsimage'). */
export const KEEL_FSIMAGE_NAMESPACE = 'db9f3b3f-b97a-502d-87c0-3ee77af3c9ef'

/** A filesystem UUID from the build's inputs: UUIDv5 over `<seed>/<purpose>`, e.g. purpose 'usr' or 'root'. */
export function derivedFsUuid(seed: string, purpose: string): string {
  return uuidV5(KEEL_FSIMAGE_NAMESPACE, `${seed}/${purpose}`)
}

/** A FAT volume id (32 bits, 8 hex digits) from the build's inputs: the first bits of the derived UUID. */
export function derivedVolumeId(seed: string, purpose: string): string {
  return derivedFsUuid(seed, purpose).slice(0, 8)
}

/** What every make… returns, for the build manifest. */
export interface ImageResult {
  path: string
  filesystem: FilesystemName
  compression?: string
  label?: string
  /** Filesystem UUID (vfat: the volume id as XXXX-XXXX); squashfs has none. */
  uuid?: string
  size: number
  sha256: string
  /** Tool → version line, as the tools print it. */
  tools: Record<string, string>
  durationMs: number
}

/**
 * Run `fn` against a temp path beside `out` and rename it into place only when it succeeded, so an image
 * under its final name is always complete. The temp file is removed on failure.
 */
export async function writeImageAtomically<T>(out: string, fn: (tmp: string) => Promise<T>): Promise<{value: T; sha256: string; size: number}> {
  const path = resolve(out)
  await mkdir(dirname(path), {recursive: true})
  const tmp = tempPathFor(path)
  try {
    const value = await fn(tmp)
    const fd = openSync(tmp, 'r+')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    const digest = await sha256File(tmp)
    renameSync(tmp, path)
    await fsyncDir(dirname(path))
    return {value, ...digest}
  } catch (err) {
    rmSync(tmp, {force: true})
    throw err
  }
}

/** The first line of a tool's output that carries a version number (e.g. 'mkfs.erofs 1.5'). */
export function versionLine(output: string): string | undefined {
  return output.split('\n').map((l) => l.trim()).find((l) => /\d+\.\d+/.test(l) && !/^usage/i.test(l))
}

/** One planned tool run: what the pure planners return and the adapters execute through src/exec/run.ts. */
export interface ToolInvocation {
  tool: ToolName
  args: string[]
  /** Added to the runner's minimal environment; undefined removes a variable. */
  env: Record<string, string | undefined>
}

/** A file for a small image (OEM, ESP): bytes or a host file, with the mode/owner it gets where owners exist. */
export interface ImageFile {
  content?: string | Uint8Array
  hostPath?: string
  mode?: number
  uid?: number
  gid?: number
}

export async function fileBytes(path: string, f: ImageFile): Promise<string | Uint8Array> {
  if ((f.content === undefined) === (f.hostPath === undefined)) throw new KeelError(`/${path}: give either content or a host file`, 'internal')
  if (f.content !== undefined) return f.content
  return readFile(f.hostPath!)
}
