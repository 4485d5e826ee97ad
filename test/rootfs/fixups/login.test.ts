import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {addSubordinateRanges, loginFixup} from '../../../src/rootfs/fixups/login.js'
import {unitContext} from './ctx.js'
import {testRecipe} from './real-tree.js'
import {syntheticTree} from './synthetic-tree.js'

describe('subordinate id ranges', () => {
  it('gives each new user the next 65536 ids from 100000, after any listed range', () => {
    expect(addSubordinateRanges('', ['core', 'dev'])).toBe('core:100000:65536\ndev:165536:65536\n')
    expect(addSubordinateRanges('old:100000:200000\n', ['core', 'old'])).toBe('old:100000:200000\ncore:300000:65536\n')
    expect(() => addSubordinateRanges('bad:x:1\n', [])).toThrow(/bad subordinate id line/)
  })
})

describe('login fix-up', () => {
  it('creates faillog, subuid and subgid, with ranges for the recipe\'s normal users only', async () => {
    const tree = syntheticTree()
    const recipe = testRecipe({users: [{name: 'core', groups: [], system: false}, {name: 'svc', groups: [], system: true}]})
    await loginFixup.run(unitContext(tree, ['login'], recipe))
    expect(tree.get('var/log/faillog')).toMatchObject({type: 'file', mode: 0o644})
    for (const f of ['etc/subuid', 'etc/subgid']) {
      expect(readFileSync(tree.hostPath(f), 'utf8')).toBe('core:100000:65536\n')
      expect(tree.get(f)).toMatchObject({mode: 0o644, uid: 0, gid: 0})
    }
    expect((await loginFixup.run(unitContext(syntheticTree()))).written).toEqual([])
  })
})
