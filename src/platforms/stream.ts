import {createHash, type Hash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {open, rename, rm} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {dirname} from 'node:path'
import {PassThrough, type Readable, Transform, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip, constants as zlib} from 'node:zlib'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {spawnFilter} from '../exec/run.js'

/**
 * Streaming plumbing for the format producers: every conversion reads its input once in bounded chunks and
 * writes its output under a temp name that is renamed into place when complete, so memory stays flat and
 * temp disk is at most the artifact itself.
 */

const HIGH_WATER = 1 << 20

/** Write `out` from a stream producer; temp name beside it, fsync, rename. */
export async function writeStreamAtomically(out: string, fill: (sink: Writable) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(out)
  try {
    const sink = createWriteStream(tmp, {highWaterMark: HIGH_WATER})
    const closed = new Promise<void>((resolve, reject) => {
      sink.on('close', resolve)
      sink.on('error', reject)
    })
    await fill(sink)
    await closed
    await syncFile(tmp)
    await rename(tmp, out)
    await fsyncDir(dirname(out))
  } catch (err) {
    await rm(tmp, {force: true})
    throw err
  }
}

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** A pass-through that hashes and counts what flows by. */
export function hashingTap(): {tap: Transform; result: () => {sha256: string; size: number}} {
  const hash: Hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    highWaterMark: HIGH_WATER,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      size += chunk.length
      cb(null, chunk)
    },
  })
  return {tap, result: () => ({sha256: hash.digest('hex'), size})}
}

export function readFile(path: string): Readable {
  return createReadStream(path, {highWaterMark: HIGH_WATER})
}

/**
 * gzip through node:zlib: the header carries no file name and mtime 0, so the bytes depend only on the input
 * (and zlib's level). Level 6 is gzip's default.
 */
export function gzipStream(): Transform {
  return createGzip({level: 6, chunkSize: 1 << 16, memLevel: 8, strategy: zlib.Z_DEFAULT_STRATEGY})
}

/** Compress a file with gzip (streamed), writing `out` atomically. */
export async function gzipFile(input: string, out: string): Promise<void> {
  await writeStreamAtomically(out, (sink) => pipeline(readFile(input), gzipStream(), sink))
}

/**
 * Compressors run as filters (stdin → stdout) so the output goes through the same atomic writer. Both are
 * deterministic as configured: zstd's output does not depend on its worker count (checked for 1, 2, 4 and
 * the single-threaded default), and xz's multi-threaded mode gives the same bytes for any thread count ≥ 2,
 * but differs from its single-threaded mode — so xz always runs multi-threaded, with at least two threads.
 */
export const COMPRESSORS = {
  // Level 3 (zstd's default): /usr inside the disk is lz4 already, and higher levels cost minutes for a few %.
  zstd: {tool: 'zstd', args: (): string[] => ['-q', '-c', '-T0', '-3']},
  xz: {tool: 'xz', args: (): string[] => ['-q', '-c', `-T${Math.max(2, availableParallelism())}`, '-6']},
} as const

export type CompressorName = keyof typeof COMPRESSORS

/**
 * Compress `input` into `out` with an external compressor. The tool reads the file itself (much faster than
 * a pipe for GiBs of mostly holes, and the frame then records the content size); its stdout is streamed.
 */
export async function compressFile(input: string, out: string, compressor: CompressorName): Promise<void> {
  const c = COMPRESSORS[compressor]
  await writeStreamAtomically(out, async (sink) => {
    const proc = spawnFilter(c.tool, [...c.args(), '--', input])
    proc.stdin.end()
    await Promise.all([pipeline(proc.stdout, sink), proc.done])
  })
}

/** Decompress with the external tool (test oracle and update-payload checks): returns sha256 and size of the output. */
export async function decompressedDigest(input: string, tool: 'zstd' | 'xz' | 'gzip'): Promise<{sha256: string; size: number}> {
  const proc = spawnFilter(tool, ['-d', '-c'])
  const {tap, result} = hashingTap()
  const sink = new PassThrough()
  sink.resume()
  await Promise.all([pipeline(readFile(input), proc.stdin), pipeline(proc.stdout, tap, sink), proc.done])
  return result()
}
