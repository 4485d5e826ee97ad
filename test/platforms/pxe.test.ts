import {describe, expect, it} from 'vitest'
import {LIVE_USR, liveCmdline, liveInitrdParts} from '../../src/platforms/live.js'
import {pxeInitrdPath} from '../../src/platforms/pxe.js'
import {PLATFORMS} from '../../src/platforms/registry.js'

const HASH = '0123456789abcdef'.repeat(4)

describe('PXE artifacts', () => {
  it('puts the initrd beside the kernel under the same stem', () => {
    expect(pxeInitrdPath('/out/keel-0.1.0-pxe.vmlinuz')).toBe('/out/keel-0.1.0-pxe.initrd')
  })

  it('boots with a live command line: tmpfs root, /usr from the loop devices, metal, Ignition every boot, the recipe\'s arguments last', () => {
    const line = liveCmdline(PLATFORMS.pxe, {recipeKernelArgs: ['console=ttyS0,115200n8']}, HASH)
    expect(line).toBe(
      `root=tmpfs rw mount.usr=/dev/mapper/usr mount.usrfstype=squashfs mount.usrflags=ro usrhash=${HASH} ` +
        'systemd.verity_usr_data=/dev/loop0 systemd.verity_usr_hash=/dev/loop1 ignition.platform.id=metal ignition.firstboot console=ttyS0,115200n8',
    )
    expect(LIVE_USR.filesystem).toBe('squashfs')
  })

  it('makes the initrd from the normal one, the live archive, then the baked config when the platform takes one', () => {
    expect(liveInitrdParts({initrd: '/s/initrd.img', bakedConfig: '/s/user.cpio'}, '/s/live.cpio', true)).toEqual(['/s/initrd.img', '/s/live.cpio', '/s/user.cpio'])
    expect(liveInitrdParts({initrd: '/s/initrd.img', bakedConfig: '/s/user.cpio'}, '/s/live.cpio', false)).toEqual(['/s/initrd.img', '/s/live.cpio'])
    expect(liveInitrdParts({initrd: '/s/initrd.img'}, '/s/live.cpio', true)).toEqual(['/s/initrd.img', '/s/live.cpio'])
  })
})
