import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {hostnameFstabFixup} from '../../../src/rootfs/fixups/hostname-fstab.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('hostname-fstab', () => {
  it('removes /etc/hostname and writes a comment-only fstab', async () => {
    const tree = syntheticTree()
    tree.writeFile('etc/hostname', 'buildhost\n', {owner: 'x'})
    const r = await hostnameFstabFixup.run(unitContext(tree))
    expect(tree.get('etc/hostname')).toBeUndefined()
    const fstab = readFileSync(tree.hostPath('etc/fstab'), 'utf8')
    expect(fstab.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual([])
    expect(r.removed).toEqual(['etc/hostname'])
  })
})
