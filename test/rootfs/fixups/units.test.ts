import {describe, expect, it} from 'vitest'
import {DEFAULT_PRESET_TEXT, keelPresetText, unitsFixup} from '../../../src/rootfs/fixups/units.js'
import {unitContext} from './ctx.js'
import {testRecipe} from './real-tree.js'
import {syntheticTree} from './synthetic-tree.js'

describe('keel preset file', () => {
  it('lists the recipe\'s disables first, then Debian\'s defaults, then the recipe\'s enables, instances in preset syntax', () => {
    const text = keelPresetText(['getty@tty1.service', 'ssh.service', 'fstrim.timer'], {enable: ['ssh.service', 'containerd.service'], disable: ['fstrim.timer'], mask: ['apt-daily.timer']})
    expect(text).toBe(
      "# keel: the recipe's disables, Debian's default enables, the recipe's enables.\n" +
        'disable fstrim.timer\n' +
        'disable apt-daily.timer\n' +
        'enable getty@.service tty1\n' +
        'enable ssh.service\n' +
        'enable containerd.service\n',
    )
  })

  it('ends the preset chain with disable *', () => {
    expect(DEFAULT_PRESET_TEXT.trimEnd().split('\n').at(-1)).toBe('disable *')
  })
})

describe('units fix-up without systemd', () => {
  it('skips a tree with no unit directory, but refuses a recipe that names units there', async () => {
    const tree = syntheticTree()
    expect(await unitsFixup.run(unitContext(tree))).toEqual({written: [], removed: [], facts: {}})
    expect(tree.get('usr/lib/systemd/system-preset/99-keel-default.preset')).toBeUndefined()
    const recipe = testRecipe({units: {enable: ['ssh.service'], disable: [], mask: []}})
    await expect(unitsFixup.run(unitContext(tree, [], recipe))).rejects.toMatchObject({exit: 'input'})
  })
})
