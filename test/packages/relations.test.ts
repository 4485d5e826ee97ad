import {describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {
  archListMatches,
  formatAlternatives,
  parseProvides,
  parseRelations,
  RelationSyntaxError,
} from '../../src/packages/relations.js'

describe('parseRelations', () => {
  it('returns no groups for an empty or blank field', () => {
    expect(parseRelations('')).toEqual([])
    expect(parseRelations('   ')).toEqual([])
  })

  it('parses groups, alternatives and version constraints', () => {
    expect(parseRelations('libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, zlib1g')).toEqual([
      [{name: 'libc6', op: '>=', version: '2.34'}],
      [{name: 'debconf', op: '>=', version: '0.5'}, {name: 'debconf-2.0'}],
      [{name: 'zlib1g'}],
    ])
  })

  it('accepts every operator, with or without spaces, and reads legacy < and > as <= and >=', () => {
    expect(parseRelations('a (<<1), b(<= 2), c (= 1:3-1), d (>=4), e ( >> 5 ), f (< 6), g (> 7)')).toEqual([
      [{name: 'a', op: '<<', version: '1'}],
      [{name: 'b', op: '<=', version: '2'}],
      [{name: 'c', op: '=', version: '1:3-1'}],
      [{name: 'd', op: '>=', version: '4'}],
      [{name: 'e', op: '>>', version: '5'}],
      [{name: 'f', op: '<=', version: '6'}],
      [{name: 'g', op: '>=', version: '7'}],
    ])
  })

  it('keeps architecture qualifiers', () => {
    expect(parseRelations('python3:any (>= 3.11), perl:native, libfoo1:amd64')).toEqual([
      [{name: 'python3', archQualifier: 'any', op: '>=', version: '3.11'}],
      [{name: 'perl', archQualifier: 'native'}],
      [{name: 'libfoo1', archQualifier: 'amd64'}],
    ])
  })

  it('joins continuation lines (fields folded over several lines)', () => {
    expect(parseRelations('a,\n b |\n c')).toEqual([[{name: 'a'}], [{name: 'b'}, {name: 'c'}]])
  })

  it('drops alternatives restricted to other architectures, and a group left empty', () => {
    const field = 'libseccomp2 [amd64 arm64] | libfoo, libbar [!amd64], libbaz [i386], common'
    expect(parseRelations(field, {architecture: 'amd64'})).toEqual([[{name: 'libseccomp2'}, {name: 'libfoo'}], [{name: 'common'}]])
    expect(parseRelations(field, {architecture: 'i386'})).toEqual([[{name: 'libfoo'}], [{name: 'libbar'}], [{name: 'libbaz'}], [{name: 'common'}]])
  })

  it('keeps architecture-restricted alternatives when no architecture is given', () => {
    expect(parseRelations('a [i386]')).toEqual([[{name: 'a'}]])
  })

  it('ignores build profiles', () => {
    expect(parseRelations('debhelper-compat (= 13), python3-pytest <!nocheck>, foo [amd64] <!cross> <pkg.x.y>', {architecture: 'amd64'})).toEqual([
      [{name: 'debhelper-compat', op: '=', version: '13'}],
      [{name: 'python3-pytest'}],
      [{name: 'foo'}],
    ])
  })

  it('rejects malformed fields with an error naming the field text', () => {
    for (const bad of ['a,, b', 'a | | b', 'a (>= )', 'a (~= 1)', 'Foo', 'a b']) {
      let err: unknown
      try {
        parseRelations(bad, {fieldName: 'Depends'})
      } catch (e) {
        err = e
      }
      expect(err, bad).toBeInstanceOf(RelationSyntaxError)
      expect((err as KeelError).exit).toBe('input')
      expect((err as Error).message).toContain(`'${bad}'`)
      expect((err as Error).message).toContain('Depends')
    }
  })
})

describe('archListMatches', () => {
  it('handles positive, negated and wildcard lists', () => {
    expect(archListMatches('amd64', 'amd64')).toBe(true)
    expect(archListMatches('i386 arm64', 'amd64')).toBe(false)
    expect(archListMatches('!i386', 'amd64')).toBe(true)
    expect(archListMatches('!amd64 !i386', 'amd64')).toBe(false)
    expect(archListMatches('linux-any', 'amd64')).toBe(true)
    expect(archListMatches('any-amd64', 'amd64')).toBe(true)
    expect(archListMatches('any-arm64', 'amd64')).toBe(false)
    expect(archListMatches('kfreebsd-any', 'amd64')).toBe(false)
  })
})

describe('parseProvides', () => {
  it('reads plain and versioned provides', () => {
    expect(parseProvides('mail-transport-agent, libfoo-abi (= 1.2), python3:any')).toEqual([
      {name: 'mail-transport-agent'},
      {name: 'libfoo-abi', version: '1.2'},
      {name: 'python3', archQualifier: 'any'},
    ])
  })

  it('drops provides with an operator other than = (apt ignores them)', () => {
    expect(parseProvides('a (>= 1), b (= 2)')).toEqual([{name: 'b', version: '2'}])
  })

  it('rejects alternatives', () => {
    expect(() => parseProvides('a | b')).toThrow(RelationSyntaxError)
  })
})

describe('formatAlternatives', () => {
  it('renders a group as written in a control file', () => {
    expect(formatAlternatives([{name: 'a', archQualifier: 'any', op: '>=', version: '1'}, {name: 'b'}])).toBe('a:any (>= 1) | b')
  })
})
