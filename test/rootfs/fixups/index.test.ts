import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {FIXUPS, runFixups} from '../../../src/rootfs/fixups/index.js'
import type {Fixup} from '../../../src/rootfs/fixups/types.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('fix-up registry', () => {
  it('has unique names and runs accounts before users of accounts, recipe files before units and ldconfig', () => {
    const names = FIXUPS.map((f) => f.name)
    expect(new Set(names).size).toBe(names.length)
    const at = (n: string) => names.indexOf(n)
    expect(at('merged-usr')).toBe(0)
    for (const later of ['stat-overrides', 'directories', 'units']) expect(at('accounts')).toBeLessThan(at(later))
    for (const earlier of ['openssh-server', 'os-release', 'hostname-fstab', 'ca-certificates']) expect(at(earlier)).toBeLessThan(at('recipe-files'))
    expect(at('recipe-files')).toBeLessThan(at('units'))
    expect(at('recipe-files')).toBeLessThan(at('ldconfig'))
    for (const f of FIXUPS) expect(f.replaces.length).toBeGreaterThan(0)
  })

  it('is documented in src/rootfs/README.md, in the same order', () => {
    const readme = readFileSync(new URL('../../../src/rootfs/README.md', import.meta.url), 'utf8')
    const documented = [...readme.matchAll(/^\| \d+ \| `([^`]+)` \|/gm)].map((m) => m[1])
    expect(documented).toEqual(FIXUPS.map((f) => f.name))
  })

  it('runs fix-ups in order and labels each result', async () => {
    const order: string[] = []
    const fake = (name: string): Fixup => ({
      name,
      replaces: `${name} postinst`,
      async run() {
        order.push(name)
        return {written: [name], removed: [], facts: {}}
      },
    })
    const results = await runFixups(unitContext(syntheticTree()), [fake('b'), fake('a')])
    expect(order).toEqual(['b', 'a'])
    expect(results).toEqual([
      {name: 'b', replaces: 'b postinst', written: ['b'], removed: [], facts: {}},
      {name: 'a', replaces: 'a postinst', written: ['a'], removed: [], facts: {}},
    ])
  })
})
