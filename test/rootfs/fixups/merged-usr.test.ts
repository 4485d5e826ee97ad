import {describe, expect, it} from 'vitest'
import {mergedUsrFixup, mergedUsrProblems} from '../../../src/rootfs/fixups/merged-usr.js'
import {RootTree} from '../../../src/rootfs/tree.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('merged-usr', () => {
  it('accepts relative and absolute links into /usr', async () => {
    expect(mergedUsrProblems((p) => ({type: 'symlink', linkTarget: p === 'lib' ? '/usr/lib' : `usr/${p}`}))).toEqual([])
    expect((await mergedUsrFixup.run(unitContext(syntheticTree()))).facts.verified).toEqual(['/bin', '/lib', '/sbin'])
  })

  it('names every problem', () => {
    const entries: Record<string, {type: string; linkTarget?: string}> = {bin: {type: 'dir'}, sbin: {type: 'symlink', linkTarget: 'usr/bin'}}
    expect(mergedUsrProblems((p) => entries[p])).toEqual([
      '/bin is a dir, not a symlink to usr/bin',
      '/sbin points to usr/bin, not usr/sbin',
      '/lib is missing (expected a symlink to usr/lib)',
    ])
  })

  it('fails the build on a split-/usr tree', async () => {
    const tree = new RootTree(syntheticTree().dir + '-split')
    await expect(mergedUsrFixup.run(unitContext(tree))).rejects.toThrow(/not merged-\/usr/)
  })
})
