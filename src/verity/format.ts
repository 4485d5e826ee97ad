import {createHash, randomBytes, randomUUID} from 'node:crypto'
import {constants, realpathSync} from 'node:fs'
import {open, stat} from 'node:fs/promises'
import {writeFileAtomic} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {formatBytes, type Reporter, silentReporter} from '../core/progress.js'
import {type DataLevelOptions, hashBlocksInMemory, hashDataBlocks} from './hash.js'
import {encodeSuperblock, isUuid, MAX_SALT_SIZE} from './superblock.js'
import {DIGEST_SIZE, planVerity, type VerityGeometryOptions, type VerityPlan} from './tree.js'

export interface VerityFormatOptions extends VerityGeometryOptions, DataLevelOptions {
  /** Default: 32 random bytes, as veritysetup. Image builds pass a salt derived from their inputs. */
  salt?: Uint8Array
  /** Default: a random UUID, as veritysetup. Ignored without a superblock. */
  uuid?: string
  reporter?: Reporter
}

export interface VerityResult {
  rootHash: string
  /** Hex; empty for an empty salt (veritysetup shows that as "-"). */
  salt: string
  /** null without a superblock (there is nowhere to store one). */
  uuid: string | null
  dataBlocks: number
  dataBlockSize: number
  hashBlockSize: number
  hashOffset: number
  /** Bytes of the hash area written at hashOffset: the superblock (padded to a hash block) and the tree. */
  hashSize: number
}

/**
 * A salt and UUID derived from a build's inputs, so the same inputs give the same hash tree and root hash
 * (veritysetup picks both at random).
 */
