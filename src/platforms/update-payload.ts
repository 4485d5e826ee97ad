import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {spawnFilter} from '../exec/run.js'
import {COMPRESSORS, hashingTap, readFile, writeStreamAtomically} from './stream.js'

/**
 * The A/B update payload: the slot's /usr filesystem image followed directly by its verity hash device
 * (superblock, then the tree), zstd-compressed. Decompressed, it is one file that `veritysetup verify FILE
 * FILE ROOTHASH --hash-offset=<dataSize>` accepts; an updater writes the first dataSize bytes to the inactive
 * USR partition and the rest to its verity partition (manifest slots.A: rootHash, dataSize, hashSize).
 */
export async function writeUpdatePayload(usr: string, verity: string, out: string): Promise<{sha256: string; size: number}> {
  const {tap, result} = hashingTap()
  await writeStreamAtomically(out, async (sink) => {
    const zstd = spawnFilter('zstd', COMPRESSORS.zstd.args())
    const concatenated = Readable.from(
      (async function* () {
        for (const path of [usr, verity]) for await (const chunk of readFile(path)) yield chunk as Buffer
      })(),
    )
    await Promise.all([pipeline(concatenated, tap, zstd.stdin), pipeline(zstd.stdout, sink), zstd.done])
  })
  return result()
}
