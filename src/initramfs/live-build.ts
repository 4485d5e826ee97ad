import {closeSync, mkdtempSync, openSync, readSync, renameSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {dirname, join, resolve as resolvePath} from 'node:path'
import {KeelError} from '../core/errors.js'
import {sha256File} from '../core/hashing.js'
import {ROOT_MOUNTPOINTS, onRootFilesystem} from '../fsimage/root.js'
import type {RootTree, TreeEntry} from '../rootfs/tree.js'
import {type CpioSource, pad4, writeCpioToFd} from './cpio.js'
import {planLiveArchive} from './live.js'

export interface LiveArchiveOptions {
  /** The image's tree: ROOT's contents come from it. */
  tree: RootTree
  /** The /usr image (squashfs or erofs) and its verity hash area (superblock at 0), as host files. */
  usrImage: string
  usrHash: string
  /** Output: an uncompressed newc cpio (the images inside are compressed already). */
  out: string
  sourceDateEpoch: number
}

export interface LiveArchiveResult {
  path: string
  sha256: string
  size: number
  entries: number
}

/**
 * The live archive (see live.ts): planned from the tree's ROOT entries, written with the initrd's cpio writer
 * straight from where the bytes are (the tree's staging directory, the image files), never copied first.
 */
export async function writeLiveArchive(o: LiveArchiveOptions): Promise<LiveArchiveResult> {
  const out = resolvePath(o.out)
  await mkdir(dirname(out), {recursive: true})
  const staging = mkdtempSync(join(dirname(out), '.keel-live-'))
  try {
    const plan = planLiveArchive({rootEntries: o.tree.sorted().filter((e) => onRootFilesystem(e.path)), mountpoints: ROOT_MOUNTPOINTS})
    const host = new Map<string, string>()
    let n = 0
    for (const [path, source] of plan.sources) {
      if (source.kind === 'tree') host.set(path, o.tree.hostPath(source.path))
      else if (source.kind === 'host') host.set(path, source.path === 'usr.img' ? resolvePath(o.usrImage) : resolvePath(o.usrHash))
      else {
        const file = join(staging, `content-${n++}`)
        writeFileSync(file, source.content)
        host.set(path, file)
      }
    }
    const entries = new Map<string, TreeEntry>(plan.entries.map((e) => [e.path, e]))
    const source: CpioSource = {
      sorted: () => plan.entries,
      entries,
      hostPath: (path: string) => {
        const file = host.get(path)
        if (!file) throw new KeelError(`the live archive has no source for /${path}`, 'internal')
        return file
      },
    }
    const tmp = join(staging, 'live.cpio')
    const fd = openSync(tmp, 'w')
    let written: {entries: number; size: number}
    try {
      written = writeCpioToFd(source, fd, o.sourceDateEpoch)
    } finally {
      closeSync(fd)
    }
    const {sha256, size} = await sha256File(tmp)
    renameSync(tmp, out)
    return {path: out, sha256, size, entries: written.entries}
  } finally {
    rmSync(staging, {recursive: true, force: true})
  }
}

/**
 * One initrd file from several archives, in order (the kernel unpacks them one after another into the same
 * rootfs; systemd-boot and QEMU's -initrd take one file). Each archive after the first starts on a 4-byte
 * boundary: the kernel reads an uncompressed cpio only at such an offset and skips the NUL padding.
 */
export async function concatenateInitrds(parts: readonly string[], out: string): Promise<{path: string; sha256: string; size: number}> {
  const target = resolvePath(out)
  await mkdir(dirname(target), {recursive: true})
  const tmp = `${target}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    let offset = 0
    const chunk = Buffer.allocUnsafe(1 << 20)
    for (const part of parts) {
      const padding = Buffer.alloc(pad4(offset))
      if (padding.length) offset += writeSync(fd, padding)
      const src = openSync(part, 'r')
      try {
        for (;;) {
          const r = readSync(src, chunk, 0, chunk.length, null)
          if (r === 0) break
          let w = 0
          while (w < r) w += writeSync(fd, chunk, w, r - w)
          offset += r
        }
      } finally {
        closeSync(src)
      }
    }
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, {force: true})
    throw err
  }
  closeSync(fd)
  renameSync(tmp, target)
  const {sha256, size} = await sha256File(target)
  return {path: target, sha256, size}
}

