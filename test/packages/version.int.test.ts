import {describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {compareVersions} from '../../src/packages/version.js'

/**
 * Oracle: for every pair, keel's sign must equal what `dpkg --compare-versions` says. dpkg answers one
 * relation per call through its exit status, so each pair costs two calls (lt, then eq).
 */
const PAIRS: Array<[string, string]> = [
  // epochs
  ['1:1.0', '2.0'],
  ['0:1.0', '1.0'],
  ['1:1.0', '1:1.0'],
  ['2:0.1', '1:9.9'],
  ['10:1', '9:1'],
  ['01:1.0', '1:1.0'],
  // tilde
  ['1.0~rc1', '1.0'],
  ['1.0~rc1', '1.0~rc2'],
  ['1.0~~', '1.0~'],
  ['1.0~~a', '1.0~'],
  ['1.0~', '1.0'],
  ['1.0~rc1-1', '1.0-1'],
  ['1.0-1~bpo1', '1.0-1'],
  ['2.0~beta', '2.0~alpha'],
  ['1~', '1'],
  ['~', ''],
  ['~~', '~'],
  // plus and other punctuation
  ['1.0+b1', '1.0'],
  ['1.0+dfsg', '1.0'],
  ['1.0+dfsg-1', '1.0-1'],
  ['1.0.1', '1.0+1'],
  ['1.0-1+deb12u1', '1.0-1'],
  ['1.0-1+b1', '1.0-1.1'],
  ['1.0.', '1.0'],
  ['1.0..', '1.0.'],
  ['1+', '1.'],
  ['1-2-3', '1-2'],
  ['1-2-3', '1-2.3'],
  // empty and zero revisions
  ['1.0-0', '1.0'],
  ['1.0-1', '1.0'],
  ['1.0-00', '1.0-0'],
  ['1.0-a', '1.0'],
  ['1.0-~', '1.0'],
  // leading zeros
  ['1.001', '1.1'],
  ['1.0010', '1.10'],
  ['0001', '1'],
  ['1.01.1', '1.1.01'],
  ['000', '0'],
  // letters versus digits and non-letters
  ['1.0a', '1.0'],
  ['1.0a', '1.0+'],
  ['1.0a', '1.0.'],
  ['1.0a', '1.0~'],
  ['1.0a', '1.0b'],
  ['1.0A', '1.0a'],
  ['1.0Z', '1.0a'],
  ['1.0z', '1.0+'],
  ['1a', '1.'],
  ['a', 'B'],
  ['1.0a1', '1.0a'],
  ['1.0a2', '1.0a10'],
  ['1.2.3a', '1.2.3.a'],
  // digit runs, including beyond 2^53 and 2^64
  ['1.10', '1.9'],
  ['1.2', '1.10'],
  ['9007199254740993', '9007199254740992'],
  ['99999999999999999999', '99999999999999999998'],
  ['1.18446744073709551616', '1.18446744073709551615'],
  ['123456789012345678901234567890', '123456789012345678901234567891'],
  ['00000000000000000000001', '1'],
  ['1.0-20230101', '1.0-20221231'],
  // real bookworm versions
  ['2.36.1-8+deb12u1', '2.36.1-8'],
  ['252.36-1~deb12u1', '252.26-1~deb12u2'],
  ['1:9.2p1-2+deb12u6', '1:9.2p1-2+deb12u5'],
  ['3.0.16-1~deb12u1', '3.0.15-1~deb12u1'],
  ['6.1.0-56', '6.1.0-9'],
  ['2.14.0+ds1-1+b6', '2.14.0+ds1-1'],
  ['1.6.20~ds1-1+b1', '1.6.20~ds1-1'],
  ['5.2.15-2+b7', '5.2.15-2+b10'],
  ['1:2.38.1-5+deb12u3', '2.39-1'],
  ['20230311', '20230311+deb12u1'],
  ['3.3.0-1', '3.3.0'],
  ['1.2.13.dfsg-1', '1.2.13-1'],
  ['2.6.1', '2.6.1ubuntu0.1'],
]

async function dpkgSign(a: string, b: string): Promise<number> {
  const lt = await run('dpkg', ['--compare-versions', a, 'lt', b], {okExitCodes: [1]})
  if (lt.exitCode === 0) return -1
  const eq = await run('dpkg', ['--compare-versions', a, 'eq', b], {okExitCodes: [1]})
  return eq.exitCode === 0 ? 0 : 1
}

describe('compareVersions against dpkg --compare-versions', () => {
  it(`agrees on ${PAIRS.length} hard pairs, both ways round`, async () => {
    expect(PAIRS.length).toBeGreaterThanOrEqual(60)
    const mismatches: string[] = []
    for (const [a, b] of PAIRS) {
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        const expected = await dpkgSign(x, y)
        const got = Math.sign(compareVersions(x, y))
        if (got !== expected) mismatches.push(`${x} vs ${y}: dpkg ${expected}, keel ${got}`)
      }
    }
    expect(mismatches).toEqual([])
  })
})
