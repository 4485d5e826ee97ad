import {describe, expect, it} from 'vitest'
import {planVfat, planVfatContents} from '../../src/fsimage/vfat.js'

describe('planVfat', () => {
  it('creates the file with a fixed volume id and label; --invariant before -i so the id wins', () => {
    expect(planVfat({output: '/o/esp.img', sizeBytes: 2 ** 30, label: 'EFI-SYSTEM', volumeId: '0a1b2c3d'})).toEqual({
      tool: 'mkfs.vfat',
      args: ['--invariant', '-i', '0a1b2c3d', '-n', 'EFI-SYSTEM', '-C', '/o/esp.img', '1048576'],
      env: {},
    })
    expect(planVfat({output: '/o', sizeBytes: 2 ** 26, label: 'ESP', volumeId: '00000000', fatSize: 32}).args).toContain('-F')
  })

  it('refuses labels FAT cannot hold and sizes that are not whole KiB', () => {
    expect(() => planVfat({output: '/o', sizeBytes: 2 ** 20, label: 'efi', volumeId: '00000000'})).toThrow(/upper-case/)
    expect(() => planVfat({output: '/o', sizeBytes: 2 ** 20, label: 'TWELVE-CHARS', volumeId: '00000000'})).toThrow(/1-11/)
    expect(() => planVfat({output: '/o', sizeBytes: 1000, label: 'ESP', volumeId: '00000000'})).toThrow(/multiple of 1 KiB/)
  })
})

describe('planVfatContents', () => {
  it('makes every parent directory in one mmd, then copies files in byte order, all at the epoch', () => {
    const files = new Map([
      ['loader/loader.conf', '/h/loader.conf'],
      ['EFI/BOOT/BOOTX64.EFI', '/h/systemd-bootx64.efi'],
      ['loader/entries/a.conf', '/h/a.conf'],
    ])
    const env = {MTOOLS_SKIP_CHECK: '1', SOURCE_DATE_EPOCH: '9'}
    expect(planVfatContents('/o/esp.img', files, 9)).toEqual([
      {tool: 'mmd', args: ['-i', '/o/esp.img', '::/EFI', '::/EFI/BOOT', '::/loader', '::/loader/entries'], env},
      {tool: 'mcopy', args: ['-i', '/o/esp.img', '-o', '/h/systemd-bootx64.efi', '::/EFI/BOOT/BOOTX64.EFI'], env},
      {tool: 'mcopy', args: ['-i', '/o/esp.img', '-o', '/h/a.conf', '::/loader/entries/a.conf'], env},
      {tool: 'mcopy', args: ['-i', '/o/esp.img', '-o', '/h/loader.conf', '::/loader/loader.conf'], env},
    ])
    expect(planVfatContents('/o/esp.img', new Map(), 9)).toEqual([])
  })
})
