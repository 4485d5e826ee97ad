import {open} from 'node:fs/promises'
import {saltedDigest} from '../verity/hash.js'
import {decodeSuperblock, SUPERBLOCK_SIZE} from '../verity/superblock.js'
import {planVerity} from '../verity/tree.js'
import {type GptPartition, type GptTable, SECTOR_SIZE} from './gpt.js'
import {slotPartitions, verityPartnerOf} from './slots.js'

/** What the verity superblock at the start of a usr-verity partition says, and the root hash its tree implies. */
export interface VerityInfo {
  /** The verity partition's name. */
  partition: string
  uuid: string
  algorithm: string
  dataBlockSize: number
  hashBlockSize: number
  dataBlocks: number
  salt: string
  /**
   * sha256(salt ‖ top hash block), read from the tree; not a verification of the data (keel verity verify
   * does that). Absent when it could not be derived (see `note`).
   */
  rootHash?: string
  note?: string
}

type Handle = Awaited<ReturnType<typeof open>>

async function readAt(fh: Handle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  const {bytesRead} = await fh.read(buf, 0, length, position)
  return buf.subarray(0, bytesRead)
}

/**
 * Read the verity superblock of `verity` (a partition of the disk at `path`) and derive the root hash from
 * the top block of its tree; a tree of a single data block has no hash blocks, so that block of `data` is
 * hashed instead. Undefined when the partition holds no superblock (an empty slot).
 */
export async function readVerityInfo(path: string, verity: GptPartition, data: GptPartition | undefined): Promise<VerityInfo | undefined> {
  const fh = await open(path, 'r')
  try {
    const base = verity.firstLba * SECTOR_SIZE
    const partitionBytes = (verity.lastLba - verity.firstLba + 1) * SECTOR_SIZE
    const sb = decodeSuperblock(await readAt(fh, base, SUPERBLOCK_SIZE))
    if (!sb) return undefined
    const info: VerityInfo = {
      partition: verity.name,
      uuid: sb.uuid,
      algorithm: sb.algorithm,
      dataBlockSize: sb.dataBlockSize,
      hashBlockSize: sb.hashBlockSize,
      dataBlocks: sb.dataBlocks,
      salt: Buffer.from(sb.salt).toString('hex'),
    }
    if (sb.algorithm !== 'sha256' || sb.hashType !== 1) return {...info, note: `root hash not derived: ${sb.algorithm}, hash type ${sb.hashType} (keel reads sha256, type 1)`}
    let plan
    try {
      plan = planVerity(sb.dataBlocks * sb.dataBlockSize, {dataBlockSize: sb.dataBlockSize, hashBlockSize: sb.hashBlockSize})
    } catch (err) {
      return {...info, note: `root hash not derived: ${(err as Error).message}`}
    }
    if (plan.hashDeviceSize > partitionBytes) return {...info, note: `the superblock describes a tree larger than ${verity.name}`}
    let top: Buffer
    if (plan.levels.length) top = await readAt(fh, base + plan.levels.at(-1)!.offset, plan.hashBlockSize)
    else if (data) top = await readAt(fh, data.firstLba * SECTOR_SIZE, plan.dataBlockSize)
    else return {...info, note: 'root hash not derived: single data block and no data partition'}
    return {...info, rootHash: saltedDigest(sb.salt, top).toString('hex')}
  } finally {
    await fh.close()
  }
}

/**
 * The verity details of every /usr slot that has a verity partner holding a superblock, keyed by the slot
 * partition's index (the shape inspectGpt takes).
 */
export async function readSlotVerity(path: string, table: GptTable): Promise<Map<number, VerityInfo & {verityPartition: string}>> {
  const out = new Map<number, VerityInfo & {verityPartition: string}>()
  for (const usr of slotPartitions(table)) {
    const partner = verityPartnerOf(table, usr)
    if (!partner) continue
    const info = await readVerityInfo(path, partner, usr)
    if (info) out.set(usr.index, {...info, verityPartition: partner.name})
  }
  return out
}
