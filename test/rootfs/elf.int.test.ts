import {execFileSync} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {EM_AARCH64, EM_X86_64, ELF_MACHINE_OF, type ElfDynamicInfo, readElfDynamic} from '../../src/rootfs/elf.js'
import {bufferReader, syntheticElf} from './synthetic-elf.js'

/** What binutils' readelf says about a file, in the reader's terms: the oracle. */
function readelfOracle(file: string): Omit<ElfDynamicInfo, 'interpreter'> & {interpreter: string | undefined} {
  const run = (flag: string) => execFileSync('readelf', ['-W', flag, file], {encoding: 'utf8', env: {...process.env, LC_ALL: 'C'}})
  const header = run('-h')
  const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm').exec(header)?.[1]?.trim() ?? ''
  const machines: Record<string, number> = {'Advanced Micro Devices X86-64': EM_X86_64, AArch64: EM_AARCH64, 'Intel 80386': 3}
  const types: Record<string, ElfDynamicInfo['type']> = {EXEC: 'exec', DYN: 'dyn', REL: 'rel', CORE: 'core'}
  const segments = run('-l')
  const dynamic = run('-d')
  const bracketed = (label: string) => [...dynamic.matchAll(new RegExp(`${label}: \\[(.*)\\]`, 'g'))].map((m) => m[1]!)
  const pathList = (label: string) => bracketed(label).flatMap((l) => l.split(':').filter(Boolean))
  return {
    class: field('Class') === 'ELF64' ? 64 : 32,
    machine: machines[field('Machine')] ?? -1,
    type: types[field('Type').split(' ')[0]!] ?? 'other',
    interpreter: /\[Requesting program interpreter: (.*)\]/.exec(segments)?.[1],
    dynamic: /^\s+DYNAMIC\s/m.test(segments),
    needed: bracketed('Shared library'),
    runpath: pathList('Library runpath'),
    rpath: pathList('Library rpath'),
  }
}

/** Reads through a file descriptor as the closure check does, counting the bytes asked for. */
function readFromFile(file: string): {info: ElfDynamicInfo | undefined; bytesRead: number} {
  const fd = openSync(file, 'r')
  let bytesRead = 0
  try {
    const info = readElfDynamic((offset, length) => {
      const buf = Buffer.alloc(length)
      const n = readSync(fd, buf, 0, length, offset)
      bytesRead += n
      return buf.subarray(0, n)
    })
    return {info, bytesRead}
  } finally {
    closeSync(fd)
  }
}

function expectAsReadelf(file: string): ElfDynamicInfo {
  const {info} = readFromFile(file)
  expect(info).toBeDefined()
  const oracle = readelfOracle(file)
  expect({...info!, interpreter: info!.interpreter}).toEqual(oracle)
  return info!
}

/** The first file (in name order) of a directory whose readelf -d output matches, if any. */
function firstWith(paths: string[], dynamicPattern: RegExp): string | undefined {
  return paths.filter((p) => existsSync(p)).find((p) => dynamicPattern.test(execFileSync('readelf', ['-d', p], {encoding: 'utf8'})))
}

const systemdCandidates = ['/usr/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-udevd', '/usr/lib/systemd/systemd']
const withRunpath = firstWith(systemdCandidates, /\(RUNPATH\)/)
const relocatable = ['/usr/lib/x86_64-linux-gnu/crt1.o', '/usr/lib/x86_64-linux-gnu/crti.o'].find((p) => existsSync(p))
const staticPie = ['/usr/sbin/ldconfig'].find((p) => existsSync(p))

