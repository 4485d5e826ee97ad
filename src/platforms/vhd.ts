import {stat} from 'node:fs/promises'
import {KeelError} from '../core/errors.js'
import {copySparse} from './sparse.js'

/**
 * Fixed VHD (Azure): the raw disk, zero-padded to a whole MiB, followed by a 512-byte footer. Field layout
 * and the geometry algorithm are those of Microsoft's "Virtual Hard Disk Image Format Specification"
 * (footer fields big-endian). Everything in the footer derives from the inputs: the UUID from the build
 * seed, the timestamp from SOURCE_DATE_EPOCH.
 */

export const VHD_FOOTER_SIZE = 512
export const MIB = 1 << 20
/** Seconds from the Unix epoch to 2000-01-01T00:00:00Z, the VHD timestamp's origin. */
export const VHD_EPOCH_OFFSET = 946_684_800

export interface ChsGeometry {
  cylinders: number
  heads: number
  sectorsPerTrack: number
}

/** CHS geometry for a disk of `sizeBytes`, exactly as the VHD specification's appendix computes it. */
export function vhdGeometry(sizeBytes: number): ChsGeometry {
  let totalSectors = Math.floor(sizeBytes / 512)
  if (totalSectors > 65535 * 16 * 255) totalSectors = 65535 * 16 * 255
  let sectorsPerTrack: number
  let heads: number
  let cylinderTimesHeads: number
  if (totalSectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255
    heads = 16
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack)
  } else {
    sectorsPerTrack = 17
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack)
    heads = Math.floor((cylinderTimesHeads + 1023) / 1024)
    if (heads < 4) heads = 4
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31
      heads = 16
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack)
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63
      heads = 16
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack)
    }
  }
  return {cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack}
}

export interface VhdFooterInput {
  /** Virtual disk size in bytes (original = current size for a fixed disk). */
  sizeBytes: number
  /** Unix seconds (SOURCE_DATE_EPOCH); stored as seconds since 2000-01-01. */
  epoch: number
  /** RFC 4122 text form; stored in its 16 bytes as written. */
  uuid: string
  /** Four characters. */
  creatorApplication?: string
  /** major.minor as 0xMMMMmmmm. */
  creatorVersion?: number
}

/** One's complement of the byte sum of the footer with its checksum field taken as zero. */
export function vhdChecksum(footer: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < footer.length; i++) if (i < 64 || i >= 68) sum += footer[i]!
  return ~sum >>> 0
}

/** The 512-byte footer of a fixed VHD (pure). */
export function vhdFooter(input: VhdFooterInput): Buffer {
  if (!Number.isSafeInteger(input.sizeBytes) || input.sizeBytes <= 0 || input.sizeBytes % 512) {
    throw new KeelError(`a VHD size must be a positive whole number of 512-byte sectors, not ${input.sizeBytes}`, 'internal')
  }
  const app = input.creatorApplication ?? 'keel'
  if (Buffer.byteLength(app, 'latin1') !== 4) throw new KeelError(`a VHD creator application is four characters, not '${app}'`, 'internal')
  const uuid = Buffer.from(input.uuid.replace(/-/g, ''), 'hex')
  if (uuid.length !== 16) throw new KeelError(`not a UUID: ${input.uuid}`, 'internal')
  const f = Buffer.alloc(VHD_FOOTER_SIZE)
  f.write('conectix', 0, 8, 'latin1') // cookie
  f.writeUInt32BE(0x00000002, 8) // features: the "reserved" bit the spec says is always set
  f.writeUInt32BE(0x00010000, 12) // file format version 1.0
  f.writeBigUInt64BE(0xffffffffffffffffn, 16) // data offset: none (fixed disk)
  f.writeUInt32BE(Math.max(0, input.epoch - VHD_EPOCH_OFFSET) >>> 0, 24)
  f.write(app, 28, 4, 'latin1')
  f.writeUInt32BE(input.creatorVersion ?? 0x00010000, 32)
  f.write('Wi2k', 36, 4, 'latin1') // creator host OS: the spec defines Windows (Wi2k) and Macintosh only
  f.writeBigUInt64BE(BigInt(input.sizeBytes), 40) // original size
  f.writeBigUInt64BE(BigInt(input.sizeBytes), 48) // current size
  const g = vhdGeometry(input.sizeBytes)
  f.writeUInt16BE(g.cylinders, 56)
  f.writeUInt8(g.heads, 58)
  f.writeUInt8(g.sectorsPerTrack, 59)
  f.writeUInt32BE(2, 60) // disk type: fixed
  uuid.copy(f, 68)
  f.writeUInt8(0, 84) // saved state
  f.writeUInt32BE(vhdChecksum(f), 64)
  return f
}

/** The VHD's virtual size: the raw size rounded up to a whole MiB (Azure's requirement). */
export function vhdVirtualSize(rawSize: number): number {
  return Math.ceil(rawSize / MIB) * MIB
}

/**
 * Write the fixed VHD of a raw disk: the data (holes stay holes: all-zero chunks are skipped, so the file is
 * as sparse as its input), zero padding to a whole MiB, the footer. Bounded memory: one 4 MiB buffer.
 */
export async function writeFixedVhd(raw: string, out: string, footer: Omit<VhdFooterInput, 'sizeBytes'>): Promise<{virtualSize: number}> {
  const rawSize = (await stat(raw)).size
  const virtualSize = vhdVirtualSize(rawSize)
  await copySparse(raw, out, {size: virtualSize, trailer: vhdFooter({...footer, sizeBytes: virtualSize})})
  return {virtualSize}
}
