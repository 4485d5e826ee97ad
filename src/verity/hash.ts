import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import {KeelError} from '../core/errors.js'
import {DIGEST_SIZE} from './tree.js'

/**
 * Hashing for dm-verity (hash type 1): every block's digest is sha256(salt ‖ block).
 *
 * The data level is nearly all the work, so it is split into 16 MiB units that the calling thread and worker
 * threads (one thread per core in all) claim from a shared counter. Each reads with large synchronous preads and
 * writes digests straight into a shared buffer — no per-block promises or messages. The levels above are 1/128
 * of the work and are hashed on the calling thread.
 */

export interface FileRangeJob {
  path: string
  /** Byte offset of data block 0 in the file. */
  dataOffset: number
  blockSize: number
  /** Blocks [fromBlock, toBlock) are hashed. */
  fromBlock: number
  toBlock: number
  salt: Uint8Array
  /** Digest of block b goes to out[outOffset + b * 32]. */
  out: Uint8Array
  outOffset: number
  /** Bytes per pread; small enough to stay in the L2 cache while it is hashed. */
  chunkBytes: number
}

/**
 * Hash a range of blocks of a file. Self-contained on purpose (modules come in as parameters, nothing from the
 * enclosing scope): worker threads run this very function from its source text, so one implementation serves
 * both the threads and small inputs hashed inline, whether keel runs from compiled JS or from TypeScript.
 */
export function hashFileRange(fsModule: typeof fs, cryptoModule: typeof crypto, job: FileRangeJob): void {
  const {blockSize, salt} = job
  const digestSize = 32
  const out = Buffer.from(job.out.buffer, job.out.byteOffset, job.out.byteLength)
  const blocksPerChunk = Math.max(1, Math.floor(job.chunkBytes / blockSize))
  const chunk = Buffer.allocUnsafe(blocksPerChunk * blockSize)
  // salt ‖ block in one buffer: a one-shot digest of it is cheaper than a streaming hash per block, and a
  // "binary" (latin1) string result is cheaper to make than a Buffer (measured: ~15% more throughput per core).
  const salted = Buffer.allocUnsafe(salt.length + blockSize)
  salted.set(salt, 0)
  const oneShot = typeof cryptoModule.hash === 'function'
  const fd = fsModule.openSync(job.path, 'r')
  try {
    for (let block = job.fromBlock; block < job.toBlock; ) {
      const count = Math.min(blocksPerChunk, job.toBlock - block)
      const want = count * blockSize
      const position = job.dataOffset + block * blockSize
      for (let got = 0; got < want; ) {
        const n = fsModule.readSync(fd, chunk, got, want - got, position + got)
        if (n === 0) throw new Error(`${job.path}: unexpected end of file at byte ${position + got} (was it changed while hashing?)`)
        got += n
      }
      for (let i = 0; i < count; i++) {
        const at = job.outOffset + (block + i) * digestSize
        if (oneShot) {
          chunk.copy(salted, salt.length, i * blockSize, (i + 1) * blockSize)
          out.write(cryptoModule.hash('sha256', salted, 'binary'), at, digestSize, 'binary')
        } else {
          out.set(cryptoModule.createHash('sha256').update(salt).update(chunk.subarray(i * blockSize, (i + 1) * blockSize)).digest(), at)
        }
      }
      block += count
    }
  } finally {
    fsModule.closeSync(fd)
  }
}

/**
 * A worker claims units of `unitBlocks` blocks from a shared counter until none are left, so a thread that gets
 * less CPU (a busy machine) does less of the work instead of holding everyone up at the end.
 */
const WORKER_SOURCE = `
const {workerData, parentPort} = require('node:worker_threads')
const hashFileRange = (${hashFileRange.toString()})
const next = new Int32Array(workerData.nextUnit)
const out = new Uint8Array(workerData.shared)
for (;;) {
  const fromBlock = Atomics.add(next, 0, 1) * workerData.unitBlocks
  if (fromBlock >= workerData.blocks) break
  const toBlock = Math.min(workerData.blocks, fromBlock + workerData.unitBlocks)
  hashFileRange(require('node:fs'), require('node:crypto'), {...workerData, fromBlock, toBlock, out})
}
parentPort.postMessage('done')
`

