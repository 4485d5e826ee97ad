import {describe, expect, it} from 'vitest'
import {DEFAULT_FRESHNESS, freshnessProblem, parseRelease} from '../../src/packages/release.js'

const h = (c: string): string => c.repeat(64)
const RELEASE = `Origin: Debian
Label: Debian-Security
Suite: oldstable-security
Codename: bookworm-security
Date: Fri, 20 Nov 2026 00:12:41 UTC
Valid-Until: Fri, 27 Nov 2026 00:12:41 UTC
Acquire-By-Hash: yes
Architectures: amd64 arm64
Components: updates/main updates/contrib
MD5Sum:
 0123456789abcdef0123456789abcdef 10 main/binary-amd64/Packages
SHA256:
 ${h('1')}  5699244 main/binary-amd64/Packages.gz
 ${h('2')}      118 main/binary-amd64/Release
 ${h('3')} 50060337 main/binary-amd64/Packages
`

describe('parseRelease', () => {
  it('reads the signed metadata and the SHA256 file list', () => {
    const r = parseRelease(RELEASE)
    expect(r.suite).toBe('oldstable-security')
    expect(r.codename).toBe('bookworm-security')
    expect(r.dateMs).toBe(Date.UTC(2026, 10, 20, 0, 12, 41))
    expect(r.validUntilMs).toBe(Date.UTC(2026, 10, 27, 0, 12, 41))
    expect(r.architectures).toEqual(['amd64', 'arm64'])
    expect(r.components).toEqual(['updates/main', 'updates/contrib'])
    expect(r.acquireByHash).toBe(true)
    expect(r.noSupportForArchitectureAll).toBe(false)
    expect([...r.sha256.entries()]).toEqual([
      ['main/binary-amd64/Packages.gz', {size: 5699244, sha256: h('1')}],
      ['main/binary-amd64/Release', {size: 118, sha256: h('2')}],
      ['main/binary-amd64/Packages', {size: 50060337, sha256: h('3')}],
    ])
  })

  it('reads No-Support-for-Architecture-all and a missing Acquire-By-Hash', () => {
    const r = parseRelease('Suite: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nNo-Support-for-Architecture-all: Packages\n')
    expect(r.noSupportForArchitectureAll).toBe(true)
    expect(r.acquireByHash).toBe(false)
    expect(r.sha256.size).toBe(0)
  })

  it('rejects a malformed SHA256 entry', () => {
    expect(() => parseRelease(`Date: x\nSHA256:\n ${h('1')} notanumber main/x\n`)).toThrow(/malformed SHA256 entry/)
    expect(() => parseRelease('')).toThrow(/empty Release/)
  })
})

describe('freshnessProblem', () => {
  const r = parseRelease(RELEASE)
  const day = 86_400_000
  it('accepts a Release within its validity', () => {
    expect(freshnessProblem(r, r.dateMs! + day, DEFAULT_FRESHNESS)).toBeUndefined()
  })
  it('refuses an expired Release unless Valid-Until checks are off', () => {
    expect(freshnessProblem(r, r.validUntilMs! + 1, DEFAULT_FRESHNESS)).toMatch(/expired on Fri, 27 Nov 2026/)
    expect(freshnessProblem(r, r.validUntilMs! + 1, {...DEFAULT_FRESHNESS, checkValidUntil: false})).toBeUndefined()
  })
  it('refuses a Release from the future beyond the tolerance', () => {
    expect(freshnessProblem(r, r.dateMs! - day, DEFAULT_FRESHNESS)).toMatch(/dated in the future/)
    expect(freshnessProblem(r, r.dateMs! - 60_000, DEFAULT_FRESHNESS)).toBeUndefined()
  })
  it('refuses going back to an older Release than the one verified before (rollback)', () => {
    expect(freshnessProblem(r, r.dateMs! + day, DEFAULT_FRESHNESS, r.dateMs! + 1000)).toMatch(/older than the copy verified before/)
    expect(freshnessProblem(r, r.dateMs! + day, DEFAULT_FRESHNESS, r.dateMs!)).toBeUndefined()
  })
})
