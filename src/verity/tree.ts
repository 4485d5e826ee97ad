import {KeelError} from '../core/errors.js'
import {SUPERBLOCK_SIZE} from './superblock.js'

/**
 * Geometry of a dm-verity hash tree, computed exactly as cryptsetup's hash_levels() does, so the disk planner
 * can size the verity partition before a byte is hashed.
 *
 * Level 0 holds the digests of the data blocks, level 1 the digests of level 0's hash blocks, and so on up to a
 * level that fits in one hash block; the root hash is the digest of that block. On disk the highest level
 * comes first, right after the superblock (rounded up to a hash block), level 0 last.
 */

export const DIGEST_SIZE = 32
export const DEFAULT_BLOCK_SIZE = 4096
const MIN_BLOCK_SIZE = 512
const MAX_BLOCK_SIZE = 512 * 1024

export interface VerityGeometryOptions {
  /** Default 4096, as veritysetup. */
  dataBlockSize?: number
  /** Default 4096, as veritysetup. */
  hashBlockSize?: number
  /** Byte offset of the hash area (superblock, then tree) in the hash device. Default 0. */
  hashOffset?: number
  /** Write the superblock (default true); false is veritysetup's --no-superblock. */
  superblock?: boolean
  /** Hash only this many data blocks (veritysetup --data-blocks); default: every whole block of the data. */
  dataBlocks?: number
}

export interface VerityLevel {
  /** 0 = digests of the data blocks. */
  level: number
  /** Hash blocks in this level. */
  blocks: number
  /** Byte offset of the level's first hash block in the hash device. */
  offset: number
}

export interface VerityPlan {
  dataBlocks: number
  dataBlockSize: number
  hashBlockSize: number
  digestSize: number
  /** Digests in one hash block. */
  hashesPerBlock: number
  hashOffset: number
  superblock: boolean
  /** Byte offset of the first hash block (the top level) in the hash device. */
  treeOffset: number
  /** levels[0] is the level over the data; empty when there is a single data block (root = its digest). */
  levels: VerityLevel[]
  /** Bytes from hashOffset to the end of the tree: superblock (padded to a hash block) plus every level. */
  hashAreaSize: number
  /** hashOffset + hashAreaSize: how large the hash device (or the data file, in hash-offset mode) ends up. */
  hashDeviceSize: number
}

function checkBlockSize(name: string, n: number): void {
  if (!Number.isInteger(n) || n < MIN_BLOCK_SIZE || n > MAX_BLOCK_SIZE || (n & (n - 1)) !== 0) {
    throw new KeelError(`${name} must be a power of two from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}, got ${n}`, 'usage')
  }
}

/** Plan the tree for `dataSize` bytes of data. A trailing partial block is not covered, as with veritysetup. */
export function planVerity(dataSize: number, opts: VerityGeometryOptions = {}): VerityPlan {
  const dataBlockSize = opts.dataBlockSize ?? DEFAULT_BLOCK_SIZE
  const hashBlockSize = opts.hashBlockSize ?? DEFAULT_BLOCK_SIZE
  const hashOffset = opts.hashOffset ?? 0
  const superblock = opts.superblock ?? true
  checkBlockSize('data block size', dataBlockSize)
  checkBlockSize('hash block size', hashBlockSize)
  if (!Number.isSafeInteger(hashOffset) || hashOffset < 0 || hashOffset % 512 !== 0) {
    throw new KeelError(`hash offset must be a multiple of 512 bytes, got ${hashOffset}`, 'usage')
  }
  if (!superblock && hashOffset % hashBlockSize !== 0) {
    // veritysetup would silently round such an offset down and write the tree before it.
    throw new KeelError(`without a superblock the hash offset must be a multiple of the hash block size (${hashBlockSize}), got ${hashOffset}`, 'usage')
  }
  const wholeBlocks = Math.floor(dataSize / dataBlockSize)
  const dataBlocks = opts.dataBlocks ?? wholeBlocks
  if (!Number.isSafeInteger(dataBlocks) || dataBlocks < 1) {
    throw new KeelError(`the data must hold at least one ${dataBlockSize}-byte block (it has ${dataSize} bytes)`, 'input')
  }
  if (dataBlocks > wholeBlocks) {
    throw new KeelError(`${dataBlocks} data blocks of ${dataBlockSize} bytes asked for, but the data has only ${wholeBlocks}`, 'input')
  }

  const hashesPerBlock = hashBlockSize / DIGEST_SIZE
  // Level count: the smallest n with (dataBlocks - 1) / hashesPerBlock^n < 1. Powers of two stay exact in doubles.
  let levelCount = 0
  while (Math.floor((dataBlocks - 1) / hashesPerBlock ** levelCount) > 0) levelCount++
  const levelBlocks = Array.from({length: levelCount}, (_, i) => Math.ceil(dataBlocks / hashesPerBlock ** (i + 1)))

  const treeStartBlock = superblock ? Math.ceil((hashOffset + SUPERBLOCK_SIZE) / hashBlockSize) : hashOffset / hashBlockSize
  const levels: VerityLevel[] = new Array(levelCount)
  let position = treeStartBlock
  for (let i = levelCount - 1; i >= 0; i--) {
    levels[i] = {level: i, blocks: levelBlocks[i]!, offset: position * hashBlockSize}
    position += levelBlocks[i]!
  }
  const hashDeviceSize = position * hashBlockSize
  return {
    dataBlocks,
    dataBlockSize,
    hashBlockSize,
    digestSize: DIGEST_SIZE,
    hashesPerBlock,
    hashOffset,
    superblock,
    treeOffset: treeStartBlock * hashBlockSize,
    levels,
    hashAreaSize: hashDeviceSize - hashOffset,
    hashDeviceSize,
  }
}
