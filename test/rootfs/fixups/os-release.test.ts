import {describe, expect, it} from 'vitest'
import {silentReporter} from '../../../src/core/progress.js'
import {osReleaseFixup, osReleaseText} from '../../../src/rootfs/fixups/os-release.js'
import {testRecipe} from './real-tree.js'
import {syntheticTree} from './synthetic-tree.js'

describe('os-release', () => {
  it('renders the recipe identity with the channel as VARIANT_ID', () => {
    expect(osReleaseText({id: 'keel', name: 'keel', version: '0.1.0', channel: 'alpha'})).toBe(
      'NAME="keel"\nID="keel"\nID_LIKE="debian"\nVERSION="0.1.0 (alpha)"\nVERSION_ID="0.1.0"\nPRETTY_NAME="keel 0.1.0 (alpha)"\nVARIANT_ID="alpha"\n',
    )
  })

  it('escapes shell-special characters, as os-release(5) requires', () => {
    expect(osReleaseText({id: 'k', name: 'My "OS" $x', version: '1', channel: 'c'})).toContain('NAME="My \\"OS\\" \\$x"\n')
  })

  it('replaces base-files\' file and links /etc/os-release relatively', async () => {
    const tree = syntheticTree()
    tree.writeFile('usr/lib/os-release', 'ID=debian\n', {owner: 'base-files'})
    tree.symlink('etc/os-release', '../usr/lib/os-release', {owner: 'base-files'})
    await osReleaseFixup.run({tree, recipe: testRecipe(), packages: [], sourceDateEpoch: 0, reporter: silentReporter})
    expect(tree.get('usr/lib/os-release')).toMatchObject({type: 'file', mode: 0o644, owner: 'keel:os-release'})
    expect(tree.get('etc/os-release')).toMatchObject({type: 'symlink', linkTarget: '../usr/lib/os-release'})
  })
})