export function deriveVerityIdentity(seed: string): {salt: Buffer; uuid: string} {
  const salt = createHash('sha256').update(`keel verity salt\0${seed}`).digest()
  const u = createHash('sha256').update(`keel verity uuid\0${seed}`).digest().subarray(0, 16)
  u[6] = (u[6]! & 0x0f) | 0x40 // a version-4 style UUID: the bits say "not time-based", nothing more
  u[8] = (u[8]! & 0x3f) | 0x80
  const h = u.toString('hex')
  return {salt, uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`}
}

/** Parse a salt as veritysetup takes it: hex digits, or "-" for none. */
export function parseSalt(text: string): Buffer {
  if (text === '-') return Buffer.alloc(0)
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new KeelError(`salt must be hex digits (an even number of them) or "-" for none, got "${text}"`, 'usage')
  const salt = Buffer.from(text, 'hex')
  if (salt.length > MAX_SALT_SIZE) throw new KeelError(`salt is ${salt.length} bytes, at most ${MAX_SALT_SIZE} fit in the superblock`, 'usage')
  return salt
}

export interface HashArea {
  /** The hash area, from hashOffset: superblock block (if any), then levels top first. */
  area: Uint8Array
  rootHash: Buffer
}

/** Hash the data and lay out the whole hash area in memory (about 1/128 of the data with 4 KiB blocks). */
export async function computeHashArea(dataPath: string, plan: VerityPlan, salt: Uint8Array, uuid: string, opts: DataLevelOptions = {}): Promise<HashArea> {
  const area = new Uint8Array(new SharedArrayBuffer(plan.hashAreaSize))
  if (plan.superblock) {
    area.set(
      encodeSuperblock({version: 1, hashType: 1, uuid, algorithm: 'sha256', dataBlockSize: plan.dataBlockSize, hashBlockSize: plan.hashBlockSize, dataBlocks: plan.dataBlocks, salt}),
      0,
    )
  }
  const {levels, hashBlockSize} = plan
  if (levels.length === 0) {
    // One data block: no tree, the root hash is that block's digest.
    const rootHash = Buffer.alloc(DIGEST_SIZE)
    await hashDataBlocks(dataPath, 0, plan.dataBlockSize, 1, salt, rootHash, 0, {...opts, threads: 0})
    return {area, rootHash}
  }
  const at = (level: number) => levels[level]!.offset - plan.hashOffset
  await hashDataBlocks(dataPath, 0, plan.dataBlockSize, plan.dataBlocks, salt, area, at(0), opts)
  for (let i = 1; i < levels.length; i++) {
    const below = levels[i - 1]!
    hashBlocksInMemory(area.subarray(at(i - 1), at(i - 1) + below.blocks * hashBlockSize), hashBlockSize, below.blocks, salt, area, at(i))
  }
  const top = at(levels.length - 1)
  const rootHash = Buffer.alloc(DIGEST_SIZE)
  hashBlocksInMemory(area.subarray(top, top + hashBlockSize), hashBlockSize, 1, salt, rootHash, 0)
  return {area, rootHash}
}

/** Whether two paths name the same file (so the hash area must not overlap the data). */
export function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b)
  } catch {
    return false
  }
}

/**
 * `veritysetup format DATA HASH`, natively. With hashOffset 0 the hash device is written whole, atomically
 * (temp file, fsync, rename). With a hash offset the area is written into the existing file at that offset
 * (DATA may be HASH: the tree goes after the data, as with veritysetup --hash-offset), in one write after
 * all hashing is done; the bytes before the offset are left alone.
 */
export async function formatVerity(dataPath: string, hashPath: string, opts: VerityFormatOptions = {}): Promise<VerityResult> {
  const reporter = opts.reporter ?? silentReporter
  const salt = opts.salt ?? randomBytes(32)
  if (salt.length > MAX_SALT_SIZE) throw new KeelError(`salt is ${salt.length} bytes, at most ${MAX_SALT_SIZE} fit in the superblock`, 'usage')
  const uuid = (opts.uuid ?? randomUUID()).toLowerCase()
  if (!isUuid(uuid)) throw new KeelError(`not a UUID: ${opts.uuid}`, 'usage')
  const dataStat = await stat(dataPath).catch((err: NodeJS.ErrnoException) => {
    throw new KeelError(`cannot read data ${dataPath}: ${err.code ?? err.message}`, 'input')
  })
  if (!dataStat.isFile()) throw new KeelError(`data ${dataPath} is not a regular file`, 'input')
  const plan = planVerity(dataStat.size, opts)
  const inPlace = sameFile(dataPath, hashPath)
  if (inPlace && plan.hashOffset < plan.dataBlocks * plan.dataBlockSize) {
    throw new KeelError(
      `the hash area at offset ${plan.hashOffset} would overwrite the data (${plan.dataBlocks * plan.dataBlockSize} bytes) in ${dataPath}`,
      'usage',
      'give --hash-offset at or beyond the end of the data, or --data-blocks when the file already carries a tree',
    )
  }

  reporter.status(`verity: hashing ${formatBytes(plan.dataBlocks * plan.dataBlockSize)}`)
  const {area, rootHash} = await computeHashArea(dataPath, plan, salt, uuid, opts)
  reporter.status(`verity: writing ${formatBytes(area.length)} of hash tree`)
  if (plan.hashOffset === 0 && !inPlace) {
    await writeFileAtomic(hashPath, Buffer.from(area.buffer, area.byteOffset, area.length))
  } else {
    const fh = await open(hashPath, constants.O_RDWR | constants.O_CREAT, 0o644)
    try {
      const bytes = Buffer.from(area.buffer, area.byteOffset, area.length)
      for (let done = 0; done < bytes.length; ) {
        const {bytesWritten} = await fh.write(bytes, done, bytes.length - done, plan.hashOffset + done)
        done += bytesWritten
      }
      await fh.sync()
    } finally {
      await fh.close()
    }
  }
  return {
    rootHash: rootHash.toString('hex'),
    salt: Buffer.from(salt).toString('hex'),
    uuid: plan.superblock ? uuid : null,
    dataBlocks: plan.dataBlocks,
    dataBlockSize: plan.dataBlockSize,
    hashBlockSize: plan.hashBlockSize,
    hashOffset: plan.hashOffset,
    hashSize: plan.hashAreaSize,
  }
}
