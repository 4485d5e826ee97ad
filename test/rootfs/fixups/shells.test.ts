import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {HOSTS_TEXT, netbaseFixup} from '../../../src/rootfs/fixups/netbase.js'
import {shellsText} from '../../../src/rootfs/fixups/shells.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('shellsText (update-shells on a first install)', () => {
  it('keeps the template, then adds package shells and their merged-/usr real paths', () => {
    const realDir = (d: string) => (d === '/bin' ? '/usr/bin' : d)
    expect(shellsText('# /etc/shells: valid login shells\n/bin/sh\n', ['/bin/bash\n/bin/rbash\n', '/bin/dash\n/usr/bin/tmux # comment\n'], realDir)).toBe(
      '# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n/usr/bin/tmux \n',
    )
  })

  it('lists each shell once', () => {
    expect(shellsText('/bin/sh\n/bin/sh\n', ['/bin/sh\n'], (d) => d)).toBe('/bin/sh\n')
  })
})

describe('netbase', () => {
  it('writes /etc/hosts and /etc/networks when absent, naming no host', async () => {
    const tree = syntheticTree()
    tree.writeFile('etc/networks', 'mine\n', {owner: 'recipe'})
    const r = await netbaseFixup.run(unitContext(tree, ['netbase']))
    expect(r.written).toEqual(['etc/hosts'])
    expect(readFileSync(tree.hostPath('etc/hosts'), 'utf8')).toBe(HOSTS_TEXT)
    expect(HOSTS_TEXT.split('\n')[0]).toBe('127.0.0.1\tlocalhost')
    expect(readFileSync(tree.hostPath('etc/networks'), 'utf8')).toBe('mine\n')
  })
})
