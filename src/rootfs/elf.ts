/**
 * A minimal ELF reader: just enough of the header, program headers and dynamic section to say which shared
 * libraries and interpreter a program needs. No I/O of its own: the caller hands in a `read(offset, length)`
 * that may return fewer bytes (end of file), so a 40 MB binary costs a few small reads, not a whole load.
 * Malformed input yields undefined or partial information, never an exception.
 */
export type ElfRead = (offset: number, length: number) => Buffer

export type ElfType = 'exec' | 'dyn' | 'rel' | 'core' | 'other'

export interface ElfDynamicInfo {
  class: 32 | 64
  machine: number
  type: ElfType
  /** PT_INTERP: the program interpreter (dynamic loader) path. */
  interpreter?: string
  /** True when the file has a PT_DYNAMIC segment, i.e. it is dynamically linked (static-pie has one too). */
  dynamic: boolean
  /** DT_NEEDED names, in file order. */
  needed: string[]
  /** DT_RUNPATH and DT_RPATH, split at ':' (empty elements dropped). */
  runpath: string[]
  rpath: string[]
}

export const EM_X86_64 = 62
export const EM_AARCH64 = 183

/** The ELF e_machine of each architecture keel builds, by Debian architecture name. */
export const ELF_MACHINE_OF: Record<'amd64' | 'arm64', number> = {amd64: EM_X86_64, arm64: EM_AARCH64}

export function elfMachineFor(architecture: string): number | undefined {
  return architecture === 'amd64' || architecture === 'arm64' ? ELF_MACHINE_OF[architecture] : undefined
}

const PT_LOAD = 1
const PT_DYNAMIC = 2
const PT_INTERP = 3
const DT_NULL = 0n
const DT_NEEDED = 1n
const DT_STRTAB = 5n
const DT_STRSZ = 10n
const DT_RPATH = 15n
const DT_RUNPATH = 29n

// Caps against hostile or corrupt files: real programs have ~15 program headers and well under 100 dynamic
// entries; the limits are far above that but keep every loop and read bounded.
const MAX_PROGRAM_HEADERS = 512
const MAX_PROGRAM_HEADER_SIZE = 1024
const MAX_DYNAMIC_BYTES = 64 * 1024
const MAX_INTERP_BYTES = 4096
const MAX_STRING_BYTES = 4096
const STRING_CHUNK = 256

const TYPES: Record<number, ElfType> = {1: 'rel', 2: 'exec', 3: 'dyn', 4: 'core'}

interface ProgramHeader {
  type: number
  offset: number
  vaddr: number
  filesz: number
}

/** Field access for one class and byte order; returns undefined past the end of the buffer. */
class Fields {
  constructor(
    readonly is64: boolean,
    readonly little: boolean,
  ) {}

  u16(b: Buffer, at: number): number | undefined {
    if (at + 2 > b.length) return undefined
    return this.little ? b.readUInt16LE(at) : b.readUInt16BE(at)
  }

  u32(b: Buffer, at: number): number | undefined {
    if (at + 4 > b.length) return undefined
    return this.little ? b.readUInt32LE(at) : b.readUInt32BE(at)
  }

  /** A 64-bit value as a bigint (dynamic tags are compared exactly). */
  u64big(b: Buffer, at: number): bigint | undefined {
    if (at + 8 > b.length) return undefined
    return this.little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)
  }

  /** An address or offset: u32 or u64 by class; undefined if it is beyond what a JS number holds exactly. */
  word(b: Buffer, at: number): number | undefined {
    if (!this.is64) return this.u32(b, at)
    const v = this.u64big(b, at)
    return v === undefined || v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v)
  }

  /** A dynamic entry's tag or value as a bigint, whatever the class. */
  xword(b: Buffer, at: number): bigint | undefined {
    if (this.is64) return this.u64big(b, at)
    const v = this.u32(b, at)
    return v === undefined ? undefined : BigInt(v)
  }
}

export function readElfDynamic(read: ElfRead): ElfDynamicInfo | undefined {
  const header = safeRead(read, 0, 64)
  if (header.length < 20 || header[0] !== 0x7f || header.toString('latin1', 1, 4) !== 'ELF') return undefined
  const elfClass = header[4]
  const data = header[5]
  if ((elfClass !== 1 && elfClass !== 2) || (data !== 1 && data !== 2)) return undefined
  const f = new Fields(elfClass === 2, data === 1)
  if (header.length < (f.is64 ? 64 : 52)) return undefined
  const info: ElfDynamicInfo = {
    class: f.is64 ? 64 : 32,
    machine: f.u16(header, 18) ?? 0,
    type: TYPES[f.u16(header, 16) ?? 0] ?? 'other',
    dynamic: false,
    needed: [],
    runpath: [],
    rpath: [],
  }
  const headers = programHeaders(read, header, f)
  const interp = headers.find((h) => h.type === PT_INTERP)
  if (interp) {
    const bytes = safeRead(read, interp.offset, Math.min(interp.filesz, MAX_INTERP_BYTES))
    const text = untilNul(bytes)
    if (text) info.interpreter = text
  }
  const dynamic = headers.find((h) => h.type === PT_DYNAMIC)
  if (dynamic) {
    info.dynamic = true
    readDynamicSection(read, f, dynamic, headers, info)
  }
  return info
}

