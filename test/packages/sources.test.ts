import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  DEBIAN_ARCHIVE_KEYRING,
  hostRepositorySources,
  mirrorForSuite,
  parseDeb822Sources,
  parseOneLineSources,
  readHostSources,
  repositorySourcesFor,
  type AptSourceEntry,
} from '../../src/packages/sources.js'

const DEB822 = `# Debian, from the installer
Types: deb deb-src
# a comment between fields
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Enabled: no

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Architectures: amd64
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBF...
 -----END PGP PUBLIC KEY BLOCK-----
`

const ONE_LINE = `# comment
deb http://one.example/debian bookworm main non-free-firmware # trailing comment
deb [ arch=amd64,arm64 signed-by=/etc/apt/keyrings/x.gpg ] https://x.example/apt stable main
deb-src http://one.example/debian bookworm main
  # indented comment
bogus line
`

describe('parseDeb822Sources', () => {
  it('reads every type, skips disabled stanzas and comments, keeps Signed-By paths only', () => {
    const entries = parseDeb822Sources(DEB822, '/etc/apt/sources.list.d/debian.sources')
    expect(entries.map((e) => [e.type, e.uris, e.suites, e.components, e.signedBy, e.line])).toEqual([
      ['deb', ['http://mirror.example/debian'], ['bookworm', 'bookworm-updates'], ['main', 'contrib'], [DEBIAN_ARCHIVE_KEYRING], 2],
      ['deb-src', ['http://mirror.example/debian'], ['bookworm', 'bookworm-updates'], ['main', 'contrib'], [DEBIAN_ARCHIVE_KEYRING], 2],
      ['deb', ['http://security.example/debian-security'], ['bookworm-security'], ['main'], [], 15],
    ])
    expect(entries[2]!.options).toEqual({architectures: 'amd64'})
  })
})

describe('parseOneLineSources', () => {
  it('reads options, comments and both types', () => {
    const entries = parseOneLineSources(ONE_LINE, '/etc/apt/sources.list')
    expect(entries.map((e) => [e.type, e.uris[0], e.suites[0], e.components, e.signedBy, e.options, e.line])).toEqual([
      ['deb', 'http://one.example/debian', 'bookworm', ['main', 'non-free-firmware'], [], {}, 2],
      ['deb', 'https://x.example/apt', 'stable', ['main'], ['/etc/apt/keyrings/x.gpg'], {arch: 'amd64,arm64'}, 3],
      ['deb-src', 'http://one.example/debian', 'bookworm', ['main'], [], {}, 4],
    ])
  })
})

describe('readHostSources', () => {
  const root = mkdtempSync(join(tmpdir(), 'keel-sources-'))
  afterAll(() => rmSync(root, {recursive: true, force: true}))
  mkdirSync(join(root, 'etc/apt/sources.list.d'), {recursive: true})
  writeFileSync(join(root, 'etc/apt/sources.list'), 'deb http://main.example/debian bookworm main\n')
  writeFileSync(join(root, 'etc/apt/sources.list.d/b.sources'), DEB822)
  writeFileSync(join(root, 'etc/apt/sources.list.d/a.list'), 'deb http://a.example/debian trixie main\n')
  writeFileSync(join(root, 'etc/apt/sources.list.d/cloud.list.disabled-by-farm'), 'deb http://disabled.example/apt x main\n')
  writeFileSync(join(root, 'etc/apt/sources.list.d/node.sources.disabled-by-farm'), 'Types: deb\nURIs: http://disabled.example/n\nSuites: y\nComponents: main\n')
  writeFileSync(join(root, 'etc/apt/sources.list.d/old.list.save'), 'deb http://disabled.example/save z main\n')

  it('reads sources.list then sources.list.d/*.list and *.sources in name order, ignoring other names', async () => {
    const entries = await readHostSources(root)
    expect(entries.map((e) => `${e.type} ${e.uris[0]} ${e.suites.join(',')}`)).toEqual([
      'deb http://main.example/debian bookworm',
      'deb http://a.example/debian trixie',
      'deb http://mirror.example/debian bookworm,bookworm-updates',
      'deb-src http://mirror.example/debian bookworm,bookworm-updates',
      'deb http://security.example/debian-security bookworm-security',
    ])
    expect(entries.some((e) => e.uris[0]!.includes('disabled'))).toBe(false)
  })

  it('hostRepositorySources maps the bookworm suites to the host mirrors', async () => {
    expect(await hostRepositorySources(root)).toEqual([
      {uri: 'http://main.example/debian', suite: 'bookworm', components: ['main'], keyrings: [DEBIAN_ARCHIVE_KEYRING]},
      {uri: 'http://mirror.example/debian', suite: 'bookworm-updates', components: ['main'], keyrings: [DEBIAN_ARCHIVE_KEYRING]},
      {uri: 'http://security.example/debian-security', suite: 'bookworm-security', components: ['main'], keyrings: [DEBIAN_ARCHIVE_KEYRING]},
    ])
  })
})

