import {describe, expect, it} from 'vitest'
import {BINARY_PACKAGE_FIELDS, field, parseControl, parsePackagesIndex, parsePackagesStream} from '../../src/packages/control.js'

const PACKAGES = `Package: libfoo1
Source: foo (1.2-1)
Version: 1.2-1+b1
Architecture: amd64
Depends: libc6 (>= 2.34),
 libbar2 (>= 1.0) | libbaz,
 zlib1g
Description: foo library
 Long text, with: a colon
 .
 more
Filename: pool/main/f/foo/libfoo1_1.2-1+b1_amd64.deb
Size: 1234
SHA256: ${'a'.repeat(64)}

Package: base-files
Essential: yes
Priority: required
Version: 12.4
Architecture: amd64
Multi-Arch: foreign
Filename: pool/main/b/base-files/base-files_12.4_amd64.deb
Size: 70000
SHA256: ${'b'.repeat(64)}
`

const repo = {uri: 'http://mirror/debian', suite: 'bookworm', component: 'main'}

describe('parseControl', () => {
  it('splits paragraphs, keeps first-line numbers and folds continuation lines', () => {
    const {paragraphs, problems} = parseControl(PACKAGES)
    expect(problems).toEqual([])
    expect(paragraphs.map((p) => p.line)).toEqual([1, 16])
    expect(paragraphs[0]!.fields.get('Depends')).toBe('libc6 (>= 2.34),\nlibbar2 (>= 1.0) | libbaz,\nzlib1g')
    expect(paragraphs[0]!.fields.get('Description')).toBe('foo library\nLong text, with: a colon\n.\nmore')
    expect(paragraphs[1]!.fields.get('Essential')).toBe('yes')
  })

  it('treats several blank lines (and whitespace-only lines, CRLF) as one separator', () => {
    const {paragraphs} = parseControl('A: 1\r\n\r\n  \n\nB: 2\nC:3\n')
    expect(paragraphs.map((p) => Object.fromEntries(p.fields))).toEqual([{A: '1'}, {B: '2', C: '3'}])
    expect(paragraphs[1]!.line).toBe(5)
  })

  it('skips # comment lines where allowed, without ending the paragraph or a folded field', () => {
    const text = '# header\nTypes: deb\n# inside\nURIs: http://a\n http://b\n'
    const {paragraphs} = parseControl(text, {comments: true})
    expect(paragraphs).toHaveLength(1)
    expect(paragraphs[0]!.line).toBe(2)
    expect(paragraphs[0]!.fields.get('URIs')).toBe('http://a\nhttp://b')
    // In a Packages index a '#' line is not a comment: it is malformed.
    expect(parseControl('A: 1\n#x\n', {comments: false}).problems).toEqual([{line: 2, message: "expected 'Field: value', got '#x'"}])
  })

  it('reports malformed lines and duplicate fields with their line numbers', () => {
    const {problems} = parseControl(' orphan\nA: 1\nA: 2\nno colon here\n')
    expect(problems).toEqual([
      {line: 1, message: 'continuation line outside a field'},
      {line: 3, message: "duplicate field 'A'"},
      {line: 4, message: "expected 'Field: value', got 'no colon here'"},
    ])
  })

  it('keeps only the requested fields, skipping their folded lines too', () => {
    const {paragraphs} = parseControl(PACKAGES, {fields: new Set(['Package', 'Size'])})
    expect(Object.fromEntries(paragraphs[0]!.fields)).toEqual({Package: 'libfoo1', Size: '1234'})
  })

  it('looks fields up case-insensitively', () => {
    const {paragraphs} = parseControl('signed-by: /k.gpg\n')
    expect(field(paragraphs[0]!, 'Signed-By')).toBe('/k.gpg')
  })
})

describe('parsePackagesIndex', () => {
  it('turns stanzas into BinaryPackages', () => {
    const {packages, problems} = parsePackagesIndex(PACKAGES, repo)
    expect(problems).toEqual([])
    expect(packages[0]).toEqual({
      name: 'libfoo1',
      version: '1.2-1+b1',
      architecture: 'amd64',
      source: 'foo',
      depends: 'libc6 (>= 2.34),\nlibbar2 (>= 1.0) | libbaz,\nzlib1g',
      essential: false,
      filename: 'pool/main/f/foo/libfoo1_1.2-1+b1_amd64.deb',
      size: 1234,
      sha256: 'a'.repeat(64),
      repository: repo,
    })
    expect(packages[1]).toMatchObject({name: 'base-files', source: 'base-files', essential: true, priority: 'required', multiArch: 'foreign'})
    expect(BINARY_PACKAGE_FIELDS.has('Description')).toBe(false)
  })

  it('refuses stanzas without what keel needs to verify them', () => {
    const {packages, problems} = parsePackagesIndex('Package: x\nVersion: 1\nArchitecture: all\nFilename: f\nSize: 1\n\nPackage: y\n', repo)
    expect(packages).toEqual([])
    expect(problems).toEqual([
      {line: 1, message: "package stanza 'x' lacks SHA256"},
      {line: 7, message: "package stanza 'y' lacks Version, Architecture, Filename, Size, SHA256"},
    ])
  })

  it('parses a Packages-sized text quickly', () => {
    const stanza = PACKAGES.split('\n\n')[0]!
    const big = Array.from({length: 64000}, (_, i) => stanza.replace('libfoo1', `libfoo${i}`)).join('\n\n')
    // CPU time, not wall time: other test files share the machine.
    const before = process.cpuUsage()
    const {packages} = parsePackagesIndex(big, repo)
    const used = process.cpuUsage(before)
    const ms = (used.user + used.system) / 1000
    expect(packages).toHaveLength(64000)
    expect(packages[63999]!.name).toBe('libfoo63999')
    expect(ms).toBeLessThan(2000)
  })
})

describe('parsePackagesStream', () => {
  it('gives the same packages and true line numbers whatever the chunking, across multibyte characters', async () => {
    const stanza = PACKAGES.split('\n\n')[0]!.replace('foo library', 'bibliothèque ünïcode 库')
    const stanzas = Array.from({length: 12000}, (_, i) => stanza.replace('libfoo1', `libfoo${i}`))
    stanzas.splice(9000, 0, 'Package: broken\nVersion: 1')
    const text = `${stanzas.join('\n\n')}\n`
    expect(text.length).toBeGreaterThan(3 << 20)
    // Independent line count: where the broken stanza starts.
    const brokenLine = text.slice(0, text.indexOf('Package: broken')).split('\n').length
    const whole = parsePackagesIndex(text, repo)
    expect(whole.problems).toEqual([{line: brokenLine, message: "package stanza 'broken' lacks Architecture, Filename, Size, SHA256"}])
    const bytes = Buffer.from(text, 'utf8')
    for (const chunkSize of [7, 65536, 1 << 20]) {
      async function* chunks(): AsyncIterable<Uint8Array> {
        for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize)
      }
      const streamed = await parsePackagesStream(chunks(), repo)
      expect(streamed.problems).toEqual(whole.problems)
      expect(streamed.packages).toHaveLength(12000)
      expect(streamed.packages[11999]!.name).toBe('libfoo11999')
      expect(streamed.packages.map((p) => p.name)).toEqual(whole.packages.map((p) => p.name))
    }
  })
})
