import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {machineIdFixup} from '../../../src/rootfs/fixups/machine-id.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('machine-id', () => {
  it('writes "uninitialized" so the first boot is a first boot, and drops a baked D-Bus id', async () => {
    const tree = syntheticTree()
    tree.writeFile('var/lib/dbus/machine-id', '0123456789abcdef0123456789abcdef\n', {owner: 'dbus'})
    const r = await machineIdFixup.run(unitContext(tree))
    expect(readFileSync(tree.hostPath('etc/machine-id'), 'utf8')).toBe('uninitialized\n')
    expect(tree.get('etc/machine-id')).toMatchObject({mode: 0o444, uid: 0, gid: 0})
    expect(r).toEqual({written: ['etc/machine-id'], removed: ['var/lib/dbus/machine-id'], facts: {}})
  })
})
