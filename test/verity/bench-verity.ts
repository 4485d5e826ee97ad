/**
 * Verity throughput, keel against `veritysetup format`, for `npm run bench` (scripts/bench.ts imports this).
 * Not a test: it takes a few seconds and a GiB of temp space.
 */
import {createCipheriv} from 'node:crypto'
import {mkdtemp, open, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {formatVerity} from '../../src/verity/format.js'
import {veritysetupFormat} from './oracle.js'

const SALT = 'b3c1a5e7'.repeat(8)
const UUID = '2f0e4b6a-8c1d-4e3f-9a5b-7c6d5e4f3a2b'

/** `size` bytes of AES-CTR keystream, written in slices so the whole file never sits in memory. */
async function writeNoise(path: string, size: number): Promise<void> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16))
  const fh = await open(path, 'w')
  try {
    const slice = Buffer.alloc(64 << 20)
    for (let done = 0; done < size; done += slice.length) await fh.write(cipher.update(slice.subarray(0, Math.min(slice.length, size - done))))
  } finally {
    await fh.close()
  }
}

async function seconds<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now()
  const value = await fn()
  return [(performance.now() - start) / 1000, value]
}

/**
 * Time keel's formatVerity and `veritysetup format` on the same `sizeBytes` of data (page cache warm for both,
 * same salt and UUID), alternating, best of `runs` each. Throws if the root hashes differ.
 */
export async function benchVerity(sizeBytes: number, runs = 3): Promise<{keelSeconds: number; veritysetupSeconds: number}> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-bench-verity-'))
  try {
    const data = join(dir, 'data')
    await writeNoise(data, sizeBytes)
    let keelSeconds = Infinity
    let veritysetupSeconds = Infinity
    for (let i = 0; i < runs; i++) {
      const [theirTime, theirRoot] = await seconds(() => veritysetupFormat(data, join(dir, `theirs-${i}`), {salt: SALT, uuid: UUID}))
      const [ourTime, ours] = await seconds(() => formatVerity(data, join(dir, `ours-${i}`), {salt: Buffer.from(SALT, 'hex'), uuid: UUID}))
      if (ours.rootHash !== theirRoot) throw new Error(`verity root hashes differ: keel ${ours.rootHash}, veritysetup ${theirRoot}`)
      keelSeconds = Math.min(keelSeconds, ourTime)
      veritysetupSeconds = Math.min(veritysetupSeconds, theirTime)
    }
    return {keelSeconds, veritysetupSeconds}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}
