import {open} from 'node:fs/promises'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {KeelError} from '../core/errors.js'
import {allocatedRegions, type DataRegion} from './sparse.js'
import {gzipStream, hashingTap, writeStreamAtomically} from './stream.js'

/**
 * The GCE image tarball: a gzip'd tar holding exactly one member, `disk.raw`, in GNU tar's "oldgnu" format
 * with its holes recorded in the old GNU sparse map — what `tar --format=oldgnu -Sczf` writes and what
 * Compute Engine's image import requires. keel writes the headers itself (field offsets from GNU tar's
 * tar.h: struct oldgnu_header and struct sparse_header) so every byte is pinned down.
 */

export const TAR_BLOCK = 512
/** GNU tar writes records of 20 blocks and pads the archive's end to a whole record. */
export const TAR_RECORD = 20 * TAR_BLOCK
export const GCE_MEMBER_NAME = 'disk.raw'
/** Sparse entries in the main header, and in each extension block that follows it. */
export const SPARSES_IN_HEADER = 4
export const SPARSES_IN_EXTENSION = 21

const OCTAL_11_MAX = 8 ** 11 - 1

/**
 * A 12-byte numeric field as GNU tar writes it: 11 octal digits and a NUL while the value fits, otherwise
 * base-256 (first byte 0x80, the value big-endian in the rest).
 */
export function numeric12(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new KeelError(`tar numeric field out of range: ${value}`, 'internal')
  if (value <= OCTAL_11_MAX) return Buffer.from(`${value.toString(8).padStart(11, '0')}\0`, 'latin1')
  const b = Buffer.alloc(12)
  b[0] = 0x80
  b.writeBigUInt64BE(BigInt(value), 4)
  return b
}

function octal8(value: number): Buffer {
  return Buffer.from(`${value.toString(8).padStart(7, '0')}\0`, 'latin1')
}

/**
 * The sparse map GNU tar stores: the data regions, then — when the file ends in a hole — a zero-length entry
 * at the real size, which is how the old format records trailing holes.
 */
export function sparseMap(size: number, regions: readonly DataRegion[]): DataRegion[] {
  const map = regions.map((r) => ({...r}))
  const last = map.at(-1)
  if (!last || last.offset + last.length < size) map.push({offset: size, length: 0})
  return map
}

function putEntry(block: Buffer, at: number, r: DataRegion): void {
  numeric12(r.offset).copy(block, at)
  numeric12(r.length).copy(block, at + 12)
}

export interface OldGnuSparseHeader {
  name: string
  mode: number
  mtime: number
  /** The file's real (apparent) size. */
  size: number
  map: readonly DataRegion[]
}

/**
 * The header block of a sparse member (typeflag 'S') followed by its extension blocks (pure). The size
 * field counts the stored bytes (the data regions); realsize is the apparent size.
 */
export function encodeOldGnuSparseHeader(h: OldGnuSparseHeader): Buffer {
  if (Buffer.byteLength(h.name) > 100) throw new KeelError(`tar member name too long: ${h.name}`, 'internal')
  const stored = h.map.reduce((n, r) => n + r.length, 0)
  const head = Buffer.alloc(TAR_BLOCK)
  head.write(h.name, 0, 100, 'utf8')
  octal8(h.mode & 0o7777).copy(head, 100)
  octal8(0).copy(head, 108) // uid
  octal8(0).copy(head, 116) // gid
  numeric12(stored).copy(head, 124)
  numeric12(h.mtime).copy(head, 136)
  head.write('S', 156, 1, 'latin1')
  head.write('ustar  \0', 257, 8, 'latin1') // OLDGNU_MAGIC: "ustar" + two spaces + NUL (magic and version)
  head.write('root', 265, 32, 'latin1') // uname
  head.write('root', 297, 32, 'latin1') // gname
  // oldgnu_header: atime 345, ctime 357, offset 369, longnames 381, pad 385, sp[4] 386, isextended 482, realsize 483
  const first = h.map.slice(0, SPARSES_IN_HEADER)
  first.forEach((r, i) => putEntry(head, 386 + i * 24, r))
  const rest = h.map.slice(SPARSES_IN_HEADER)
  head[482] = rest.length > 0 ? 1 : 0
  numeric12(h.size).copy(head, 483)
  writeChecksum(head)
  const blocks = [head]
  for (let i = 0; i < rest.length; i += SPARSES_IN_EXTENSION) {
    const ext = Buffer.alloc(TAR_BLOCK)
    rest.slice(i, i + SPARSES_IN_EXTENSION).forEach((r, j) => putEntry(ext, j * 24, r))
    ext[504] = i + SPARSES_IN_EXTENSION < rest.length ? 1 : 0
    blocks.push(ext)
  }
  return Buffer.concat(blocks)
}

/** The header checksum: the byte sum with the field itself read as spaces, six octal digits, NUL, space. */
export function writeChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156)
  let sum = 0
  for (let i = 0; i < TAR_BLOCK; i++) sum += block[i]!
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1')
}

/** Zero bytes after `n` bytes to reach a multiple of `unit`. */
export function padTo(n: number, unit: number): number {
  return (unit - (n % unit)) % unit
}

const CHUNK = 4 << 20

/** The tar stream of one sparse member: header, the regions' bytes, padding, end-of-archive, record padding. */
async function* sparseTar(path: string, name: string, mtime: number, size: number, regions: readonly DataRegion[]): AsyncGenerator<Buffer> {
  const map = sparseMap(size, regions)
  const header = encodeOldGnuSparseHeader({name, mode: 0o644, mtime, size, map})
  yield header
  let written = header.length
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(CHUNK)
    for (const r of regions) {
      for (let done = 0; done < r.length; ) {
        const want = Math.min(CHUNK, r.length - done)
        const {bytesRead} = await fh.read(buf, 0, want, r.offset + done)
        if (bytesRead !== want) throw new KeelError(`${path} changed while being archived`, 'internal')
        // A copy: the consumer may still hold the previous chunk when the buffer is refilled.
        yield Buffer.from(buf.subarray(0, bytesRead))
        done += bytesRead
        written += bytesRead
      }
    }
  } finally {
    await fh.close()
  }
  const tail = padTo(written, TAR_BLOCK) + 2 * TAR_BLOCK
  written += tail
  yield Buffer.alloc(tail + padTo(written, TAR_RECORD))
}

/** `<out>`: gzip(oldgnu tar of `raw` as disk.raw, holes as a sparse map). Streamed: memory stays at a few MiB. */
export async function writeGceTarball(raw: string, out: string, mtime: number): Promise<{regions: number; storedBytes: number; tar: {sha256: string; size: number}}> {
  const {size, regions} = await allocatedRegions(raw)
  const {tap, result} = hashingTap()
  await writeStreamAtomically(out, (sink) => pipeline(Readable.from(sparseTar(raw, GCE_MEMBER_NAME, mtime, size, regions)), tap, gzipStream(), sink))
  return {regions: regions.length, storedBytes: regions.reduce((n, r) => n + r.length, 0), tar: result()}
}
