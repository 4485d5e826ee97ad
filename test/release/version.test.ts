import {describe, expect, it} from 'vitest'
import {compareVersions, daysSinceEpoch, nextVersion, parseVersion, sortVersions} from '../../src/release/version.js'

describe('release versions', () => {
  it('parses MAJOR.MINOR.PATCH and nothing else', () => {
    expect(parseVersion('3510.2.2')).toEqual({major: 3510, minor: 2, patch: 2})
    for (const bad of ['3510.2', '3510.2.2.1', '01.2.3', 'v1.2.3', '1.2.3-rc1', '', '1..3']) expect(parseVersion(bad)).toBeUndefined()
  })

  it('orders numerically, not as text', () => {
    expect(sortVersions(['10.0.0', '9.0.10', '9.0.9', '9.1.0', 'junk'])).toEqual(['9.0.9', '9.0.10', '9.1.0', '10.0.0'])
    expect(compareVersions(parseVersion('9.0.10')!, parseVersion('9.0.9')!)).toBeGreaterThan(0)
  })

  it('counts days since 2013-07-01 as Flatcar does', () => {
    // 2013-07-01 + 9 years (3287 days, two leap days) = 2022-07-01; + 184 days = 2023-01-01; + 39 = 2023-02-09.
    expect(daysSinceEpoch(Date.UTC(2023, 1, 9) / 1000)).toBe(3510)
    expect(daysSinceEpoch(Date.UTC(2023, 1, 9, 23, 59) / 1000)).toBe(3510)
    expect(daysSinceEpoch(Date.UTC(2023, 1, 10) / 1000)).toBe(3511)
    expect(daysSinceEpoch(0)).toBe(0)
  })

  it('gives the next version: channel as MINOR, PATCH counting within the day, never below what exists', () => {
    expect(nextVersion('alpha', 4000, [])).toBe('4000.0.0')
    expect(nextVersion('beta', 4000, [])).toBe('4000.1.0')
    expect(nextVersion('alpha', 4000, ['4000.0.0', '4000.0.1'])).toBe('4000.0.2')
    expect(nextVersion('alpha', 4001, ['4000.0.0', '4000.0.1'])).toBe('4001.0.0')
    // A build of an older commit (earlier day) still sorts after what the channel has.
    expect(nextVersion('alpha', 3990, ['4000.0.3'])).toBe('4000.0.4')
    // An explicit version with a higher MINOR in the channel: the next automatic one steps MAJOR.
    expect(nextVersion('alpha', 4000, ['4000.5.0'])).toBe('4001.0.0')
  })
})
