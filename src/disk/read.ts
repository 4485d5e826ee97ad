import {open} from 'node:fs/promises'
import {KeelError} from '../core/errors.js'
import {
  checkHeaderPlacement,
  checkProtectiveMbr,
  crc32,
  decodeEntryArray,
  decodeHeader,
  type GptHeader,
  type GptPartition,
  type GptTable,
  hex32,
  SECTOR_SIZE,
} from './gpt.js'

export interface GptCopyReport {
  valid: boolean
  problems: string[]
  header?: GptHeader
}

export interface ReadGpt {
  path: string
  sizeBytes: number
  totalSectors: number
  /** The table, from the primary copy when it is valid, else from the backup. */
  table: GptTable
  source: 'primary' | 'backup'
  mbr: {valid: boolean; problems: string[]}
  primary: GptCopyReport
  backup: GptCopyReport
  /** Every problem found, each prefixed with where ("primary GPT: ..."). Empty for a healthy disk. */
  problems: string[]
}

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]) // "QFI\xfb"

/** Entry arrays larger than this are not GPTs keel (or any sane tool) wrote. */
const MAX_ENTRY_ARRAY = 4 << 20

type Handle = Awaited<ReturnType<typeof open>>

async function readAt(fh: Handle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  let off = 0
  while (off < length) {
    const {bytesRead} = await fh.read(buf, off, length - off, position + off)
    if (bytesRead === 0) break
    off += bytesRead
  }
  return buf.subarray(0, off)
}

async function readCopy(fh: Handle, which: 'primary' | 'backup', lba: number, totalSectors: number): Promise<{report: GptCopyReport; partitions?: GptPartition[]}> {
  if (lba < 1 || lba >= totalSectors) return {report: {valid: false, problems: [`header LBA ${lba} is outside the disk`]}}
  const {header, problems} = decodeHeader(await readAt(fh, lba * SECTOR_SIZE, SECTOR_SIZE))
  if (!header) return {report: {valid: false, problems}}
  problems.push(...checkHeaderPlacement(header, which, totalSectors, lba))
  const bytes = header.entryCount * header.entrySize
  let partitions: GptPartition[] | undefined
  if (bytes > MAX_ENTRY_ARRAY || header.entriesLba * SECTOR_SIZE + bytes > totalSectors * SECTOR_SIZE) {
    problems.push(`entry array (${header.entryCount} × ${header.entrySize} bytes at LBA ${header.entriesLba}) does not fit the disk`)
  } else {
    const entries = await readAt(fh, header.entriesLba * SECTOR_SIZE, bytes)
    const actual = crc32(entries)
    if (actual !== header.entriesCrc32) problems.push(`entry array CRC32 is ${hex32(header.entriesCrc32)}, computed ${hex32(actual)}`)
    partitions = decodeEntryArray(entries, header.entryCount, header.entrySize)
    for (const p of partitions) {
      if (p.firstLba < header.firstUsableLba || p.lastLba > header.lastUsableLba || p.lastLba < p.firstLba) {
        problems.push(`partition ${p.index} (${p.firstLba}–${p.lastLba}) lies outside the usable LBAs`)
      }
    }
  }
  return {report: {valid: problems.length === 0, problems, header}, partitions}
}

/**
 * Read and verify a raw disk's GPT: the protective MBR, both headers (signature, header CRC, my/alternate
 * LBA, usable range) and both entry arrays (CRC). Problems are reported, not thrown; the table comes from
 * the primary copy if it is valid, else from the backup (as firmware recovers). Throws only when neither
 * copy is usable.
 */
export async function readGpt(path: string): Promise<ReadGpt> {
  const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new KeelError(`cannot open ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 'input')
  })
  try {
    const sizeBytes = (await fh.stat()).size
    const totalSectors = Math.floor(sizeBytes / SECTOR_SIZE)
    const problems: string[] = []
    if (sizeBytes % SECTOR_SIZE) problems.push(`disk: size ${sizeBytes} is not a whole number of 512-byte sectors`)
    if (totalSectors < 68) throw new KeelError(`${path} is too small (${sizeBytes} bytes) to hold a GPT`, 'input')
    const lba0 = await readAt(fh, 0, SECTOR_SIZE)
    if (lba0.subarray(0, 4).equals(QCOW2_MAGIC)) {
      throw new KeelError(`${path} is a qcow2 image; keel reads raw disks`, 'input', `convert it first: qemu-img convert -O raw ${path} disk.img`)
    }
    const mbrProblems = checkProtectiveMbr(lba0)
    problems.push(...mbrProblems.map((p) => `protective MBR: ${p}`))
    const primary = await readCopy(fh, 'primary', 1, totalSectors)
    // The primary says where its backup is; without a usable primary the backup is in the last sector.
    const backupLba = primary.report.header && primary.report.valid ? primary.report.header.alternateLba : totalSectors - 1
    const backup = await readCopy(fh, 'backup', backupLba, totalSectors)
    if (primary.report.valid && backupLba !== totalSectors - 1) {
      problems.push(`disk: the GPT was written for ${backupLba + 1} sectors but the disk has ${totalSectors} (grown?); the backup is not at the end`)
    }
    problems.push(...primary.report.problems.map((p) => `primary GPT: ${p}`))
    problems.push(...backup.report.problems.map((p) => `backup GPT: ${p}`))
    const source = primary.report.valid ? 'primary' : backup.report.valid ? 'backup' : undefined
    if (!source) {
      throw new KeelError(`${path} has no valid GPT:\n${problems.map((p) => `  ${p}`).join('\n')}`, 'integrity')
    }
    if (primary.report.valid && backup.report.valid) problems.push(...compareCopies(primary.report.header!, backup.report.header!))
    const used = source === 'primary' ? primary : backup
    const h = used.report.header!
    return {
      path,
      sizeBytes,
      totalSectors,
      table: {
        diskGuid: h.diskGuid,
        totalSectors,
        firstUsableLba: h.firstUsableLba,
        lastUsableLba: h.lastUsableLba,
        entryCount: h.entryCount,
        entrySize: h.entrySize,
        partitions: used.partitions!,
      },
      source,
      mbr: {valid: mbrProblems.length === 0, problems: mbrProblems},
      primary: primary.report,
      backup: backup.report,
      problems,
    }
  } finally {
    await fh.close()
  }
}

/** Two individually valid copies must still describe the same table. */
function compareCopies(a: GptHeader, b: GptHeader): string[] {
  const out: string[] = []
  if (a.diskGuid !== b.diskGuid) out.push(`copies disagree: disk GUID ${a.diskGuid} vs ${b.diskGuid}`)
  if (a.entriesCrc32 !== b.entriesCrc32) out.push(`copies disagree: entry arrays differ (CRC32 ${hex32(a.entriesCrc32)} vs ${hex32(b.entriesCrc32)})`)
  if (a.firstUsableLba !== b.firstUsableLba || a.lastUsableLba !== b.lastUsableLba) out.push('copies disagree: usable LBA range')
  return out
}
