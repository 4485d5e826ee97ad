import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import {PassThrough, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'
import {type Extract, extract} from 'tar-stream'
import {KeelError} from '../core/errors.js'
import {spawnFilter} from '../exec/run.js'

/**
 * Reading .deb files: an `ar` archive holding `debian-binary`, `control.tar.*` and `data.tar.*`. Only the
 * member table is read up front; members are streamed from their offset and decompressed on the fly.
 */

export interface ArMember {
  name: string
  /** Byte offset of the member's data in the file. */
  offset: number
  size: number
  mode: number
}

const AR_MAGIC = '!<arch>\n'
const HEADER_SIZE = 60

/**
 * Parse an ar member table from the bytes of a whole archive or from a reader of byte ranges. Handles GNU
 * (`name/`, `//` long-name table, `/N` references, `/` symbol table) and BSD (`#1/N` inline names) quirks;
 * member data is padded to an even offset.
 */
export async function readArMembers(read: (offset: number, length: number) => Promise<Buffer>, fileSize: number, label: string): Promise<ArMember[]> {
  const bad = (why: string) => new KeelError(`${label}: not a valid ar archive (${why})`, 'integrity')
  const magic = await read(0, AR_MAGIC.length)
  if (magic.toString('latin1') !== AR_MAGIC) throw bad('missing !<arch> header')
  const members: ArMember[] = []
  let longNames: Buffer | undefined
  let pos = AR_MAGIC.length
  while (pos < fileSize) {
    // A single trailing newline pad byte may end the file.
    if (fileSize - pos === 1) break
    if (fileSize - pos < HEADER_SIZE) throw bad(`truncated member header at offset ${pos}`)
    const header = await read(pos, HEADER_SIZE)
    if (header[58] !== 0x60 || header[59] !== 0x0a) throw bad(`bad member header terminator at offset ${pos}`)
    const rawName = header.toString('latin1', 0, 16).trimEnd()
    const sizeText = header.toString('latin1', 48, 58).trim()
    if (!/^\d+$/.test(sizeText)) throw bad(`bad member size '${sizeText}' at offset ${pos}`)
    const size = Number(sizeText)
    const mode = parseInt(header.toString('latin1', 40, 48).trim() || '0', 8)
    let dataOffset = pos + HEADER_SIZE
    let dataSize = size
    if (dataOffset + size > fileSize) throw bad(`member at offset ${pos} runs past the end of the file`)
    let name: string
    if (rawName.startsWith('#1/')) {
      const nameLength = Number(rawName.slice(3))
      if (!Number.isInteger(nameLength) || nameLength > size) throw bad(`bad BSD long name '${rawName}'`)
      name = (await read(dataOffset, nameLength)).toString('utf8').replace(/\0+$/, '')
      dataOffset += nameLength
      dataSize -= nameLength
    } else if (rawName === '//') {
      longNames = await read(dataOffset, size)
      name = ''
    } else if (rawName === '/' || rawName === '/SYM64/') {
      name = ''
    } else if (/^\/\d+$/.test(rawName)) {
      if (!longNames) throw bad(`long name reference ${rawName} before the name table`)
      const start = Number(rawName.slice(1))
      const end = longNames.indexOf('/\n', start)
      name = longNames.toString('utf8', start, end < 0 ? longNames.length : end)
    } else {
      name = rawName.endsWith('/') ? rawName.slice(0, -1) : rawName
    }
    if (name) members.push({name, offset: dataOffset, size: dataSize, mode})
    pos += HEADER_SIZE + size + (size % 2)
  }
  return members
}

export type Compression = 'xz' | 'zst' | 'gz' | 'none'

export interface DebLayout {
  path: string
  members: ArMember[]
  control: ArMember & {compression: Compression}
  data: ArMember & {compression: Compression}
}

const COMPRESSION_BY_SUFFIX: Record<string, Compression> = {'.xz': 'xz', '.zst': 'zst', '.gz': 'gz', '': 'none'}

/** Read a .deb's member table and check it is a format-2.x binary package. */
export async function openDeb(path: string): Promise<DebLayout> {
  const fh = await open(path, 'r')
  try {
    const {size: fileSize} = await fh.stat()
    const read = async (offset: number, length: number) => {
      const buf = Buffer.alloc(length)
      const {bytesRead} = await fh.read(buf, 0, length, offset)
      if (bytesRead !== length) throw new KeelError(`${path}: unexpected end of file`, 'integrity')
      return buf
    }
    const members = await readArMembers(read, fileSize, path)
    const first = members[0]
    if (!first || first.name !== 'debian-binary') throw new KeelError(`${path}: not a Debian package (first member is not debian-binary)`, 'integrity')
    const version = (await read(first.offset, Math.min(first.size, 64))).toString('latin1').trim()
    if (!/^2\.\d+$/.test(version)) throw new KeelError(`${path}: unsupported .deb format version '${version}' (keel reads 2.x)`, 'integrity')
    return {path, members, control: tarMember(path, members, 'control'), data: tarMember(path, members, 'data')}
  } finally {
    await fh.close()
  }
}

function tarMember(path: string, members: ArMember[], base: 'control' | 'data'): ArMember & {compression: Compression} {
  for (const m of members) {
    if (!m.name.startsWith(`${base}.tar`)) continue
    const compression = COMPRESSION_BY_SUFFIX[m.name.slice(`${base}.tar`.length)]
    if (!compression) throw new KeelError(`${path}: unsupported ${base} member compression '${m.name}'`, 'integrity')
    return {...m, compression}
  }
  throw new KeelError(`${path}: no ${base}.tar member`, 'integrity')
}

export interface MemberStream {
  /** The decompressed bytes. */
  stream: Readable
  /**
   * Settles when decompression is over: rejects with the decompressor's error (ToolFailedError for xz/zstd)
   * if it failed. Call `abort` first when giving up early.
   */
  done: Promise<void>
  abort(): void
}

/** Stream a member's decompressed bytes: xz/zstd through the process runner, gzip in-process. */
export function memberStream(debPath: string, member: ArMember & {compression: Compression}): MemberStream {
  const raw = () => createReadStream(debPath, {start: member.offset, end: member.offset + member.size - 1, highWaterMark: 1 << 20})
  if (member.size === 0) {
    const empty = new PassThrough()
    empty.end()
    return {stream: empty, done: Promise.resolve(), abort() {}}
  }
  switch (member.compression) {
    case 'none': {
      const s = raw()
      return {stream: s, done: Promise.resolve(), abort: () => s.destroy()}
    }
    case 'gz': {
      const src = raw()
      const gunzip = createGunzip()
      const done = pipeline(src, gunzip).catch((err: Error) => {
        throw new KeelError(`${debPath}: cannot decompress ${member.name}: ${err.message}`, 'integrity')
      })
      // The consumer sees errors through `done`; keep the stream from crashing on an unhandled 'error'.
      done.catch(() => {})
      return {stream: gunzip, done, abort: () => src.destroy()}
    }
    case 'xz':
    case 'zst': {
      const proc = member.compression === 'xz' ? spawnFilter('xz', ['-dc']) : spawnFilter('zstd', ['-dc', '-q'])
      const src = raw()
      // EPIPE on stdin when the filter stops early is reported by the filter's own exit status.
      const feed = pipeline(src, proc.stdin).catch(() => {})
      const done = Promise.all([proc.done, feed]).then(() => undefined)
      done.catch(() => {})
      return {
        stream: proc.stdout,
        done,
        abort: () => {
          src.destroy()
          proc.kill()
        },
      }
    }
  }
}

/**
 * Feed a member's decompressed bytes to `consume`. When consuming fails, the rest of the stream is drained so
 * the decompressor can finish: if it failed too (corrupt data), its error is the one reported.
 */
export async function consumeMember<T>(member: MemberStream, consume: (stream: Readable) => Promise<T>): Promise<T> {
  let result: T
  try {
    result = await consume(member.stream)
  } catch (err) {
    member.stream.resume()
    await member.done
    throw err
  }
  await member.done
  return result
}

/**
 * Pipe decompressed bytes into a tar parser. Plain `pipe` never ends the destination when the source fails,
 * which would leave the parser waiting forever; here a failed source fails the parser too.
 */
export function pipeToParser(src: Readable, parser: Extract): void {
  src.on('error', (err) => parser.destroy(err))
  src.pipe(parser as unknown as NodeJS.WritableStream)
}

/** Read one file (e.g. `control`, `conffiles`) from the control.tar of a .deb; undefined when absent. */
export async function readControlFile(debPath: string, name = 'control'): Promise<string | undefined> {
  const deb = await openDeb(debPath)
  return consumeMember(memberStream(debPath, deb.control), async (stream) => {
    const ex = extract()
    pipeToParser(stream, ex)
    let found: string | undefined
    try {
      for await (const entry of ex) {
        const entryName = entry.header.name.replace(/^\.\//, '')
        if (entryName === name && entry.header.type === 'file') {
          const chunks: Buffer[] = []
          for await (const chunk of entry) chunks.push(chunk as Buffer)
          found = Buffer.concat(chunks).toString('utf8')
        } else {
          entry.resume()
        }
      }
    } catch (err) {
      throw new KeelError(`${debPath}: cannot read control.tar: ${(err as Error).message}`, 'integrity')
    }
    return found
  })
}

/** Parse a single deb822 stanza (a `control` file) into fields; continuation lines are joined with '\n'. */
export function parseControlStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  let current: string | undefined
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current !== undefined) fields[current] += `\n${line.slice(1)}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    current = line.slice(0, colon)
    fields[current] = line.slice(colon + 1).trim()
  }
  return fields
}
