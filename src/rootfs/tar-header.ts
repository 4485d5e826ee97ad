/**
 * Pure ustar/pax header encoding for the deterministic tar writer. keel encodes headers itself rather than
 * through a general tar library so every byte is pinned down: no host-dependent defaults, mode 0 stays 0,
 * directory names end in '/', and over-long names go into a pax record with a fixed header name.
 */

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo'

export interface TarHeader {
  /** Entry name as stored, e.g. './usr/bin/bash' or './usr/' for a directory. */
  name: string
  type: TarType
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  linkname?: string
  uname?: string
  gname?: string
  devMajor?: number
  devMinor?: number
}

export const BLOCK = 512

const TYPEFLAG: Record<TarType, string> = {file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6'}

/** Largest value an octal field of `width` bytes (width-1 digits + NUL) can hold. */
function octalMax(width: number): number {
  return 8 ** (width - 1) - 1
}

function writeOctal(buf: Buffer, value: number, offset: number, width: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1')
}

function writeString(buf: Buffer, value: string, offset: number, width: number): void {
  if (value) Buffer.from(value, 'utf8').copy(buf, offset, 0, width)
}

/** One pax record: "<len> key=value\n" where len counts the whole record, itself included. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  const bodyLength = Buffer.byteLength(body)
  const digits = String(bodyLength).length
  let length = bodyLength + digits
  // Adding the length's own digits can carry it into one more digit (e.g. 98 + 2 = 100).
  if (String(length).length > digits) length++
  return `${length}${body}`
}

/**
 * Encode an entry: one 512-byte ustar header, preceded by a pax header and its data blocks when a name,
 * link name, id or size does not fit the ustar fields. The result does not include the file content.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const records: string[] = []
  let name = h.name
  let linkname = h.linkname ?? ''
  if (Buffer.byteLength(name) > 100) {
    records.push(paxRecord('path', name))
    name = truncateUtf8(name, 100)
  }
  if (Buffer.byteLength(linkname) > 100) {
    records.push(paxRecord('linkpath', linkname))
    linkname = truncateUtf8(linkname, 100)
  }
  let {uid, gid, size} = h
  if (uid > octalMax(8)) {
    records.push(paxRecord('uid', String(uid)))
    uid = 0
  }
  if (gid > octalMax(8)) {
    records.push(paxRecord('gid', String(gid)))
    gid = 0
  }
  if (size > octalMax(12)) {
    records.push(paxRecord('size', String(size)))
    size = 0
  }
  const ustar = ustarBlock({...h, name, linkname, uid, gid, size})
  if (records.length === 0) return ustar
  const pax = Buffer.from(records.join(''), 'utf8')
  const paxHeader = ustarBlock({name: 'PaxHeader', type: 'file', mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: h.mtime, linkname: ''}, 'x')
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padding(pax.length)), ustar])
}

function ustarBlock(h: TarHeader, typeflag = TYPEFLAG[h.type]): Buffer {
  const buf = Buffer.alloc(BLOCK)
  writeString(buf, h.name, 0, 100)
  writeOctal(buf, h.mode & 0o7777, 100, 8)
  writeOctal(buf, h.uid, 108, 8)
  writeOctal(buf, h.gid, 116, 8)
  writeOctal(buf, h.size, 124, 12)
  writeOctal(buf, h.mtime, 136, 12)
  buf.write('        ', 148, 8, 'latin1') // checksum counts as spaces while it is computed
  buf.write(typeflag, 156, 1, 'latin1')
  writeString(buf, h.linkname ?? '', 157, 100)
  buf.write('ustar\u000000', 257, 8, 'latin1')
  writeString(buf, h.uname ?? '', 265, 32)
  writeString(buf, h.gname ?? '', 297, 32)
  if (h.type === 'char' || h.type === 'block') {
    writeOctal(buf, h.devMajor ?? 0, 329, 8)
    writeOctal(buf, h.devMinor ?? 0, 337, 8)
  }
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += buf[i]!
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1')
  return buf
}

/** Zero bytes needed after `size` bytes of content to reach a block boundary. */
export function padding(size: number): number {
  const rest = size % BLOCK
  return rest === 0 ? 0 : BLOCK - rest
}

function truncateUtf8(text: string, maxBytes: number): string {
  const buf = Buffer.from(text, 'utf8')
  if (buf.length <= maxBytes) return text
  let end = maxBytes
  // do not cut a multi-byte character in half
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--
  return buf.toString('utf8', 0, end)
}
