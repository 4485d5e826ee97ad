import {existsSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {packageManagerLeftoversFixup} from '../../../src/rootfs/fixups/package-manager-leftovers.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('package-manager-leftovers', () => {
  it('removes dpkg and apt state, on disk and in the manifest, and nothing else', async () => {
    const tree = syntheticTree()
    tree.writeFile('var/lib/dpkg/status', 'Package: x\n', {owner: 'dpkg'})
    tree.writeFile('etc/apt/sources.list', 'deb x\n', {owner: 'apt'})
    tree.writeFile('var/lib/systemd/keep', '', {owner: 'systemd'})
    const r = await packageManagerLeftoversFixup.run(unitContext(tree))
    expect(r.removed).toEqual(['etc/apt', 'var/lib/dpkg'])
    expect(tree.get('var/lib/dpkg/status')).toBeUndefined()
    expect(existsSync(tree.hostPath('var/lib/dpkg'))).toBe(false)
    expect(tree.get('var/lib/systemd/keep')).toBeDefined()
  })
})
