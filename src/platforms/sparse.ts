import {createHash} from 'node:crypto'
import {open, rename, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {run} from '../exec/run.js'

/**
 * Sparse files: where the data of a (mostly empty) disk image is. The disks keel writes are a few GiB large
 * with a few hundred MiB of data, so copies skip holes and the GCE tar records them as holes. Node has no
 * lseek(SEEK_DATA), so `allocatedRegions` asks `qemu-img map` (which uses it) and nothing reads the holes;
 * `dataRegions` is the slower fallback that reads everything and compares blocks against zeros.
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
 * The allocated extents of a file, from `qemu-img map --output=json -f raw` (SEEK_DATA/SEEK_HOLE): holes
 * read as zeros, so everything outside these regions is zero. Adjacent extents are merged.
 */
export async function allocatedRegions(path: string): Promise<{size: number; regions: DataRegion[]}> {
  const size = (await stat(path)).size
  const r = await run('qemu-img', ['map', '--output=json', '-f', 'raw', path])
  const extents = JSON.parse(r.stdout) as Array<{start: number; length: number; data: boolean}>
  const regions: DataRegion[] = []
  for (const e of extents) {
    if (!e.data || e.length === 0) continue
    const last = regions.at(-1)
    if (last && last.offset + last.length === e.start) last.length += e.length
    else regions.push({offset: e.start, length: e.length})
  }
  return {size, regions}
}

/**
 * sha256 of a sparse file without reading its holes: the allocated regions are read, the holes hashed from a
 * zero buffer. Still hashes every byte (the digest is of the whole file), but costs no I/O for the holes.
 */
export async function sparseSha256(path: string): Promise<{sha256: string; size: number}> {
  const {size, regions} = await allocatedRegions(path)
  const hash = createHash('sha256')
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(CHUNK)
    let pos = 0
    const zeros = (n: number): void => {
      for (let left = n; left > 0; left -= CHUNK) hash.update(ZEROS.subarray(0, Math.min(CHUNK, left)))
    }
    for (const r of regions) {
      zeros(r.offset - pos)
      for (let done = 0; done < r.length; ) {
        const want = Math.min(CHUNK, r.length - done)
        const {bytesRead} = await fh.read(buf, 0, want, r.offset + done)
        if (bytesRead !== want) throw new KeelError(`${path} changed while being hashed`, 'internal')
        hash.update(buf.subarray(0, bytesRead))
        done += bytesRead
      }
      pos = r.offset + r.length
    }
    zeros(size - pos)
    return {sha256: hash.digest('hex'), size}
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
    for (const r of (await allocatedRegions(src)).regions) {
      for (let done = 0; done < r.length; ) {
        const want = Math.min(CHUNK, r.length - done)
        const {bytesRead} = await input.read(buf, 0, want, r.offset + done)
        if (bytesRead !== want) throw new KeelError(`${src} shrank while being copied`, 'internal')
        const chunk = buf.subarray(0, bytesRead)
        if (!isZero(chunk)) await writeAll(output, chunk, r.offset + done)
        done += bytesRead
      }
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
