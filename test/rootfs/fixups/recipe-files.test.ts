import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {recipeFilesFixup} from '../../../src/rootfs/fixups/recipe-files.js'
import {unitContext} from './ctx.js'
import {testRecipe} from './real-tree.js'
import {syntheticTree} from './synthetic-tree.js'

describe('recipe-files', () => {
  it('writes inline and sourced files with the recipe\'s mode and owner, creating parents', async () => {
    const tree = syntheticTree()
    const source = join(tree.dir, '..', `${tree.dir.split('/').at(-1)}-src.txt`)
    writeFileSync(source, 'from a file\n')
    const recipe = testRecipe({
      files: [
        {path: '/etc/sudoers.d/core', mode: 0o440, uid: 0, gid: 0, content: 'core ALL=(ALL) NOPASSWD: ALL\n'},
        {path: '/opt/x/data', mode: 0o600, uid: 500, gid: 500, source},
      ],
    })
    const r = await recipeFilesFixup.run(unitContext(tree, [], recipe))
    expect(r.written).toEqual(['etc/sudoers.d/core', 'opt/x/data'])
    expect(tree.get('etc/sudoers.d/core')).toMatchObject({type: 'file', mode: 0o440, uid: 0, gid: 0, owner: 'keel:recipe-files'})
    expect(tree.get('opt/x')).toMatchObject({type: 'dir', mode: 0o755, uid: 0})
    expect(tree.get('opt/x/data')).toMatchObject({mode: 0o600, uid: 500, gid: 500})
    expect(readFileSync(tree.hostPath('opt/x/data'), 'utf8')).toBe('from a file\n')
  })

  it('reports an unreadable source as an input error', async () => {
    const recipe = testRecipe({files: [{path: '/etc/x', mode: 0o644, uid: 0, gid: 0, source: '/nonexistent/keel-source'}]})
    await expect(recipeFilesFixup.run(unitContext(syntheticTree(), [], recipe))).rejects.toMatchObject({exit: 'input'})
  })
})
