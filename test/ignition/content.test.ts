import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {decodeContent, percentEncode, toDataUrl} from '../../src/ignition/content.js'
import {parseUpdateConf, updateConfText} from '../../src/ignition/update-config.js'

const bytes = (s: string) => Buffer.from(s, 'latin1')
const text = (d: ReturnType<typeof decodeContent>) => (d.ok ? Buffer.from(d.bytes).toString('utf8') : 'FAILED')

describe('write_files encodings', () => {
  it('base64 is strict like Go (padding required, only newlines may interleave)', () => {
    expect(text(decodeContent(bytes('aGVs\nbG8K'), 'base64'))).toBe('hello\n')
    expect(text(decodeContent(bytes('aGVsbG8K'), 'b64'))).toBe('hello\n')
    expect(decodeContent(bytes('aGVsbG8'), 'base64').ok).toBe(false)
    expect(decodeContent(bytes('aGVs bG8K'), 'base64').ok).toBe(false)
    expect(decodeContent(bytes('hello\n'), 'base64').ok).toBe(false)
  })

  it('gzip of bytes, and gzip+base64 in all four spellings', () => {
    const gz = gzipSync(Buffer.from('zipped'))
    expect(text(decodeContent(gz, 'gzip'))).toBe('zipped')
    for (const enc of ['gz+b64', 'gzip+b64', 'gz+base64', 'gzip+base64']) expect(text(decodeContent(bytes(gz.toString('base64')), enc))).toBe('zipped')
    expect(decodeContent(bytes('not gzip'), 'gz').ok).toBe(false)
    expect(decodeContent(bytes('x'), 'rot13').ok).toBe(false)
  })
})

describe('data URLs', () => {
  it('percent-encodes everything but RFC 3986 unreserved characters', () => {
    expect(percentEncode(Buffer.from('a-b_c.d~e f/g=h%\n\u00e9'))).toBe('a-b_c.d~e%20f%2Fg%3Dh%25%0A%C3%A9')
  })

  it('picks the shortest: plain text percent-encoded, binary base64, large repetitive data gzip', () => {
    expect(toDataUrl(Buffer.from('hello'))).toEqual({source: 'data:,hello'})
    expect(toDataUrl(Buffer.from([0, 1, 2, 255, 254, 253]))).toEqual({source: 'data:;base64,AAEC//79'})
    const big = toDataUrl(Buffer.from('x'.repeat(4096)))
    expect(big.compression).toBe('gzip')
    expect(big.source.length).toBeLessThan(100)
    expect(toDataUrl(Buffer.from('x'.repeat(4096)))).toEqual(big)
  })
})

describe('update configuration file', () => {
  it('writes only the keys set, in a fixed order, and reads back', () => {
    expect(updateConfText({})).toBe('')
    expect(updateConfText({server: 'https://u.example.invalid/', rebootStrategy: 'off'})).toBe('REBOOT_STRATEGY=off\nSERVER=https://u.example.invalid/\n')
    expect(parseUpdateConf('# c\nGROUP=beta\nGROUP=stable\n')).toEqual({GROUP: 'stable'})
  })
})