describe('readElfDynamic on host files, compared with readelf', () => {
  it('/usr/bin/ls: a dynamically linked program with an interpreter and DT_NEEDED libraries', () => {
    const info = expectAsReadelf('/usr/bin/ls')
    expect(info.interpreter).toBeDefined()
    expect(info.needed.length).toBeGreaterThan(0)
  })

  it('reads a few kilobytes, not the whole file', () => {
    const {bytesRead} = readFromFile('/usr/bin/ls')
    expect(bytesRead).toBeLessThan(16 * 1024)
  })

  it.skipIf(!withRunpath)('a systemd program with DT_RUNPATH', () => {
    const info = expectAsReadelf(withRunpath!)
    expect(info.runpath.length).toBeGreaterThan(0)
  })

  it('a shared library (libc.so.6)', () => {
    expectAsReadelf('/usr/lib/x86_64-linux-gnu/libc.so.6')
  })

  it.skipIf(!staticPie)('a static-pie program: no interpreter, no DT_NEEDED', () => {
    const info = expectAsReadelf(staticPie!)
    expect(info.interpreter).toBeUndefined()
    expect(info.needed).toEqual([])
  })

  it.skipIf(!relocatable)('a relocatable object: type rel, no program headers', () => {
    const info = expectAsReadelf(relocatable!)
    expect(info.type).toBe('rel')
    expect(info.dynamic).toBe(false)
  })

  it('non-ELF input gives undefined', () => {
    expect(readElfDynamic(bufferReader(readFileSync('/etc/passwd')))).toBeUndefined()
    expect(readElfDynamic(bufferReader(Buffer.alloc(0)))).toBeUndefined()
    expect(readElfDynamic(bufferReader(Buffer.from('\x7fELF', 'latin1')))).toBeUndefined()
  })

  it('a truncated ELF (first 100 bytes of /usr/bin/ls) gives header facts only, without throwing', () => {
    const head = readFileSync('/usr/bin/ls').subarray(0, 100)
    const oracle = readelfOracle('/usr/bin/ls')
    expect(readElfDynamic(bufferReader(head))).toEqual({class: oracle.class, machine: oracle.machine, type: oracle.type, dynamic: false, needed: [], runpath: [], rpath: []})
  })

  it('survives every truncation point of a real header and program header table', () => {
    const bytes = readFileSync('/usr/bin/ls').subarray(0, 1024)
    for (let n = 0; n <= bytes.length; n += 7) expect(() => readElfDynamic(bufferReader(bytes.subarray(0, n)))).not.toThrow()
  })

  it('a reader that throws is treated as end of file', () => {
    const bytes = readFileSync('/usr/bin/ls')
    const info = readElfDynamic((offset, length) => {
      if (offset >= 64) throw new Error('EIO')
      return bytes.subarray(offset, offset + length)
    })
    expect(info?.needed).toEqual([])
  })
})

describe('readElfDynamic on hand-assembled ELF files', () => {
  const spec = {machine: 3, type: 2, interpreter: '/lib/ld-linux.so.2', needed: ['libfoo.so.1', 'libc.so.6'], runpath: '$ORIGIN/../lib:/opt/x/lib'}

  it('32-bit: the values the test wrote, and readelf agrees', () => {
    const bytes = syntheticElf({elfClass: 32, ...spec})
    const expected = {class: 32, machine: 3, type: 'exec', interpreter: '/lib/ld-linux.so.2', dynamic: true, needed: ['libfoo.so.1', 'libc.so.6'], runpath: ['$ORIGIN/../lib', '/opt/x/lib'], rpath: []}
    expect(readElfDynamic(bufferReader(bytes))).toEqual(expected)
    const dir = mkdtempSync(join(tmpdir(), 'keel-elf-'))
    try {
      writeFileSync(join(dir, 'a.out'), bytes)
      expect(readelfOracle(join(dir, 'a.out'))).toEqual(expected)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('64-bit with DT_RPATH only', () => {
    const bytes = syntheticElf({elfClass: 64, machine: EM_AARCH64, needed: ['libbar.so'], rpath: '/usr/lib/private'})
    expect(readElfDynamic(bufferReader(bytes))).toEqual({class: 64, machine: 183, type: 'dyn', dynamic: true, needed: ['libbar.so'], runpath: [], rpath: ['/usr/lib/private']})
  })

  it('a string table pointing outside any PT_LOAD yields no names, and a missing DT_NULL ends at the segment', () => {
    const bytes = syntheticElf({elfClass: 64, machine: EM_X86_64, needed: ['libbar.so']})
    const strtabEntry = bytes.length - 3 * 16
    bytes.writeBigUInt64LE(0x7fff_0000n, strtabEntry + 8)
    bytes.writeBigInt64LE(1n, bytes.length - 16) // DT_NULL → another DT_NEEDED
    expect(readElfDynamic(bufferReader(bytes))?.needed).toEqual([])
  })

  it('architecture names map to e_machine', () => {
    expect(ELF_MACHINE_OF).toEqual({amd64: 62, arm64: 183})
  })
})
