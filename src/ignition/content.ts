import {gunzipSync, gzipSync} from 'node:zlib'

/**
 * write_files encodings and Ignition data URLs. Decoding follows coreos-cloudinit (Go's strict base64: only
 * newlines may interleave, padding required); encoding picks the shortest of percent-encoded, base64 and
 * gzip+base64, so small text stays readable and large files stay small.
 */

export type Decoded = {ok: true; bytes: Uint8Array} | {ok: false}

function decodeBase64Strict(bytes: Uint8Array): Decoded {
  const text = Buffer.from(bytes).toString('latin1').replace(/[\r\n]/g, '')
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return {ok: false}
  return {ok: true, bytes: Buffer.from(text, 'base64')}
}

function gunzip(bytes: Uint8Array): Decoded {
  try {
    return {ok: true, bytes: gunzipSync(bytes)}
  } catch {
    return {ok: false}
  }
}

export function decodeContent(content: Uint8Array, encoding: string | undefined): Decoded {
  switch (encoding ?? '') {
    case '':
      return {ok: true, bytes: content}
    case 'b64':
    case 'base64':
      return decodeBase64Strict(content)
    case 'gz':
    case 'gzip':
      return gunzip(content)
    case 'gz+base64':
    case 'gzip+base64':
    case 'gz+b64':
    case 'gzip+b64': {
      const b = decodeBase64Strict(content)
      return b.ok ? gunzip(b.bytes) : b
    }
    default:
      return {ok: false}
  }
}

/** RFC 3986 unreserved characters stay; every other byte is %XX (what Ignition's data URL parser accepts). */
const PERCENT_TABLE = Array.from({length: 256}, (_x, byte) => {
  const c = String.fromCharCode(byte)
  return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
})

export function percentEncode(bytes: Uint8Array): string {
  const parts = new Array<string>(bytes.length)
  for (let i = 0; i < bytes.length; i++) parts[i] = PERCENT_TABLE[bytes[i]!]!
  return parts.join('')
}

export interface IgnitionContents {
  source: string
  compression?: 'gzip'
}

/** The shortest faithful data URL for `bytes`; gzip only when it actually makes the URL smaller. */
export function toDataUrl(bytes: Uint8Array): IgnitionContents {
  const plain = `data:,${percentEncode(bytes)}`
  const b64 = `data:;base64,${Buffer.from(bytes).toString('base64')}`
  let best: IgnitionContents = {source: plain.length <= b64.length ? plain : b64}
  if (bytes.length > 64) {
    // level 9 and a fixed header (no mtime, no name): the same input always gives the same bytes.
    const gz = `data:;base64,${gzipSync(bytes, {level: 9}).toString('base64')}`
    if (gz.length < best.source.length) best = {source: gz, compression: 'gzip'}
  }
  return best
}

/** Decode one of our own (or any simple) data URLs back to bytes; undefined when it is not one. */
export function fromDataUrl(url: string): Uint8Array | undefined {
  const m = /^data:([^,]*),(.*)$/s.exec(url)
  if (!m) return undefined
  const meta = m[1]!
  const body = m[2]!
  if (meta.endsWith(';base64')) return Buffer.from(body, 'base64')
  try {
    return Buffer.from(decodeURIComponent(body), 'utf8').length === 0 && body.length > 0 ? undefined : Buffer.from(percentDecode(body))
  } catch {
    return undefined
  }
}

function percentDecode(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else out.push(...Buffer.from(text[i]!, 'utf8'))
  }
  return Uint8Array.from(out)
}
