import {open, stat} from 'node:fs/promises'
import {KeelError} from '../core/errors.js'
import {formatBytes, type Reporter, silentReporter} from '../core/progress.js'
import {sameFile} from './format.js'
import {type DataLevelOptions, hashBlocksInMemory, hashDataBlocks, saltedDigest} from './hash.js'
import {decodeSuperblock, SUPERBLOCK_SIZE} from './superblock.js'
import {DIGEST_SIZE, planVerity, type VerityGeometryOptions, type VerityPlan} from './tree.js'

export interface VerityVerifyOptions extends VerityGeometryOptions, DataLevelOptions {
  /** Required without a superblock (empty Uint8Array for none); otherwise read from it and, if given, checked. */
  salt?: Uint8Array
  reporter?: Reporter
}

/** The first block found corrupt, top of the tree first (as the kernel walks it). */
export interface CorruptBlock {
  area: 'data' | 'hash'
  /** Tree level of a hash block (0 = the level over the data); null for a data block. */
  level: number | null
  /** Block index within the data or within its level. */
  block: number
  /** Byte offset of the block in the data file or hash device. */
  offset: number
}

export interface VerityVerifyResult {
  ok: boolean
  corrupt: CorruptBlock | null
  plan: VerityPlan
  salt: string
}

export function describeCorruptBlock(c: CorruptBlock): string {
  return c.area === 'data'
    ? `data block ${c.block} (byte ${c.offset} of the data) does not match the hash tree`
    : `hash block ${c.block} of level ${c.level} (byte ${c.offset} of the hash device) does not match the level above it`
}

async function readExactly(path: string, position: number, length: number, what: string): Promise<Buffer> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new KeelError(`cannot read ${what} ${path}: ${err.code ?? err.message}`, 'input')
  })
  try {
    const out = Buffer.alloc(length)
    for (let got = 0; got < length; ) {
      const {bytesRead} = await fh.read(out, got, length - got, position + got)
      if (bytesRead === 0) throw new KeelError(`${what} ${path} ends at byte ${position + got}, before the ${length}-byte region at ${position} it should hold`, 'integrity')
      got += bytesRead
    }
    return out
  } finally {
    await fh.close()
  }
}

function mismatch(what: string, fromSuperblock: number | string, given: number | string | undefined): void {
  if (given !== undefined && given !== fromSuperblock) {
    throw new KeelError(`the superblock says ${what} is ${fromSuperblock}, but ${given} was given`, 'usage')
  }
}

/** Geometry and salt: from the superblock when there is one (checking any that were given), else as given. */
async function resolveParameters(dataSize: number, hashPath: string, opts: VerityVerifyOptions): Promise<{plan: VerityPlan; salt: Uint8Array}> {
  if (opts.superblock === false) {
    if (!opts.salt) throw new KeelError('without a superblock the salt must be given ("-" for none)', 'usage')
    return {plan: planVerity(dataSize, opts), salt: opts.salt}
  }
  const hashOffset = opts.hashOffset ?? 0
  const sb = decodeSuperblock(await readExactly(hashPath, hashOffset, SUPERBLOCK_SIZE, 'hash device'))
  if (!sb) throw new KeelError(`no verity superblock at byte ${hashOffset} of ${hashPath}`, 'integrity', 'for a tree written with --no-superblock, say so and give --salt')
  if (sb.version !== 1 || sb.hashType !== 1 || sb.algorithm !== 'sha256') {
    throw new KeelError(`unsupported verity superblock (version ${sb.version}, hash type ${sb.hashType}, ${sb.algorithm}); keel handles version 1, type 1, sha256`, 'input')
  }
  mismatch('the data block size', sb.dataBlockSize, opts.dataBlockSize)
  mismatch('the hash block size', sb.hashBlockSize, opts.hashBlockSize)
  mismatch('the number of data blocks', sb.dataBlocks, opts.dataBlocks)
  if (opts.salt) mismatch('the salt', Buffer.from(sb.salt).toString('hex') || '-', Buffer.from(opts.salt).toString('hex') || '-')
  const plan = planVerity(dataSize, {...opts, dataBlockSize: sb.dataBlockSize, hashBlockSize: sb.hashBlockSize, dataBlocks: sb.dataBlocks})
  return {plan, salt: sb.salt}
}

