import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {recipeFilesFixup} from '../../../src/rootfs/fixups/recipe-files.js'
import {unitContext} from './ctx.js'
import {testRecipe} from './real-tree.js'
import {syntheticTree} from './synthetic-tree.js'

describe('recipe-files', () => {
  it('writes inline and sourced files with the recipe\'s mode and owner, creating parents', async () => {
    const tree = syntheticTree()
    const sourceDir = mkdtempSync(join(tmpdir(), 'keel-fixup-source-'))
    const source = join(sourceDir, 'data.txt')
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
    rmSync(sourceDir, {recursive: true, force: true})
  })

  it('reports an unreadable source as an input error', async () => {
    const recipe = testRecipe({files: [{path: '/etc/x', mode: 0o644, uid: 0, gid: 0, source: '/nonexistent/keel-source'}]})
    await expect(recipeFilesFixup.run(unitContext(syntheticTree(), [], recipe))).rejects.toMatchObject({exit: 'input'})
  })
})

describe('recipe-files through links', () => {
  it('writes through merged-/usr links and replaces a symlink at the path itself', async () => {
    const tree = syntheticTree()
    tree.symlink('etc/resolv.conf', '../run/systemd/resolve/stub-resolv.conf', {owner: 'keel:systemd-resolved'})
    const recipe = testRecipe({
      files: [
        {path: '/lib/modules-load.d/keel.conf', mode: 0o644, uid: 0, gid: 0, content: 'overlay\n'},
        {path: '/etc/resolv.conf', mode: 0o644, uid: 0, gid: 0, content: 'nameserver 192.0.2.1\n'},
      ],
    })
    const r = await recipeFilesFixup.run(unitContext(tree, [], recipe))
    expect(r.written).toEqual(['etc/resolv.conf', 'usr/lib/modules-load.d/keel.conf'])
    expect(tree.get('usr/lib/modules-load.d/keel.conf')?.type).toBe('file')
    expect(tree.get('etc/resolv.conf')).toMatchObject({type: 'file', owner: 'keel:recipe-files'})
    expect(readFileSync(tree.hostPath('etc/resolv.conf'), 'utf8')).toBe('nameserver 192.0.2.1\n')
  })
})
