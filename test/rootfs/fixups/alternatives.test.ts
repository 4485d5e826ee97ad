import {readlinkSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {silentReporter} from '../../../src/core/progress.js'
import {ALTERNATIVES, type AlternativeGroup, alternativesFixup, chooseAlternative} from '../../../src/rootfs/fixups/alternatives.js'
import {testRecipe} from './real-tree.js'
import {syntheticTree} from './synthetic-tree.js'

const group = (candidates: Array<[string, number]>): AlternativeGroup => ({
  name: 'g',
  link: '/usr/bin/g',
  candidates: candidates.map(([path, priority]) => ({package: 'p', path, priority, slaves: []})),
})

describe('chooseAlternative', () => {
  it('picks the highest priority among the candidates present, the first on a tie', () => {
    expect(chooseAlternative(group([['/a', 10], ['/b', 20]]), () => true)?.path).toBe('/b')
    expect(chooseAlternative(group([['/a', 10], ['/b', 20]]), (p) => p === '/a')?.path).toBe('/a')
    expect(chooseAlternative(group([['/a', 5], ['/b', 5]]), () => true)?.path).toBe('/a')
    expect(chooseAlternative(group([['/a', 5]]), () => false)).toBeUndefined()
  })

  it('prefers iptables-nft (20) over iptables-legacy (10), as bookworm does', () => {
    const iptables = ALTERNATIVES.find((g) => g.name === 'iptables')!
    expect(chooseAlternative(iptables, () => true)?.path).toBe('/usr/sbin/iptables-nft')
    const pager = ALTERNATIVES.find((g) => g.name === 'pager')!
    expect(chooseAlternative(pager, (p) => p === '/bin/more')?.path).toBe('/bin/more')
    expect(chooseAlternative(pager, () => true)?.path).toBe('/usr/bin/less')
    // priority 0 still counts: debianutils' which is the only candidate.
    expect(chooseAlternative(ALTERNATIVES.find((g) => g.name === 'which')!, () => true)?.path).toBe('/usr/bin/which.debianutils')
  })
})

describe('alternatives fix-up', () => {
  it('makes link → /etc/alternatives/name → candidate, slaves only when their target exists, through merged /usr', async () => {
    const tree = syntheticTree()
    for (const f of ['usr/sbin/iptables-legacy', 'usr/sbin/iptables-nft', 'usr/sbin/iptables-nft-save', 'usr/bin/more']) tree.writeFile(f, 'x', {mode: 0o755, owner: 'p'})
    const result = await alternativesFixup.run({tree, recipe: testRecipe(), packages: [], sourceDateEpoch: 0, reporter: silentReporter})
    expect(tree.get('usr/sbin/iptables')).toMatchObject({type: 'symlink', linkTarget: '/etc/alternatives/iptables'})
    expect(tree.get('etc/alternatives/iptables')).toMatchObject({type: 'symlink', linkTarget: '/usr/sbin/iptables-nft'})
    expect(tree.get('usr/sbin/iptables-save')).toMatchObject({linkTarget: '/etc/alternatives/iptables-save'})
    expect(tree.get('usr/sbin/iptables-restore')).toBeUndefined()
    // /bin/more exists through the bin → usr/bin link; the alternative keeps the path the postinst names.
    expect(tree.get('etc/alternatives/pager')).toMatchObject({linkTarget: '/bin/more'})
    expect(readlinkSync(tree.hostPath('usr/bin/pager'))).toBe('/etc/alternatives/pager')
    expect(tree.get('usr/sbin/ip6tables')).toBeUndefined()
    expect(result.facts.chosen).toEqual(['iptables=/usr/sbin/iptables-nft', 'pager=/bin/more'])
  })

  it('refuses to replace a regular file a package shipped at the link path', async () => {
    const tree = syntheticTree()
    tree.writeFile('usr/bin/mawk', 'x', {mode: 0o755, owner: 'mawk'})
    tree.writeFile('usr/bin/awk', 'real awk', {mode: 0o755, owner: 'other'})
    await expect(alternativesFixup.run({tree, recipe: testRecipe(), packages: [], sourceDateEpoch: 0, reporter: silentReporter})).rejects.toThrow(/would replace a file shipped by other/)
  })
})
