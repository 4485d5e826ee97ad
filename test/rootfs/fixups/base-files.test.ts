import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {baseFilesFixup} from '../../../src/rootfs/fixups/base-files.js'
import {ETC_MODULES_TEXT, kmodFixup} from '../../../src/rootfs/fixups/kmod.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

function baseFilesTree() {
  const tree = syntheticTree()
  tree.writeFile('etc/group', 'root:x:0:\nmail:x:8:\nutmp:x:43:\n', {owner: 'keel:accounts'})
  tree.writeFile('usr/share/base-files/profile', 'PATH=/usr/bin\n', {owner: 'base-files'})
  tree.writeFile('usr/share/base-files/dot.bashrc', '# bashrc\n', {owner: 'base-files'})
  tree.writeFile('usr/share/base-files/motd', 'hello\n', {owner: 'base-files'})
  tree.writeFile('etc/motd', 'mine\n', {owner: 'recipe'})
  tree.mkdirp('var/run', {owner: 'somepkg'})
  return tree
}

describe('base-files', () => {
  it('copies the default profiles only where absent', async () => {
    const tree = baseFilesTree()
    const r = await baseFilesFixup.run(unitContext(tree, ['base-files']))
    expect(readFileSync(tree.hostPath('etc/profile'), 'utf8')).toBe('PATH=/usr/bin\n')
    expect(readFileSync(tree.hostPath('root/.bashrc'), 'utf8')).toBe('# bashrc\n')
    expect(readFileSync(tree.hostPath('etc/motd'), 'utf8')).toBe('mine\n')
    expect(r.written).not.toContain('root/.profile') // no dot.profile in this tree
  })

  it('makes the FHS directories, /var/run and /var/lock links, mail spool and accounting files', async () => {
    const tree = baseFilesTree()
    const r = await baseFilesFixup.run(unitContext(tree, ['base-files']))
    expect(tree.get('var/run')).toMatchObject({type: 'symlink', linkTarget: '/run'})
    expect(r.removed).toEqual(['var/run'])
    expect(tree.get('var/lock')).toMatchObject({type: 'symlink', linkTarget: '/run/lock'})
    expect(tree.get('var/spool/mail')).toMatchObject({type: 'symlink', linkTarget: '../mail'})
    expect(tree.get('var/mail')).toMatchObject({type: 'dir', mode: 0o2775, gid: 8})
    expect(tree.get('run/lock')).toMatchObject({mode: 0o1777})
    expect(tree.get('usr/local/man')).toMatchObject({type: 'symlink', linkTarget: 'share/man'})
    expect(tree.get('usr/local/sbin')).toMatchObject({type: 'dir', mode: 0o755})
    expect(tree.get('var/log/btmp')).toMatchObject({type: 'file', mode: 0o660, uid: 0, gid: 43})
    expect(tree.get('var/log/wtmp')).toMatchObject({mode: 0o664, gid: 43})
    for (const d of ['mnt', 'srv', 'opt', 'media', 'etc/opt', 'var/opt']) expect(tree.get(d)?.type).toBe('dir')
  })

  it('does nothing without base-files', async () => {
    const tree = baseFilesTree()
    expect(await baseFilesFixup.run(unitContext(tree))).toEqual({written: [], removed: [], facts: {}})
  })
})

describe('kmod', () => {
  it('creates /etc/modules when missing, keeps an existing one', async () => {
    const tree = syntheticTree()
    await kmodFixup.run(unitContext(tree, ['kmod']))
    expect(readFileSync(tree.hostPath('etc/modules'), 'utf8')).toBe(ETC_MODULES_TEXT)
    expect(tree.get('etc/modules')).toMatchObject({mode: 0o644})
    tree.writeFile('etc/modules', 'loop\n', {owner: 'recipe'})
    expect((await kmodFixup.run(unitContext(tree, ['kmod']))).written).toEqual([])
  })
})
