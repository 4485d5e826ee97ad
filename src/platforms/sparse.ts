import {open, rename, rm} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'

/**
 * Sparse files: where the data of a (mostly empty) disk image is. The disks keel writes are sparse and a
 * few GiB large with a few hundred MiB of data, so copies skip zero runs and the GCE tar records them as
 * holes. Detection reads the file (node has no SEEK_DATA) and compares blocks against zeros — at memory
 * speed for holes, which the kernel returns without touching the disk.
 */

export const SPARSE_BLOCK = 4096
const CHUNK = 4 << 20
const ZEROS = Buffer.alloc(CHUNK)

export interface DataRegion {
  offset: number
  length: number
}

function isZero(buf: Buffer): boolean {
  return buf.equals(ZEROS.subarray(0, buf.length))
}

/**
 * The non-zero regions of a file, at `block` granularity (adjacent data blocks merge; the last region is cut
 * at the end of the file). An all-zero file has none.
 */
export async function dataRegions(path: string, block = SPARSE_BLOCK): Promise<{size: number; regions: DataRegion[]}> {
  if (CHUNK % block) throw new KeelError(`sparse block ${block} must divide ${CHUNK}`, 'internal')
  const fh = await open(path, 'r')
  try {
    const size = (await fh.stat()).size
    const regions: DataRegion[] = []
    const buf = Buffer.alloc(CHUNK)
    let pos = 0
    let open_: DataRegion | undefined
    while (pos < size) {
      const {bytesRead} = await fh.read(buf, 0, Math.min(CHUNK, size - pos), pos)
      if (bytesRead === 0) throw new KeelError(`${path} shrank while being read`, 'internal')
      const chunk = buf.subarray(0, bytesRead)
      if (isZero(chunk)) {
        open_ = undefined
      } else {
        for (let b = 0; b < bytesRead; b += block) {
          const piece = chunk.subarray(b, Math.min(b + block, bytesRead))
          if (isZero(piece)) {
            open_ = undefined
          } else if (open_) {
            open_.length += piece.length
          } else {
            open_ = {offset: pos + b, length: piece.length}
            regions.push(open_)
          }
        }
      }
      pos += bytesRead
    }
    return {size, regions}
  } finally {
    await fh.close()
  }
}

/**
 * Copy `src` to `out` keeping holes, optionally to a larger `size` (zero-extended) followed by a `trailer`
 * (a VHD footer). Temp name, fsync, rename.
 */
export async function copySparse(src: string, out: string, opts: {size?: number; trailer?: Buffer} = {}): Promise<void> {
  const input = await open(src, 'r')
  const tmp = tempPathFor(out)
  const output = await open(tmp, 'w', 0o644)
  try {
    const srcSize = (await input.stat()).size
    const size = opts.size ?? srcSize
    if (size < srcSize) throw new KeelError(`cannot copy ${src} into a smaller size ${size}`, 'internal')
    const trailer = opts.trailer ?? Buffer.alloc(0)
    await output.truncate(size + trailer.length)
    const buf = Buffer.alloc(CHUNK)
    for (let pos = 0; pos < srcSize; ) {
      const {bytesRead} = await input.read(buf, 0, Math.min(CHUNK, srcSize - pos), pos)
      if (bytesRead === 0) throw new KeelError(`${src} shrank while being copied`, 'internal')
      const chunk = buf.subarray(0, bytesRead)
      if (!isZero(chunk)) await writeAll(output, chunk, pos)
      pos += bytesRead
    }
    if (trailer.length) await writeAll(output, trailer, size)
    await output.sync()
    await output.close()
    await rename(tmp, out)
    await fsyncDir(dirname(out))
  } catch (err) {
    await output.close().catch(() => undefined)
    await rm(tmp, {force: true})
    throw err
  } finally {
    await input.close()
  }
}

type Handle = Awaited<ReturnType<typeof open>>

export async function writeAll(fh: Handle, data: Buffer, position: number): Promise<void> {
  for (let off = 0; off < data.length; ) {
    const {bytesWritten} = await fh.write(data, off, data.length - off, position + off)
    off += bytesWritten
  }
}
