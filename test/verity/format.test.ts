import {describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {deriveVerityIdentity, parseSalt} from '../../src/verity/format.js'

describe('deriveVerityIdentity', () => {
  it('gives the same 32-byte salt and UUID for the same seed, different ones for another seed', () => {
    const a = deriveVerityIdentity('recipe sha256 1234 / usr-a')
    const again = deriveVerityIdentity('recipe sha256 1234 / usr-a')
    const b = deriveVerityIdentity('recipe sha256 1234 / usr-b')
    expect(a.salt.length).toBe(32)
    expect(again).toEqual(a)
    expect(b.salt.equals(a.salt)).toBe(false)
    expect(b.uuid).not.toBe(a.uuid)
    // RFC 4122 layout: version nibble 4, variant bits 10
    expect(a.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe('parseSalt (as veritysetup --salt takes it)', () => {
  it('reads hex, and "-" as no salt', () => {
    expect(parseSalt('-')).toEqual(Buffer.alloc(0))
    expect(parseSalt('')).toEqual(Buffer.alloc(0))
    expect(parseSalt('00ff10').toString('hex')).toBe('00ff10')
    expect(parseSalt('ABcd').toString('hex')).toBe('abcd')
  })

  it('refuses odd-length or non-hex text and salts over 256 bytes, as usage errors', () => {
    for (const bad of ['abc', 'xyz0', '0x12', 'ab'.repeat(257)]) {
      const err = (() => {
        try {
          parseSalt(bad)
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(KeelError)
      expect((err as KeelError).exit).toBe('usage')
    }
  })
})
