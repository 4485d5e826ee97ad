/**
 * Hand-assembled little-endian ELF files with known dynamic sections: one PT_LOAD covering the file, an
 * optional PT_INTERP, a PT_DYNAMIC and a string table. Enough for ld.so-style readers, not for running.
 */
export interface SyntheticElf {
  elfClass: 32 | 64
  machine: number
  /** e_type: 2 exec, 3 dyn */
  type?: number
  interpreter?: string
  needed?: string[]
  runpath?: string
  rpath?: string
}

const LOAD_ADDRESS = 0x400000

export function syntheticElf(spec: SyntheticElf): Buffer {
  const is64 = spec.elfClass === 64
  const headerSize = is64 ? 64 : 52
  const phentsize = is64 ? 56 : 32
  const dynEntSize = is64 ? 16 : 8
  const phnum = spec.interpreter === undefined ? 2 : 3

  const strings: Buffer[] = [Buffer.from([0])]
  let strLength = 1
  const addString = (text: string): number => {
    const at = strLength
    strings.push(Buffer.from(`${text}\0`))
    strLength += Buffer.byteLength(text) + 1
    return at
  }
  const dynamic: Array<[number, number]> = []
  for (const name of spec.needed ?? []) dynamic.push([1, addString(name)])
  if (spec.rpath !== undefined) dynamic.push([15, addString(spec.rpath)])
  if (spec.runpath !== undefined) dynamic.push([29, addString(spec.runpath)])
  const strtab = Buffer.concat(strings)
  const interp = spec.interpreter === undefined ? Buffer.alloc(0) : Buffer.from(`${spec.interpreter}\0`)

  const phoff = headerSize
  const interpOff = phoff + phentsize * phnum
  const strtabOff = interpOff + interp.length
  const dynOff = strtabOff + strtab.length
  dynamic.push([5, LOAD_ADDRESS + strtabOff], [10, strtab.length], [0, 0])
  const total = dynOff + dynamic.length * dynEntSize
  const file = Buffer.alloc(total)

  file.write('\x7fELF', 0, 'latin1')
  file[4] = is64 ? 2 : 1
  file[5] = 1
  file[6] = 1
  file.writeUInt16LE(spec.type ?? 3, 16)
  file.writeUInt16LE(spec.machine, 18)
  file.writeUInt32LE(1, 20)
  if (is64) {
    file.writeBigUInt64LE(BigInt(phoff), 32)
    file.writeUInt16LE(headerSize, 52)
    file.writeUInt16LE(phentsize, 54)
    file.writeUInt16LE(phnum, 56)
  } else {
    file.writeUInt32LE(phoff, 28)
    file.writeUInt16LE(headerSize, 40)
    file.writeUInt16LE(phentsize, 42)
    file.writeUInt16LE(phnum, 44)
  }
  const programHeaders: Array<[type: number, offset: number, size: number]> = [[1, 0, total]]
  if (spec.interpreter !== undefined) programHeaders.push([3, interpOff, interp.length])
  programHeaders.push([2, dynOff, dynamic.length * dynEntSize])
  programHeaders.forEach(([type, offset, size], i) => {
    const at = phoff + i * phentsize
    file.writeUInt32LE(type, at)
    if (is64) {
      file.writeBigUInt64LE(BigInt(offset), at + 8)
      file.writeBigUInt64LE(BigInt(LOAD_ADDRESS + offset), at + 16)
      file.writeBigUInt64LE(BigInt(size), at + 32)
      file.writeBigUInt64LE(BigInt(size), at + 40)
    } else {
      file.writeUInt32LE(offset, at + 4)
      file.writeUInt32LE(LOAD_ADDRESS + offset, at + 8)
      file.writeUInt32LE(size, at + 16)
      file.writeUInt32LE(size, at + 20)
    }
  })
  interp.copy(file, interpOff)
  strtab.copy(file, strtabOff)
  dynamic.forEach(([tag, value], i) => {
    const at = dynOff + i * dynEntSize
    if (is64) {
      file.writeBigInt64LE(BigInt(tag), at)
      file.writeBigUInt64LE(BigInt(value), at + 8)
    } else {
      file.writeInt32LE(tag, at)
      file.writeUInt32LE(value, at + 4)
    }
  })
  return file
}

/** A read callback over an in-memory file, as the ELF reader takes it. */
export function bufferReader(bytes: Buffer): (offset: number, length: number) => Buffer {
  return (offset, length) => bytes.subarray(offset, offset + length)
}