/**
 * How much of DATA is data: with the tree in the same file at a hash offset, only what lies before the offset
 * (veritysetup would need --data-blocks; reading is harmless, so verify assumes it).
 */
function dataSizeOf(fileSize: number, dataPath: string, hashPath: string, hashOffset: number | undefined): number {
  return hashOffset && sameFile(dataPath, hashPath) ? Math.min(fileSize, hashOffset) : fileSize
}

function firstDifferentDigest(a: Uint8Array, b: Uint8Array, count: number): number {
  const bytes = count * DIGEST_SIZE
  if (Buffer.compare(a.subarray(0, bytes), b.subarray(0, bytes)) === 0) return -1
  for (let i = 0; i < count; i++) {
    const start = i * DIGEST_SIZE
    if (Buffer.compare(a.subarray(start, start + DIGEST_SIZE), b.subarray(start, start + DIGEST_SIZE)) !== 0) return i
  }
  return -1
}

/**
 * `veritysetup verify DATA HASH ROOTHASH`, natively: check the stored tree from the root down, then every data
 * block against level 0, and report the first block that does not match.
 */
export async function verifyVerity(dataPath: string, hashPath: string, rootHash: string, opts: VerityVerifyOptions = {}): Promise<VerityVerifyResult> {
  const reporter = opts.reporter ?? silentReporter
  if (!/^[0-9a-fA-F]{64}$/.test(rootHash)) throw new KeelError(`root hash must be 64 hex digits (sha256), got "${rootHash}"`, 'usage')
  const expectedRoot = Buffer.from(rootHash, 'hex')
  const dataStat = await stat(dataPath).catch((err: NodeJS.ErrnoException) => {
    throw new KeelError(`cannot read data ${dataPath}: ${err.code ?? err.message}`, 'input')
  })
  const {plan, salt} = await resolveParameters(dataSizeOf(dataStat.size, dataPath, hashPath, opts.hashOffset), hashPath, opts)
  const result = (corrupt: CorruptBlock | null): VerityVerifyResult => ({ok: corrupt === null, corrupt, plan, salt: Buffer.from(salt).toString('hex')})
  const {levels, hashBlockSize, dataBlockSize} = plan

  if (levels.length === 0) {
    const block = await readExactly(dataPath, 0, dataBlockSize, 'data')
    return result(saltedDigest(salt, block).equals(expectedRoot) ? null : {area: 'data', level: null, block: 0, offset: 0})
  }

  const tree = await readExactly(hashPath, plan.treeOffset, plan.hashDeviceSize - plan.treeOffset, 'hash device')
  const levelBytes = (i: number) => {
    const start = levels[i]!.offset - plan.treeOffset
    return tree.subarray(start, start + levels[i]!.blocks * hashBlockSize)
  }
  const top = levels.length - 1
  if (!saltedDigest(salt, levelBytes(top).subarray(0, hashBlockSize)).equals(expectedRoot)) {
    return result({area: 'hash', level: top, block: 0, offset: levels[top]!.offset})
  }
  for (let i = top; i >= 1; i--) {
    const below = levels[i - 1]!
    const computed = Buffer.alloc(below.blocks * DIGEST_SIZE)
    hashBlocksInMemory(levelBytes(i - 1), hashBlockSize, below.blocks, salt, computed, 0)
    const bad = firstDifferentDigest(computed, levelBytes(i), below.blocks)
    if (bad >= 0) return result({area: 'hash', level: i - 1, block: bad, offset: below.offset + bad * hashBlockSize})
  }

  reporter.status(`verity: hashing ${formatBytes(plan.dataBlocks * dataBlockSize)}`)
  const computed = new Uint8Array(new SharedArrayBuffer(plan.dataBlocks * DIGEST_SIZE))
  await hashDataBlocks(dataPath, 0, dataBlockSize, plan.dataBlocks, salt, computed, 0, opts)
  const bad = firstDifferentDigest(computed, levelBytes(0), plan.dataBlocks)
  return result(bad >= 0 ? {area: 'data', level: null, block: bad, offset: bad * dataBlockSize} : null)
}
