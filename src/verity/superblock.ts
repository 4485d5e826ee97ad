/**
 * The dm-verity superblock as `veritysetup format` writes it (cryptsetup's struct verity_sb): 512 bytes,
 * little-endian, at the start of the hash area. The kernel never reads it; veritysetup and
 * systemd-veritysetup do, to learn the geometry and salt.
 *
 *   0  signature "verity\0\0"   8  version (u32) = 1      12 hash_type (u32) = 1 (normal, not Chrome OS)
 *  16  uuid (16 bytes)         32  algorithm (32 bytes, NUL-padded)
 *  64  data_block_size (u32)   68  hash_block_size (u32) 72 data_blocks (u64)
 *  80  salt_size (u16)         82  padding (6)           88 salt (256 bytes)     344 padding to 512
 */

export const SUPERBLOCK_SIZE = 512
export const MAX_SALT_SIZE = 256
const SIGNATURE = Buffer.from('verity\0\0', 'latin1')
const ALGORITHM_FIELD = 32

export interface VeritySuperblock {
  /** 1 is the only version veritysetup writes. */
  version: number
  /** 1 = salt prepended to each block (normal), 0 = Chrome OS style (salt appended). */
  hashType: number
  /** Canonical lower-case text form, e.g. 11111111-2222-3333-4444-555555555555. */
  uuid: string
  algorithm: string
  dataBlockSize: number
  hashBlockSize: number
  dataBlocks: number
  salt: Uint8Array
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isUuid(text: string): boolean {
  return UUID_RE.test(text.toLowerCase())
}

export function uuidToBytes(uuid: string): Buffer {
  if (!isUuid(uuid)) throw new RangeError(`not a UUID: ${uuid}`)
  return Buffer.from(uuid.replace(/-/g, ''), 'hex')
}

export function bytesToUuid(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export function encodeSuperblock(sb: VeritySuperblock): Buffer {
  if (sb.salt.length > MAX_SALT_SIZE) throw new RangeError(`salt is ${sb.salt.length} bytes, at most ${MAX_SALT_SIZE} fit`)
  if (Buffer.byteLength(sb.algorithm) >= ALGORITHM_FIELD) throw new RangeError(`algorithm name too long: ${sb.algorithm}`)
  const out = Buffer.alloc(SUPERBLOCK_SIZE)
  SIGNATURE.copy(out, 0)
  out.writeUInt32LE(sb.version, 8)
  out.writeUInt32LE(sb.hashType, 12)
  uuidToBytes(sb.uuid).copy(out, 16)
  out.write(sb.algorithm, 32, 'latin1')
  out.writeUInt32LE(sb.dataBlockSize, 64)
  out.writeUInt32LE(sb.hashBlockSize, 68)
  out.writeBigUInt64LE(BigInt(sb.dataBlocks), 72)
  out.writeUInt16LE(sb.salt.length, 80)
  out.set(sb.salt, 88)
  return out
}

/** Decode a superblock, or return null when `bytes` does not start with the verity signature. */
export function decodeSuperblock(bytes: Uint8Array): VeritySuperblock | null {
  if (bytes.length < SUPERBLOCK_SIZE) return null
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, SUPERBLOCK_SIZE)
  if (!b.subarray(0, 8).equals(SIGNATURE)) return null
  const saltSize = b.readUInt16LE(80)
  if (saltSize > MAX_SALT_SIZE) return null
  const algorithmBytes = b.subarray(32, 32 + ALGORITHM_FIELD)
  const nul = algorithmBytes.indexOf(0)
  const dataBlocks = b.readBigUInt64LE(72)
  if (dataBlocks > BigInt(Number.MAX_SAFE_INTEGER)) return null
  return {
    version: b.readUInt32LE(8),
    hashType: b.readUInt32LE(12),
    uuid: bytesToUuid(b.subarray(16, 32)),
    algorithm: algorithmBytes.subarray(0, nul < 0 ? ALGORITHM_FIELD : nul).toString('latin1'),
    dataBlockSize: b.readUInt32LE(64),
    hashBlockSize: b.readUInt32LE(68),
    dataBlocks: Number(dataBlocks),
    salt: Uint8Array.from(b.subarray(88, 88 + saltSize)),
  }
}
