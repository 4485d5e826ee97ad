import {describe, expect, it} from 'vitest'
import type {BuildManifest} from '../../src/build/manifest.js'
import {liveBootMedium} from '../../src/platforms/live-boot.js'

const manifest = {
  artifacts: [
    {path: 'keel-0.1.0-pxe.vmlinuz', format: 'kernel', platform: 'pxe', size: 1, sha256: ''},
    {path: 'keel-0.1.0-pxe.initrd', format: 'initramfs', platform: 'pxe', size: 1, sha256: ''},
  ],
  kernel: {version: '6.1', cmdline: 'root=tmpfs x', cmdlines: {pxe: 'root=tmpfs x'}},
} as unknown as BuildManifest

describe('liveBootMedium', () => {
  it('boots an ISO as a CD', () => {
    expect(liveBootMedium('/b/keel-0.1.0-iso.iso', undefined)).toEqual({cdrom: '/b/keel-0.1.0-iso.iso'})
  })

  it('boots a PXE kernel with the initrd beside it and the recorded command line, extra arguments last', () => {
    expect(liveBootMedium('/b/keel-0.1.0-pxe.vmlinuz', manifest, ['ignition.config.url=http://h/c.ign'])).toEqual({
      kernel: '/b/keel-0.1.0-pxe.vmlinuz',
      initrd: '/b/keel-0.1.0-pxe.initrd',
      append: 'root=tmpfs x ignition.config.url=http://h/c.ign',
    })
  })

  it('leaves disk images alone and refuses a PXE kernel the manifest does not know', () => {
    expect(liveBootMedium('/b/keel-0.1.0-qemu.qcow2', manifest)).toBeUndefined()
    expect(() => liveBootMedium('/elsewhere/vmlinuz-6.1.vmlinuz', manifest)).toThrow(/manifest\.json/)
    expect(() => liveBootMedium('/b/keel-0.1.0-pxe.vmlinuz', undefined)).toThrow(/command line/)
  })
})
