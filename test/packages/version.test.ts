import {describe, expect, it} from 'vitest'
import {compareVersions, isValidVersion, parseVersion, satisfies} from '../../src/packages/version.js'

const sign = (n: number): number => Math.sign(n)

describe('parseVersion', () => {
  it('splits epoch, upstream and revision at the first colon and the last hyphen', () => {
    expect(parseVersion('1:2.3-4-5')).toEqual({epoch: 1, upstream: '2.3-4', revision: '5'})
    expect(parseVersion('2.36.1-8+deb12u1')).toEqual({epoch: 0, upstream: '2.36.1', revision: '8+deb12u1'})
    expect(parseVersion('1.0')).toEqual({epoch: 0, upstream: '1.0', revision: ''})
    expect(parseVersion('3:1.2:3-1')).toEqual({epoch: 3, upstream: '1.2:3', revision: '1'})
  })
})

describe('isValidVersion', () => {
  it('accepts policy-conforming versions', () => {
    for (const v of ['1.0', '1:1.0-1', '2.0~rc1+dfsg-3~bpo12+1', '0-0', '1.2.3a']) expect(isValidVersion(v), v).toBe(true)
  })
  it('rejects versions that do not start with a digit or use stray characters', () => {
    for (const v of ['', 'a1.0', '1.0_1', 'x:1.0', '1.0 1', '1:-1']) expect(isValidVersion(v), v).toBe(false)
  })
})

describe('compareVersions', () => {
  // Each expectation is worked out from policy 5.6.12 by hand; the sign is what matters.
  const cases: Array<[string, string, number]> = [
    ['1.0', '1.0', 0],
    ['1.0', '1.1', -1],
    ['1.10', '1.9', 1], // digit runs compare numerically
    ['1:0.1', '2.0', 1], // epoch dominates
    ['0:1.0', '1.0', 0], // missing epoch is 0
    ['1.0~rc1', '1.0', -1], // ~ sorts before the end of the string
    ['1.0~~', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0', '1.0+b1', -1], // + is after the end
    ['1.0a', '1.0+', -1], // letters sort before non-letters
    ['1.0a', '1.0', 1], // a letter is after the end of the string
    ['1.0-1', '1.0', 1], // '1' revision vs empty revision (= '0')
    ['1.0-0', '1.0', 0],
    ['1.001', '1.1', 0], // leading zeros do not count
    ['1.0-1', '1.0-1.1', -1],
    ['2.36.1-8+deb12u1', '2.36.1-8', 1],
    ['1.2.3', '1.2.3.0', -1],
    ['99999999999999999999', '99999999999999999998', 1], // beyond 2^53: compared as digit strings
    ['1.18446744073709551616', '1.18446744073709551615', 1],
    ['a', 'B', 1], // plain ASCII among letters
    ['1~', '1-', -1],
    ['', '~', -1], // dpkg: the empty version is earlier than any version, even '~'
  ]
  for (const [a, b, expected] of cases) {
    it(`${a} vs ${b} → ${expected}`, () => {
      expect(sign(compareVersions(a, b))).toBe(expected)
      expect(sign(compareVersions(b, a))).toBe(expected === 0 ? 0 : -expected)
    })
  }
})

describe('satisfies', () => {
  it('implements the five policy operators', () => {
    expect(satisfies('1.0', '<<', '1.1')).toBe(true)
    expect(satisfies('1.1', '<<', '1.1')).toBe(false)
    expect(satisfies('1.1', '<=', '1.1')).toBe(true)
    expect(satisfies('1.0-1', '=', '1.0-1')).toBe(true)
    expect(satisfies('1.0-1', '=', '1.0-2')).toBe(false)
    expect(satisfies('1:0', '>=', '9.9')).toBe(true)
    expect(satisfies('1.0', '>>', '1.0')).toBe(false)
    expect(satisfies('1.0+b1', '>>', '1.0')).toBe(true)
  })
  it('reads the legacy < and > as <= and >= like dpkg', () => {
    expect(satisfies('1.0', '<', '1.0')).toBe(true)
    expect(satisfies('0.9', '<', '1.0')).toBe(true)
    expect(satisfies('1.1', '<', '1.0')).toBe(false)
    expect(satisfies('1.0', '>', '1.0')).toBe(true)
    expect(satisfies('0.9', '>', '1.0')).toBe(false)
  })
})
