import {describe, expect, it} from 'vitest'
import {buildReplacesTable, challengerWins, directoryRank, unresolvedClaim} from '../../src/rootfs/unpack-rules.js'
import {WriteQueue} from '../../src/rootfs/unpack-io.js'

const pkgs = [
  {name: 'coreutils', version: '9.1-1'},
  {name: 'usrmerge-tools', version: '1.0', replaces: 'coreutils (<< 9.0), util-linux'},
  {name: 'new-utils', version: '2.0', replaces: 'coreutils (<< 10), usrmerge-tools:any, not-installed'},
  {name: 'util-linux', version: '2.38'},
  {name: 'mutual-a', version: '1', replaces: 'mutual-b'},
  {name: 'mutual-b', version: '1', replaces: 'mutual-a'},
]

describe('buildReplacesTable', () => {
  const table = buildReplacesTable(pkgs)
  it('names a package only when its locked version satisfies the constraint', () => {
    expect([...table[1]!]).toEqual([3]) // coreutils 9.1 is not << 9.0
    expect([...table[2]!].sort()).toEqual([0, 1]) // arch qualifier ignored, unknown names dropped
    expect(table[0]!.size).toBe(0)
  })
})

describe('challengerWins', () => {
  const table = buildReplacesTable(pkgs)
  it('lets the replacer win whichever came first', () => {
    expect(challengerWins(2, 0, table)).toBe(true)
    expect(challengerWins(0, 2, table)).toBe(false)
  })
  it('has no answer when neither replaces the other', () => {
    expect(challengerWins(0, 3, table)).toBeUndefined()
    expect(challengerWins(3, 0, table)).toBeUndefined()
  })
  it('breaks mutual Replaces by the given order: the later package wins from either side', () => {
    expect(challengerWins(5, 4, table)).toBe(true)
    expect(challengerWins(4, 5, table)).toBe(false)
  })
  it('lets an archive overwrite its own earlier entry', () => {
    expect(challengerWins(3, 3, table)).toBe(true)
  })
})

describe('unresolvedClaim', () => {
  const table = buildReplacesTable(pkgs)
  it('accepts a holder that replaces every other claimant', () => {
    expect(unresolvedClaim(2, [0, 1, 2], table)).toBeUndefined()
  })
  it('names the first pair the holder does not beat', () => {
    // usrmerge-tools replaces util-linux but not coreutils 9.1
    expect(unresolvedClaim(1, [3, 1, 0], table)).toEqual([0, 1])
  })
})

describe('directoryRank', () => {
  it('orders explicit before implicit, then earlier packages first, with keel\'s skeleton (-1) before any package', () => {
    expect(directoryRank(true, 5)).toBeLessThan(directoryRank(false, 0))
    expect(directoryRank(true, 1)).toBeLessThan(directoryRank(true, 2))
    expect(directoryRank(false, -1)).toBeLessThan(directoryRank(false, 0))
    expect(directoryRank(true, 0)).toBeLessThan(directoryRank(false, -1))
  })
})

describe('WriteQueue', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  it('runs operations on one key in scheduling order, even when the first is slower', async () => {
    const q = new WriteQueue()
    const log: string[] = []
    await q.schedule('p', async () => {
      await sleep(30)
      log.push('first')
    })
    await q.schedule('p', async () => {
      log.push('second')
    })
    await q.schedule('other', async () => {
      log.push('other')
    })
    await q.drain()
    expect(log).toEqual(['other', 'first', 'second'])
  })

  it('bounds operations in flight, refuses new work after a failure and reports it from drain', async () => {
    const q = new WriteQueue(2)
    let running = 0
    let peak = 0
    let refused = 0
    for (let i = 0; i < 8; i++) {
      await q.schedule(`k${i}`, async () => {
        running++
        peak = Math.max(peak, running)
        await sleep(5)
        running--
        if (i === 3) throw new Error('disk full')
      }).catch(() => refused++)
    }
    await expect(q.drain()).rejects.toThrow('disk full')
    expect(peak).toBe(2)
    expect(refused).toBeGreaterThan(0)
  })

  it('holds a key exclusively until released', async () => {
    const q = new WriteQueue()
    const log: string[] = []
    const release = await q.exclusive('big')
    await q.schedule('big', async () => {
      log.push('after')
    })
    await sleep(10)
    log.push('streamed')
    release()
    await q.drain()
    expect(log).toEqual(['streamed', 'after'])
  })
})
