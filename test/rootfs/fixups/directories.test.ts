import {describe, expect, it} from 'vitest'
import {directoriesFixup} from '../../../src/rootfs/fixups/directories.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('directories', () => {
  it('makes mount points, sticky temp dirs and the persistent journal dir with the right metadata', async () => {
    const tree = syntheticTree()
    tree.writeFile('etc/group', 'root:x:0:\nsystemd-journal:x:999:\n', {owner: 'keel:accounts'})
    tree.mkdirp('tmp', {mode: 0o755, owner: 'base-files'})
    await directoriesFixup.run(unitContext(tree))
    expect(tree.get('tmp')).toMatchObject({type: 'dir', mode: 0o1777, owner: 'base-files'})
    expect(tree.get('var/tmp')).toMatchObject({mode: 0o1777})
    expect(tree.get('root')).toMatchObject({mode: 0o700, uid: 0, gid: 0})
    expect(tree.get('proc')).toMatchObject({mode: 0o555})
    expect(tree.get('var/log/journal')).toMatchObject({type: 'dir', mode: 0o2755, uid: 0, gid: 999})
  })

  it('skips the journal dir when systemd-journal does not exist', async () => {
    const tree = syntheticTree()
    const r = await directoriesFixup.run(unitContext(tree))
    expect(tree.get('var/log/journal')).toBeUndefined()
    expect(r.written).toContain('tmp')
  })
})
