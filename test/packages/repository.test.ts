import {describe, expect, it} from 'vitest'
import {parseRelease} from '../../src/packages/release.js'
import {inReleaseStructureProblem, indexUrls, judgeGpgvStatus, planIndexFiles} from '../../src/packages/repository.js'

const h = (c: string): string => c.repeat(64)

function release(extra: string, files: Array<[string, string, number]>): ReturnType<typeof parseRelease> {
  return parseRelease(`Suite: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n${extra}SHA256:\n${files.map(([d, p, n]) => ` ${h(d)} ${n} ${p}`).join('\n')}\n`)
}

describe('planIndexFiles', () => {
  it('takes the best compression listed for each component', () => {
    const r = release('Architectures: amd64 arm64\n', [
      ['1', 'main/binary-amd64/Packages', 500],
      ['2', 'main/binary-amd64/Packages.gz', 100],
      ['3', 'main/binary-amd64/Packages.xz', 80],
      ['4', 'contrib/binary-amd64/Packages', 50],
      ['5', 'contrib/binary-amd64/Packages.gz', 20],
    ])
    expect(planIndexFiles(r, ['main', 'contrib'], 'amd64')).toEqual({
      files: [
        {component: 'main', path: 'main/binary-amd64/Packages.xz', size: 80, sha256: h('3')},
        {component: 'contrib', path: 'contrib/binary-amd64/Packages.gz', size: 20, sha256: h('5')},
      ],
      missing: [],
    })
    expect(planIndexFiles(r, ['main', 'non-free'], 'arm64').missing).toEqual(['main/binary-arm64/Packages', 'non-free/binary-arm64/Packages'])
  })

  it("reads binary-all only when the Release has 'all' and does not fold it into binary-<arch>", () => {
    const files: Array<[string, string, number]> = [
      ['1', 'main/binary-amd64/Packages.xz', 80],
      ['2', 'main/binary-all/Packages.xz', 40],
    ]
    const paths = (extra: string): string[] => planIndexFiles(release(extra, files), ['main'], 'amd64').files.map((f) => f.path)
    expect(paths('Architectures: all amd64\n')).toEqual(['main/binary-amd64/Packages.xz', 'main/binary-all/Packages.xz'])
    expect(paths('Architectures: all amd64\nNo-Support-for-Architecture-all: Packages\n')).toEqual(['main/binary-amd64/Packages.xz'])
    expect(paths('Architectures: amd64\n')).toEqual(['main/binary-amd64/Packages.xz'])
  })
})

describe('indexUrls', () => {
  const file = {component: 'main', path: 'main/binary-amd64/Packages.xz', size: 1, sha256: h('a')}
  it('tries by-hash first when the Release offers it, then the plain name', () => {
    expect(indexUrls('http://m/debian/dists/bookworm', file, true)).toEqual([
      `http://m/debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/${h('a')}`,
      'http://m/debian/dists/bookworm/main/binary-amd64/Packages.xz',
    ])
    expect(indexUrls('http://m/debian/dists/bookworm', file, false)).toEqual(['http://m/debian/dists/bookworm/main/binary-amd64/Packages.xz'])
  })
})

describe('inReleaseStructureProblem', () => {
  const signed = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n'
  it('accepts exactly one clearsigned message', () => {
    expect(inReleaseStructureProblem(signed)).toBeUndefined()
  })
  it('refuses anything before, after, or a second message', () => {
    expect(inReleaseStructureProblem(`Suite: evil\n${signed}`)).toMatch(/content before the signed message/)
    expect(inReleaseStructureProblem(`${signed}Suite: evil\n`)).toMatch(/content after the signature/)
    expect(inReleaseStructureProblem(signed + signed)).toMatch(/more than one signed message/)
    expect(inReleaseStructureProblem('Suite: x\n')).toMatch(/not a clearsigned InRelease/)
  })
})

describe('judgeGpgvStatus', () => {
  // Status lines as gpgv 2.2 prints them for Debian's InRelease files.
  const good = (id: string, hashAlgo = '8'): string =>
    `[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG ${id} Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>\n` +
    `[GNUPG:] VALIDSIG 4CB50190207B4758A3F73A79${id} 2026-07-11 1783765031 0 4 0 1 ${hashAlgo} 01 B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8\n`
  const unknown = (id: string): string =>
    `[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG ${id} 1 8 01 1783765032 9 B8E5F13176D2A7A75220028078DBA3BC47EF2265\n[GNUPG:] NO_PUBKEY ${id}\n` +
    `gpgv: Can't check signature: No public key\n`

  it('accepts good signatures, ignoring others by keys the keyring lacks (as apt does)', () => {
    expect(judgeGpgvStatus(good('6ED0E7B82643E131') + good('78DBA3BC47EF2265'))).toEqual({ok: true, goodSignatures: 2})
    expect(judgeGpgvStatus(good('6ED0E7B82643E131') + unknown('78DBA3BC47EF2265'))).toEqual({ok: true, goodSignatures: 1})
  })

  it('refuses any bad signature, even beside a good one', () => {
    const bad = '[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>\n'
    expect(judgeGpgvStatus(good('78DBA3BC47EF2265') + bad)).toEqual({
      ok: false,
      reason: 'BAD signature from Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>',
    })
  })

  it('refuses when no signature is both good and strong', () => {
    expect(judgeGpgvStatus(unknown('78DBA3BC47EF2265'))).toEqual({
      ok: false,
      reason: "no public key 78DBA3BC47EF2265 in the keyring(s); Can't check signature: No public key",
    })
    const sha1 = judgeGpgvStatus(good('6ED0E7B82643E131', '2'))
    expect(sha1.ok).toBe(false)
    expect(!sha1.ok && sha1.reason).toMatch(/uses a weak digest/)
    const expired = '[GNUPG:] NEWSIG\n[GNUPG:] EXPKEYSIG 6ED0E7B82643E131 Old Key\n[GNUPG:] VALIDSIG AAAA 2020-01-01 1 0 4 0 1 8 01 BBBB\n'
    expect(judgeGpgvStatus(expired)).toEqual({ok: false, reason: 'signature by an expired key: Old Key'})
    expect(judgeGpgvStatus('[GNUPG:] NODATA 1\ngpgv: no signature found\n')).toEqual({ok: false, reason: 'no signature found'})
  })
})
