import {KeelError} from '../core/errors.js'
import {decodeGuid, encodeGuid, NIL_GUID} from './guids.js'

/**
 * GPT, pure: protective MBR, primary and backup headers, partition entry arrays and their CRC32s, encoded to
 * and decoded from buffers (UEFI 2.10 §5.3). Logical blocks are 512 bytes; LBAs are plain numbers (2^53
 * sectors is far beyond any image keel writes).
 */

export const SECTOR_SIZE = 512
export const ENTRY_SIZE = 128
export const DEFAULT_ENTRY_COUNT = 128
const HEADER_SIZE = 92
const SIGNATURE = Buffer.from('EFI PART', 'latin1')
const REVISION_1_0 = 0x00010000
/** UTF-16 code units in an entry's name field (72 bytes). */
export const MAX_NAME_LENGTH = 36

// ---- CRC32 (IEEE 802.3, reflected, as UEFI uses) ------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC32 of `data` (node:zlib only gained crc32 in Node 20.15; GPT tables are small, a table loop is enough). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

// ---- Types ---------------------------------------------------------------------------------------------------

/** One used slot of the entry array. `index` is 1-based, as sgdisk and Linux number partitions. */
export interface GptPartition {
  index: number
  typeGuid: string
  guid: string
  firstLba: number
  /** Inclusive. */
  lastLba: number
  attributes: bigint
  name: string
}

export interface GptTable {
  diskGuid: string
  totalSectors: number
  firstUsableLba: number
  lastUsableLba: number
  entryCount: number
  entrySize: number
  partitions: GptPartition[]
}

export interface GptHeader {
  revision: number
  headerSize: number
  headerCrc32: number
  myLba: number
  alternateLba: number
  firstUsableLba: number
  lastUsableLba: number
  diskGuid: string
  entriesLba: number
  entryCount: number
  entrySize: number
  entriesCrc32: number
}

/** Where everything sits on a disk of `totalSectors` with the standard 128-entry arrays. */
export function gptGeometry(totalSectors: number, entryCount = DEFAULT_ENTRY_COUNT) {
  const entrySectors = Math.ceil((entryCount * ENTRY_SIZE) / SECTOR_SIZE)
  const backupHeaderLba = totalSectors - 1
  const backupEntriesLba = backupHeaderLba - entrySectors
  return {
    entrySectors,
    primaryEntriesLba: 2,
    firstUsableLba: 2 + entrySectors,
    lastUsableLba: backupEntriesLba - 1,
    backupEntriesLba,
    backupHeaderLba,
  }
}

// ---- Encoding ------------------------------------------------------------------------------------------------

/** LBA 0: an MBR with one 0xEE partition covering the disk, so MBR-only tools see it as in use. */
export function encodeProtectiveMbr(totalSectors: number): Buffer {
  const mbr = Buffer.alloc(SECTOR_SIZE)
  const p = 446
  mbr[p + 0] = 0x00 // not active
  mbr.set([0x00, 0x02, 0x00], p + 1) // CHS of LBA 1
  mbr[p + 4] = 0xee
  mbr.set([0xff, 0xff, 0xff], p + 5) // CHS end: "too large", as the spec allows
  mbr.writeUInt32LE(1, p + 8)
  mbr.writeUInt32LE(Math.min(totalSectors - 1, 0xffffffff), p + 12)
  mbr[510] = 0x55
  mbr[511] = 0xaa
  return mbr
}

function encodeName(name: string): Buffer {
  if (name.length > MAX_NAME_LENGTH) throw new KeelError(`partition name longer than ${MAX_NAME_LENGTH} characters: ${name}`, 'input')
  const out = Buffer.alloc(72)
  out.write(name, 0, 'utf16le')
  return out
}

/** The entry array (entryCount × 128 bytes); unused entries are all zero. */
export function encodeEntryArray(table: GptTable): Buffer {
  const buf = Buffer.alloc(table.entryCount * table.entrySize)
  for (const p of table.partitions) {
    if (p.index < 1 || p.index > table.entryCount) throw new KeelError(`partition index ${p.index} outside 1..${table.entryCount}`, 'input')
    const off = (p.index - 1) * table.entrySize
    encodeGuid(p.typeGuid).copy(buf, off)
    encodeGuid(p.guid).copy(buf, off + 16)
    buf.writeBigUInt64LE(BigInt(p.firstLba), off + 32)
    buf.writeBigUInt64LE(BigInt(p.lastLba), off + 40)
    buf.writeBigUInt64LE(p.attributes, off + 48)
    encodeName(p.name).copy(buf, off + 56)
  }
  return buf
}

