import {rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {listTreeDir, recordDiskChanges, resolveInTree, ResultBuilder, snapshotDisk} from '../../../src/rootfs/fixups/util.js'
import {syntheticTree} from './synthetic-tree.js'

describe('resolveInTree', () => {
  it('follows relative and absolute links in the manifest, never above the root', () => {
    const tree = syntheticTree()
    tree.writeFile('usr/bin/more', 'x', {owner: 't'})
    tree.symlink('etc/alternatives/pager', '/bin/more', {owner: 't'})
    tree.symlink('usr/bin/pager', '/etc/alternatives/pager', {owner: 't'})
    tree.symlink('usr/lib/escape', '../../../../etc', {owner: 't'})
    expect(resolveInTree(tree, '/bin/more')).toBe('usr/bin/more')
    expect(resolveInTree(tree, 'usr/bin/pager')).toBe('usr/bin/more')
    expect(resolveInTree(tree, 'usr/bin/pager', false)).toBe('usr/bin/pager')
    expect(resolveInTree(tree, 'lib/escape/alternatives')).toBe('etc/alternatives')
  })

  it('stops on a link loop instead of spinning', () => {
    const tree = syntheticTree()
    tree.symlink('a', 'b', {owner: 't'})
    tree.symlink('b', 'a', {owner: 't'})
    expect(['a', 'b']).toContain(resolveInTree(tree, 'a'))
  })
})

describe('recordDiskChanges', () => {
  it('records what a tool created, changed or removed, with normalised metadata', () => {
    const tree = syntheticTree()
    tree.writeFile('etc/keep', 'k', {mode: 0o600, uid: 5, owner: 'pkg'})
    tree.writeFile('etc/gone', 'g', {owner: 'pkg'})
    const before = snapshotDisk(tree, ['etc'])
    writeFileSync(tree.hostPath('etc/new'), 'n', {mode: 0o600})
    symlinkSync('/dev/null', tree.hostPath('etc/masked'))
    rmSync(tree.hostPath('etc/keep'))
    writeFileSync(tree.hostPath('etc/keep'), 'changed')
    rmSync(tree.hostPath('etc/gone'))
    const changes = recordDiskChanges(tree, before, snapshotDisk(tree, ['etc']), 'keel:test')
    expect(changes).toEqual({written: ['etc/keep', 'etc/masked', 'etc/new'], removed: ['etc/gone']})
    expect(tree.get('etc/new')).toMatchObject({type: 'file', mode: 0o644, uid: 0, owner: 'keel:test'})
    expect(tree.get('etc/masked')).toMatchObject({type: 'symlink', linkTarget: '/dev/null'})
    expect(tree.get('etc/keep')).toMatchObject({mode: 0o600, uid: 5})
    expect(tree.get('etc/gone')).toBeUndefined()
    expect(listTreeDir(tree, 'etc')).toEqual(['keep', 'masked', 'new'])
  })
})

describe('ResultBuilder', () => {
  it('sorts and de-duplicates paths and facts', () => {
    const r = new ResultBuilder()
    r.wrote('/b', 'a', 'b')
    r.fact('x', 'z', 'y', 'z')
    expect(r.result()).toEqual({written: ['a', 'b'], removed: [], facts: {x: ['y', 'z']}})
  })
})