function entry(uri: string, suites: string[], signedBy: string[] = []): AptSourceEntry {
  return {type: 'deb', uris: [uri], suites, components: ['main'], signedBy, options: {}, file: 'f', line: 1}
}

describe('mirrorForSuite', () => {
  const host = [
    entry('http://m/debian', ['bookworm', 'bookworm-updates'], ['/k.gpg']),
    entry('http://m/debian-security', ['bookworm-security']),
  ]
  it('prefers the entry that lists the suite', () => {
    expect(mirrorForSuite(host, 'bookworm-security')).toEqual({uri: 'http://m/debian-security', keyrings: []})
    expect(mirrorForSuite(host, 'bookworm-updates')).toEqual({uri: 'http://m/debian', keyrings: ['/k.gpg']})
  })
  it('uses the mirror of a suite with the same suffix, then the base suite, then any Debian mirror', () => {
    expect(mirrorForSuite(host, 'trixie-security').uri).toBe('http://m/debian-security')
    expect(mirrorForSuite([host[0]!], 'bookworm-backports').uri).toBe('http://m/debian')
    expect(mirrorForSuite([host[0]!], 'trixie').uri).toBe('http://m/debian')
  })
  it('derives the -security sibling of a /debian mirror when the host lists no security suite', () => {
    expect(mirrorForSuite([host[0]!], 'bookworm-security').uri).toBe('http://m/debian-security')
  })
  it('falls back to the official mirror only without any Debian source', () => {
    const thirdParty = [entry('https://x.example/apt', ['nodistro'])]
    expect(mirrorForSuite(thirdParty, 'bookworm').uri).toBe('http://deb.debian.org/debian')
    expect(mirrorForSuite([], 'bookworm-security').uri).toBe('http://deb.debian.org/debian-security')
  })
})

describe('repositorySourcesFor', () => {
  const host = [entry('http://m/debian', ['bookworm'], ['/host.gpg']), entry('http://m/debian-security', ['bookworm-security'])]
  it('takes the mirror from the host, the spec, or --mirror, and keyrings from the spec, host or default', () => {
    expect(repositorySourcesFor([{suites: ['bookworm', 'bookworm-security'], components: ['main']}], host)).toEqual([
      {uri: 'http://m/debian', suite: 'bookworm', components: ['main'], keyrings: ['/host.gpg']},
      {uri: 'http://m/debian-security', suite: 'bookworm-security', components: ['main'], keyrings: [DEBIAN_ARCHIVE_KEYRING]},
    ])
    expect(
      repositorySourcesFor([{suites: ['stable'], components: ['main'], mirror: 'https://x.example/apt/', keyrings: ['/x.gpg']}], host),
    ).toEqual([{uri: 'https://x.example/apt', suite: 'stable', components: ['main'], keyrings: ['/x.gpg']}])
    expect(
      repositorySourcesFor([{suites: ['bookworm', 'bookworm-security'], components: ['main']}], host, {mirrorOverride: 'http://local/debian/'}).map(
        (s) => [s.uri, s.keyrings],
      ),
    ).toEqual([
      ['http://local/debian', [DEBIAN_ARCHIVE_KEYRING]],
      ['http://local/debian-security', [DEBIAN_ARCHIVE_KEYRING]],
    ])
  })
})
