import {describe, expect, it} from 'vitest'
import {bootEntry, kernelCommandLine, loaderConf, usrFilesystemOf} from '../../src/boot/cmdline.js'
import {USR_FILESYSTEMS} from '../../src/fsimage/usr.js'

const HASH = '240f466c861f3f1e94d7ab3e82eb541d82022e7a40e0debed2c1c2abb2a5dd63'

describe('kernelCommandLine', () => {
  it('opens /usr through verity with the partitions named by the root hash halves (systemd 252)', () => {
    const line = kernelCommandLine({usrHash: HASH, usrFs: 'erofs', root: 'PARTLABEL=ROOT', firstBoot: true, platform: 'qemu', extra: ['console=ttyS0,115200n8']})
    expect(line.split(' ')).toEqual([
      'root=PARTLABEL=ROOT',
      'rw',
      'mount.usr=/dev/mapper/usr',
      'mount.usrfstype=erofs',
      'mount.usrflags=ro',
      `usrhash=${HASH}`,
      'systemd.verity_usr_data=PARTUUID=240f466c-861f-3f1e-94d7-ab3e82eb541d',
      'systemd.verity_usr_hash=PARTUUID=82022e7a-40e0-debe-d2c1-c2abb2a5dd63',
      'ignition.platform.id=qemu',
      'ignition.firstboot',
      'console=ttyS0,115200n8',
    ])
  })

  it('leaves ignition.firstboot off entries for later boots', () => {
    expect(kernelCommandLine({usrHash: HASH, usrFs: 'squashfs', root: 'PARTLABEL=ROOT', firstBoot: false, platform: 'qemu'})).not.toMatch(/firstboot/)
  })

  it('refuses something that is not a sha256 root hash', () => {
    expect(() => kernelCommandLine({usrHash: 'abc', usrFs: 'erofs', root: 'x', firstBoot: false, platform: 'qemu'})).toThrow(/root hash/)
  })
})

describe('usrFilesystemOf', () => {
  it('reads back the /usr filesystem each registry entry writes', () => {
    for (const usrFs of USR_FILESYSTEMS) {
      expect(usrFilesystemOf(kernelCommandLine({usrHash: HASH, usrFs, root: 'PARTLABEL=ROOT', firstBoot: false, platform: 'qemu'}))).toBe(usrFs)
    }
  })

  it('takes the last mount.usrfstype= (as the kernel passes the last one on) and ignores look-alikes', () => {
    expect(usrFilesystemOf('mount.usrfstype=erofs x.mount.usrfstype=ext4 mount.usrfstype=squashfs')).toBe('squashfs')
  })

  it('knows no filesystem keel does not make /usr from', () => {
    expect(usrFilesystemOf('mount.usrfstype=ext4')).toBeUndefined()
    expect(usrFilesystemOf('root=x rw')).toBeUndefined()
  })
})

describe('systemd-boot files', () => {
  it('loader.conf boots the default entry without a menu', () => {
    expect(loaderConf('keel-a.conf')).toBe('default keel-a.conf\ntimeout 0\nconsole-mode keep\neditor no\n')
  })

  it('a type 1 entry names kernel, initrd and options', () => {
    expect(bootEntry({title: 'keel (slot A)', linux: '/keel/vmlinuz-a', initrd: '/keel/initrd-a', options: 'root=x rw', version: '0.1.0'})).toBe(
      'title keel (slot A)\nversion 0.1.0\nlinux /keel/vmlinuz-a\ninitrd /keel/initrd-a\noptions root=x rw\n',
    )
  })
})