interface WorkerJob extends Omit<FileRangeJob, 'out' | 'fromBlock' | 'toBlock'> {
  blocks: number
  unitBlocks: number
  /** Int32 counter: the next unit to claim. */
  nextUnit: SharedArrayBuffer
  shared: SharedArrayBuffer
}

function runWorker(job: WorkerJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {eval: true, workerData: job})
    let done = false
    worker.once('message', () => {
      done = true
      resolve()
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`verity hash worker exited with code ${code}`))
    })
  })
}

export interface DataLevelOptions {
  /**
   * Threads hashing the data, the calling thread included (it works while the others start); default one per
   * core. 0 hashes on the calling thread in one go, without yielding.
   */
  threads?: number
  chunkBytes?: number
}

/** Below this much data, starting threads costs more than it saves. */
const INLINE_BELOW_BYTES = 32 << 20
const DEFAULT_CHUNK_BYTES = 256 << 10
/** Past a few cores, reading from the page cache (memory bandwidth) is the limit, not hashing. */
const MAX_THREADS = 8
/** Work unit claimed by a thread at a time. */
const UNIT_BYTES = 16 << 20

/**
 * Digest `blocks` data blocks of `path` (from byte `dataOffset`) into `out` (digest i at outOffset + 32 i).
 * `out` must view a SharedArrayBuffer when threads are used.
 */
export async function hashDataBlocks(
  path: string,
  dataOffset: number,
  blockSize: number,
  blocks: number,
  salt: Uint8Array,
  out: Uint8Array,
  outOffset: number,
  opts: DataLevelOptions = {},
): Promise<void> {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES
  const threads = opts.threads ?? (blocks * blockSize < INLINE_BELOW_BYTES ? 0 : Math.min(MAX_THREADS, availableParallelism()))
  const job = {path, dataOffset, blockSize, salt: Uint8Array.from(salt), chunkBytes}
  try {
    if (threads === 0 || blocks < 2) {
      hashFileRange(fs, crypto, {...job, fromBlock: 0, toBlock: blocks, out, outOffset})
      return
    }
    if (!(out.buffer instanceof SharedArrayBuffer)) throw new TypeError('hashDataBlocks: out must view a SharedArrayBuffer to use threads')
    // Small inputs (tests) still get one unit per thread, so every thread has work.
    const unitBlocks = Math.max(1, Math.min(Math.floor(UNIT_BYTES / blockSize), Math.ceil(blocks / threads)))
    const units = Math.ceil(blocks / unitBlocks)
    const nextUnit = new SharedArrayBuffer(4)
    const absoluteOffset = out.byteOffset + outOffset
    const shared = {blocks, unitBlocks, nextUnit, shared: out.buffer, outOffset: absoluteOffset}
    const workers = Array.from({length: Math.min(threads, units) - 1}, () => runWorker({...job, ...shared}))
    // The calling thread takes units too, yielding between them so the event loop (progress display) keeps going.
    const whole = new Uint8Array(out.buffer)
    const next = new Int32Array(nextUnit)
    try {
      for (;;) {
        const fromBlock = Atomics.add(next, 0, 1) * unitBlocks
        if (fromBlock >= blocks) break
        hashFileRange(fs, crypto, {...job, fromBlock, toBlock: Math.min(blocks, fromBlock + unitBlocks), out: whole, outOffset: absoluteOffset})
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      // If this thread failed, the workers stop after their current unit.
      Atomics.store(next, 0, units)
      await Promise.allSettled(workers)
    }
    await Promise.all(workers)
  } catch (err) {
    if (err instanceof KeelError) throw err
    throw new KeelError(`cannot hash ${path}: ${err instanceof Error ? err.message : String(err)}`, 'input')
  }
}

/** Digest `count` consecutive `blockSize` blocks of `input` into `out` at `outOffset` (the small upper levels). */
export function hashBlocksInMemory(input: Uint8Array, blockSize: number, count: number, salt: Uint8Array, out: Uint8Array, outOffset: number): void {
  for (let i = 0; i < count; i++) {
    out.set(saltedDigest(salt, input.subarray(i * blockSize, (i + 1) * blockSize)), outOffset + i * DIGEST_SIZE)
  }
}

export function saltedDigest(salt: Uint8Array, block: Uint8Array): Buffer {
  return crypto.createHash('sha256').update(salt).update(block).digest()
}
