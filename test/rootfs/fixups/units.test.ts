import {describe, expect, it} from 'vitest'
import {DEFAULT_PRESET_TEXT, keelPresetText} from '../../../src/rootfs/fixups/units.js'

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
