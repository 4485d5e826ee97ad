import {linkSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {onRootFilesystem} from '../../src/fsimage/root.js'
import {imageManifest, relativeTo} from '../../src/fsimage/subtree.js'
import {RootTree} from '../../src/rootfs/tree.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

function tree(): RootTree {
  const dir = mkdtempSync(join(tmpdir(), 'keel-subtree-'))
  dirs.push(dir)
  const t = new RootTree(dir)
  t.writeFile('usr/bin/gzip', 'gz', {owner: 't', mode: 0o755})
  linkSync(t.hostPath('usr/bin/gzip'), t.hostPath('usr/bin/gunzip'))
  t.record({path: 'usr/bin/gunzip', type: 'hardlink', mode: 0o644, uid: 9, gid: 9, linkTarget: 'usr/bin/gzip', owner: 't'})
  t.writeFile('etc/zz', 'z', {owner: 't'})
  linkSync(t.hostPath('usr/bin/gzip'), t.hostPath('etc/zgzip'))
  t.record({path: 'etc/zgzip', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkTarget: 'usr/bin/gzip', owner: 't'})
  t.symlink('bin', 'usr/bin', {owner: 't'})
  t.record({path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, devMajor: 1, devMinor: 3, owner: 't'})
  return t
}

describe('imageManifest', () => {
  it('re-roots a prefix: usr/ becomes the image root', () => {
    const m = imageManifest(tree(), 'usr')
    expect([...m.keys()]).toEqual(['', 'bin', 'bin/gunzip', 'bin/gzip'])
    expect(m.get('')).toMatchObject({type: 'dir', mode: 0o755})
  })

  it('gives a hard link its original file\'s metadata and names the original when both are in the image', () => {
    const m = imageManifest(tree(), 'usr')
    expect(m.get('bin/gunzip')).toEqual({type: 'file', mode: 0o755, uid: 0, gid: 0, linkOf: 'bin/gzip', treePath: 'usr/bin/gunzip'})
  })

  it('lets a link whose original is filtered out carry its own content', () => {
    const m = imageManifest(tree(), '', (e) => onRootFilesystem(e.path))
    expect(m.get('etc/zgzip')).toEqual({type: 'file', mode: 0o755, uid: 0, gid: 0, treePath: 'etc/zgzip'})
    expect(m.has('usr')).toBe(true)
    expect(m.has('usr/bin')).toBe(false)
    expect(m.get('bin')).toMatchObject({type: 'symlink', linkTarget: 'usr/bin'})
    expect(m.get('dev/null')).toMatchObject({type: 'char', devMajor: 1, devMinor: 3})
  })

  it('maps tree paths to image paths', () => {
    expect(relativeTo('usr', 'usr/bin/x')).toBe('bin/x')
    expect(relativeTo('usr', 'usr')).toBe('')
    expect(relativeTo('usr', 'usrx/y')).toBeUndefined()
    expect(relativeTo('', 'etc')).toBe('etc')
  })
})