/** One header sector; the header CRC is computed here, over the 92 header bytes with the CRC field zero. */
export function encodeHeader(h: Omit<GptHeader, 'headerCrc32' | 'revision' | 'headerSize'>): Buffer {
  const sector = Buffer.alloc(SECTOR_SIZE)
  SIGNATURE.copy(sector, 0)
  sector.writeUInt32LE(REVISION_1_0, 8)
  sector.writeUInt32LE(HEADER_SIZE, 12)
  sector.writeBigUInt64LE(BigInt(h.myLba), 24)
  sector.writeBigUInt64LE(BigInt(h.alternateLba), 32)
  sector.writeBigUInt64LE(BigInt(h.firstUsableLba), 40)
  sector.writeBigUInt64LE(BigInt(h.lastUsableLba), 48)
  encodeGuid(h.diskGuid).copy(sector, 56)
  sector.writeBigUInt64LE(BigInt(h.entriesLba), 72)
  sector.writeUInt32LE(h.entryCount, 80)
  sector.writeUInt32LE(h.entrySize, 84)
  sector.writeUInt32LE(h.entriesCrc32, 88)
  sector.writeUInt32LE(crc32(sector.subarray(0, HEADER_SIZE)), 16)
  return sector
}

export interface EncodedGpt {
  /** LBA 0 up to the end of the primary entry array (34 sectors with 128 entries). */
  primary: Buffer
  /** The backup entry array followed by the backup header: the disk's last sectors. */
  backup: Buffer
  /** Byte offset at which `backup` is written. */
  backupOffset: number
}

/** Both GPT copies and the protective MBR for `table`, ready to be written. */
export function encodeGpt(table: GptTable): EncodedGpt {
  const problems = validateTable(table)
  if (problems.length) throw new KeelError(`invalid partition table: ${problems.join('; ')}`, 'input')
  const g = gptGeometry(table.totalSectors, table.entryCount)
  const entries = encodeEntryArray(table)
  const entriesCrc32 = crc32(entries)
  const common = {firstUsableLba: table.firstUsableLba, lastUsableLba: table.lastUsableLba, diskGuid: table.diskGuid, entryCount: table.entryCount, entrySize: table.entrySize, entriesCrc32}
  const primaryHeader = encodeHeader({...common, myLba: 1, alternateLba: g.backupHeaderLba, entriesLba: g.primaryEntriesLba})
  const backupHeader = encodeHeader({...common, myLba: g.backupHeaderLba, alternateLba: 1, entriesLba: g.backupEntriesLba})
  return {
    primary: Buffer.concat([encodeProtectiveMbr(table.totalSectors), primaryHeader, entries]),
    backup: Buffer.concat([entries, backupHeader]),
    backupOffset: g.backupEntriesLba * SECTOR_SIZE,
  }
}

/** Structural problems that would make the table invalid: ranges, overlaps, duplicate indexes and GUIDs. */
export function validateTable(table: GptTable): string[] {
  const problems: string[] = []
  const g = gptGeometry(table.totalSectors, table.entryCount)
  if (table.entrySize !== ENTRY_SIZE) problems.push(`entry size ${table.entrySize} (keel writes ${ENTRY_SIZE})`)
  if (table.firstUsableLba < g.firstUsableLba) problems.push(`first usable LBA ${table.firstUsableLba} overlaps the primary entry array`)
  if (table.lastUsableLba > g.lastUsableLba) problems.push(`last usable LBA ${table.lastUsableLba} overlaps the backup entry array`)
  const sorted = [...table.partitions].sort((a, b) => a.firstLba - b.firstLba)
  const seenIndex = new Set<number>()
  const seenGuid = new Map<string, number>()
  for (const p of sorted) {
    if (seenIndex.has(p.index)) problems.push(`partition index ${p.index} used twice`)
    seenIndex.add(p.index)
    const other = seenGuid.get(p.guid.toLowerCase())
    if (other !== undefined) problems.push(`partitions ${other} and ${p.index} share GUID ${p.guid}`)
    seenGuid.set(p.guid.toLowerCase(), p.index)
    if (p.typeGuid.toLowerCase() === NIL_GUID) problems.push(`partition ${p.index} has the unused (nil) type GUID`)
    if (p.lastLba < p.firstLba) problems.push(`partition ${p.index} ends (${p.lastLba}) before it starts (${p.firstLba})`)
    if (p.firstLba < table.firstUsableLba || p.lastLba > table.lastUsableLba) {
      problems.push(`partition ${p.index} (${p.firstLba}–${p.lastLba}) lies outside the usable LBAs ${table.firstUsableLba}–${table.lastUsableLba}`)
    }
  }
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.firstLba <= sorted[i - 1]!.lastLba) problems.push(`partitions ${sorted[i - 1]!.index} and ${sorted[i]!.index} overlap`)
  }
  return problems
}

// ---- Decoding ------------------------------------------------------------------------------------------------