function programHeaders(read: ElfRead, header: Buffer, f: Fields): ProgramHeader[] {
  const phoff = f.is64 ? f.word(header, 32) : f.u32(header, 28)
  const entsize = f.u16(header, f.is64 ? 54 : 42) ?? 0
  const count = Math.min(f.u16(header, f.is64 ? 56 : 44) ?? 0, MAX_PROGRAM_HEADERS)
  if (phoff === undefined || phoff === 0 || entsize < (f.is64 ? 56 : 32) || entsize > MAX_PROGRAM_HEADER_SIZE || count === 0) return []
  const table = safeRead(read, phoff, entsize * count)
  const out: ProgramHeader[] = []
  for (let i = 0; (i + 1) * entsize <= table.length; i++) {
    const at = i * entsize
    const type = f.u32(table, at)
    const offset = f.word(table, at + (f.is64 ? 8 : 4))
    const vaddr = f.word(table, at + (f.is64 ? 16 : 8))
    const filesz = f.word(table, at + (f.is64 ? 32 : 16))
    if (type === undefined || offset === undefined || vaddr === undefined || filesz === undefined) break
    out.push({type, offset, vaddr, filesz})
  }
  return out
}

function readDynamicSection(read: ElfRead, f: Fields, dynamic: ProgramHeader, headers: ProgramHeader[], info: ElfDynamicInfo): void {
  const entsize = f.is64 ? 16 : 8
  const table = safeRead(read, dynamic.offset, Math.min(dynamic.filesz, MAX_DYNAMIC_BYTES))
  let strtab: number | undefined
  let strsz: number | undefined
  const needed: number[] = []
  const runpath: number[] = []
  const rpath: number[] = []
  for (let at = 0; at + entsize <= table.length; at += entsize) {
    const tag = f.xword(table, at)
    const value = f.xword(table, at + entsize / 2)
    if (tag === undefined || value === undefined || tag === DT_NULL) break
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) continue
    const v = Number(value)
    if (tag === DT_NEEDED) needed.push(v)
    else if (tag === DT_RUNPATH) runpath.push(v)
    else if (tag === DT_RPATH) rpath.push(v)
    else if (tag === DT_STRTAB) strtab = v
    else if (tag === DT_STRSZ) strsz = v
  }
  if (strtab === undefined) return
  // DT_STRTAB is an address in memory; the PT_LOAD segment holding it says where those bytes are in the file.
  const load = headers.find((h) => h.type === PT_LOAD && strtab! >= h.vaddr && strtab! < h.vaddr + h.filesz)
  if (!load) return
  const base = strtab - load.vaddr + load.offset
  const limit = strsz ?? MAX_STRING_BYTES
  const stringAt = (index: number): string | undefined => (index < limit ? readString(read, base + index, Math.min(limit - index, MAX_STRING_BYTES)) : undefined)
  for (const index of needed) {
    const name = stringAt(index)
    if (name) info.needed.push(name)
  }
  info.runpath = runpath.flatMap((i) => splitPathList(stringAt(i)))
  info.rpath = rpath.flatMap((i) => splitPathList(stringAt(i)))
}

function splitPathList(text: string | undefined): string[] {
  return text ? text.split(':').filter((p) => p !== '') : []
}

/** A NUL-terminated string read in small chunks (string tables of big libraries run to megabytes). */
function readString(read: ElfRead, offset: number, max: number): string | undefined {
  const chunks: Buffer[] = []
  for (let done = 0; done < max; ) {
    const chunk = safeRead(read, offset + done, Math.min(STRING_CHUNK, max - done))
    if (chunk.length === 0) return undefined
    const nul = chunk.indexOf(0)
    if (nul >= 0) {
      chunks.push(chunk.subarray(0, nul))
      return Buffer.concat(chunks).toString('utf8')
    }
    chunks.push(chunk)
    done += chunk.length
  }
  return undefined
}

function untilNul(bytes: Buffer): string {
  const nul = bytes.indexOf(0)
  return bytes.toString('utf8', 0, nul < 0 ? bytes.length : nul)
}

/** The caller's read, with offsets checked and its errors (e.g. a position past 2^53) turned into "no bytes". */
function safeRead(read: ElfRead, offset: number, length: number): Buffer {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0) return Buffer.alloc(0)
  try {
    return read(offset, length)
  } catch {
    return Buffer.alloc(0)
  }
}