/** Parse a header sector; problems are reported, not thrown, so a reader can fall back to the other copy. */
export function decodeHeader(sector: Uint8Array): {header?: GptHeader; problems: string[]} {
  const buf = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength)
  if (buf.length < HEADER_SIZE || !buf.subarray(0, 8).equals(SIGNATURE)) return {problems: ['no "EFI PART" signature']}
  const headerSize = buf.readUInt32LE(12)
  if (headerSize < HEADER_SIZE || headerSize > buf.length) return {problems: [`header size ${headerSize} is out of range`]}
  const header: GptHeader = {
    revision: buf.readUInt32LE(8),
    headerSize,
    headerCrc32: buf.readUInt32LE(16),
    myLba: Number(buf.readBigUInt64LE(24)),
    alternateLba: Number(buf.readBigUInt64LE(32)),
    firstUsableLba: Number(buf.readBigUInt64LE(40)),
    lastUsableLba: Number(buf.readBigUInt64LE(48)),
    diskGuid: decodeGuid(buf, 56),
    entriesLba: Number(buf.readBigUInt64LE(72)),
    entryCount: buf.readUInt32LE(80),
    entrySize: buf.readUInt32LE(84),
    entriesCrc32: buf.readUInt32LE(88),
  }
  const problems: string[] = []
  const copy = Buffer.from(buf.subarray(0, headerSize))
  copy.writeUInt32LE(0, 16)
  const actual = crc32(copy)
  if (actual !== header.headerCrc32) problems.push(`header CRC32 is ${hex32(header.headerCrc32)}, computed ${hex32(actual)}`)
  if (header.entrySize < ENTRY_SIZE || header.entrySize % 8) problems.push(`entry size ${header.entrySize} is invalid`)
  if (header.entryCount === 0 || header.entryCount > 65536) problems.push(`entry count ${header.entryCount} is implausible`)
  return {header, problems}
}

/**
 * Check a decoded header against where it was found (`foundAt`) and the disk's size. A primary whose backup
 * sits before the last sector is still valid (the disk was grown after the GPT was written); readGpt notes it.
 */
export function checkHeaderPlacement(h: GptHeader, which: 'primary' | 'backup', totalSectors: number, foundAt = which === 'primary' ? 1 : totalSectors - 1): string[] {
  const problems: string[] = []
  if (h.myLba !== foundAt) problems.push(`my LBA is ${h.myLba}, expected ${foundAt}`)
  if (which === 'primary' && (h.alternateLba <= h.lastUsableLba || h.alternateLba > totalSectors - 1)) {
    problems.push(`alternate LBA ${h.alternateLba} is not between the usable area and the disk's last LBA ${totalSectors - 1}`)
  }
  if (which === 'backup' && h.alternateLba !== 1) problems.push(`alternate LBA is ${h.alternateLba}, expected 1`)
  if (h.firstUsableLba > h.lastUsableLba) problems.push(`first usable LBA ${h.firstUsableLba} is after last usable LBA ${h.lastUsableLba}`)
  const entryEnd = h.entriesLba + Math.ceil((h.entryCount * h.entrySize) / SECTOR_SIZE) - 1
  if (which === 'primary' && (h.entriesLba < 2 || entryEnd >= h.firstUsableLba)) problems.push(`entry array at LBA ${h.entriesLba} overlaps the usable area`)
  if (which === 'backup' && (h.entriesLba <= h.lastUsableLba || entryEnd >= foundAt)) problems.push(`entry array at LBA ${h.entriesLba} overlaps the usable area or the header`)
  return problems
}

/** Used entries of an entry array (type GUID not nil), with their 1-based index. */
export function decodeEntryArray(buf: Uint8Array, entryCount: number, entrySize: number): GptPartition[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const out: GptPartition[] = []
  for (let i = 0; i < entryCount; i++) {
    const off = i * entrySize
    const typeGuid = decodeGuid(b, off)
    if (typeGuid === NIL_GUID) continue
    const nameBytes = b.subarray(off + 56, off + 128)
    let end = 0
    while (end < nameBytes.length - 1 && (nameBytes[end] !== 0 || nameBytes[end + 1] !== 0)) end += 2
    out.push({
      index: i + 1,
      typeGuid,
      guid: decodeGuid(b, off + 16),
      firstLba: Number(b.readBigUInt64LE(off + 32)),
      lastLba: Number(b.readBigUInt64LE(off + 40)),
      attributes: b.readBigUInt64LE(off + 48),
      name: nameBytes.subarray(0, end).toString('utf16le'),
    })
  }
  return out
}

/** Whether LBA 0 holds a protective MBR (one 0xEE partition starting at LBA 1). */
export function checkProtectiveMbr(sector: Uint8Array): string[] {
  const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength)
  if (b[510] !== 0x55 || b[511] !== 0xaa) return ['no MBR boot signature 0x55AA at LBA 0']
  const types = [0, 1, 2, 3].map((i) => b[446 + i * 16 + 4])
  if (!types.includes(0xee)) return ['the MBR has no protective (0xEE) partition']
  return []
}

export function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`
}
