import {describe, expect, it} from 'vitest'
import {
  liveKernelCommandLine,
  planLiveAdditions,
  planLiveArchive,
} from '../../src/initramfs/live.js'
import type {TreeEntry} from '../../src/rootfs/tree.js'

const HASH = 'ab'.repeat(32)

describe('liveKernelCommandLine', () => {
  it('opens /usr from the two loop devices, mounts a tmpfs root and runs Ignition on every boot', () => {
    expect(liveKernelCommandLine({usrHash: HASH, usrFs: 'squashfs', platform: 'metal', extra: ['console=ttyS0,115200n8']})).toBe(
      `root=tmpfs rw mount.usr=/dev/mapper/usr mount.usrfstype=squashfs mount.usrflags=ro usrhash=${HASH} ` +
        'systemd.verity_usr_data=/dev/loop0 systemd.verity_usr_hash=/dev/loop1 ignition.platform.id=metal ignition.firstboot console=ttyS0,115200n8',
    )
  })

  it('passes an Ignition config URL for the metal provider', () => {
    const line = liveKernelCommandLine({usrHash: HASH, usrFs: 'erofs', platform: 'metal', configUrl: 'http://10.0.2.2:8080/c.ign'})
    expect(line.split(' ')).toContain('ignition.config.url=http://10.0.2.2:8080/c.ign')
    expect(line.split(' ')).toContain('mount.usrfstype=erofs')
  })

  it('refuses a malformed root hash and a URL that would split the command line', () => {
    expect(() => liveKernelCommandLine({usrHash: 'abc', usrFs: 'squashfs', platform: 'metal'})).toThrow(/root hash/)
    expect(() => liveKernelCommandLine({usrHash: HASH, usrFs: 'squashfs', platform: 'metal', configUrl: 'http://x/a b'})).toThrow(/spaces/)
  })
})

describe('planLiveAdditions', () => {
  const additions = planLiveAdditions()
  const file = (path: string): string => {
    const a = additions.find((x) => x.path === path)
    if (a?.type !== 'file') throw new Error(`no file ${path}`)
    return a.content
  }

  it('attaches the image and the hash tree read-only to the loop devices the command line names', () => {
    const unit = file('usr/lib/systemd/system/keel-live-usr.service')
    expect(unit).toContain('ExecStart=/usr/sbin/modprobe loop\n')
    expect(unit).toContain('ExecStart=/usr/sbin/losetup --read-only /dev/loop0 /keel/usr.img\n')
    expect(unit).toContain('ExecStart=/usr/sbin/losetup --read-only /dev/loop1 /keel/usr.verity\n')
    expect(unit).toContain('DefaultDependencies=no\n')
    expect(additions).toContainEqual({type: 'symlink', path: 'usr/lib/systemd/system/sysinit.target.wants/keel-live-usr.service', target: '../keel-live-usr.service'})
  })

  it('fills the memory root after it is mounted and before /usr is mounted on it and Ignition runs', () => {
    const unit = file('usr/lib/systemd/system/keel-live-root.service')
    expect(unit).toContain('RequiresMountsFor=/sysroot\n')
    expect(unit).toContain('Before=initrd-root-fs.target sysroot-usr.mount\n')
    expect(unit).toContain('ExecStart=/usr/bin/cp -a /keel/root/. /sysroot/\n')
    expect(additions).toContainEqual({type: 'symlink', path: 'usr/lib/systemd/system/initrd-root-fs.target.requires/keel-live-root.service', target: '../keel-live-root.service'})
  })

  it('starts networkd only when Ignition asks for the network (a config URL), between its two fetch stages', () => {
    const unit = file('usr/lib/systemd/system/keel-live-network.service')
    expect(unit).toContain('ConditionPathExists=/run/ignition/neednet\n')
    expect(unit).toContain('After=ignition-fetch-offline.service\nBefore=ignition-fetch.service\n')
    expect(unit).toContain('ExecStart=/usr/bin/systemctl start --no-block systemd-networkd.service\n')
    expect(additions).toContainEqual({type: 'symlink', path: 'usr/lib/systemd/system/ignition-complete.target.wants/keel-live-network.service', target: '../keel-live-network.service'})
    expect(file('etc/systemd/network/80-keel-live.network')).toContain('[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n')
  })

  it('answers Ignition\'s is-live-image with a bash script (there is no /bin/sh in the initrd)', () => {
    expect(file('usr/bin/is-live-image')).toMatch(/^#!\/bin\/bash\n[^]*exit 0\n$/)
  })
})

describe('planLiveArchive', () => {
  const e = (path: string, type: TreeEntry['type'], mode: number, extra: Partial<TreeEntry> = {}): TreeEntry => ({path, type, mode, uid: 0, gid: 0, owner: 'test', ...extra})
  const rootEntries: TreeEntry[] = [
    e('', 'dir', 0o755),
    e('etc', 'dir', 0o755),
    e('etc/passwd', 'file', 0o644),
    e('etc/shadow', 'file', 0o640, {gid: 42}),
    e('etc/shadow-', 'hardlink', 0o640, {linkTarget: 'etc/shadow'}),
    e('etc/from-usr', 'hardlink', 0o644, {linkTarget: 'usr/share/x'}),
    e('bin', 'symlink', 0o777, {linkTarget: 'usr/bin'}),
    e('tmp', 'dir', 0o1777),
    e('dev', 'dir', 0o755),
    e('dev/console', 'char', 0o600, {devMajor: 5, devMinor: 1}),
  ]
  const mountpoints = [
    {path: 'usr', mode: 0o755},
    {path: 'proc', mode: 0o555},
    {path: 'tmp', mode: 0o1777},
  ]
  const plan = planLiveArchive({rootEntries, mountpoints})
  const byPath = new Map(plan.entries.map((x) => [x.path, x]))

  it('lists paths in byte order with every parent before its children', () => {
    const paths = plan.entries.map((x) => x.path)
    expect(paths).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
    for (const p of paths) {
      const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : undefined
      if (parent) expect(paths.indexOf(parent), `${parent} before ${p}`).toBeGreaterThanOrEqual(0)
      if (parent) expect(paths.indexOf(parent)).toBeLessThan(paths.indexOf(p))
    }
    expect(paths).not.toContain('')
  })

  it('carries the image and its hash tree root-only, with bytes from the caller\'s files', () => {
    expect(byPath.get('keel')).toMatchObject({type: 'dir', mode: 0o700})
    expect(byPath.get('keel/usr.img')).toMatchObject({type: 'file', mode: 0o400, uid: 0, gid: 0})
    expect(plan.sources.get('keel/usr.img')).toEqual({kind: 'host', path: 'usr.img'})
    expect(plan.sources.get('keel/usr.verity')).toEqual({kind: 'host', path: 'usr.verity'})
  })

  it('re-roots ROOT under /keel/root with its owners, links and device nodes', () => {
    expect(byPath.get('keel/root/etc/shadow')).toMatchObject({type: 'file', mode: 0o640, gid: 42})
    expect(plan.sources.get('keel/root/etc/shadow')).toEqual({kind: 'tree', path: 'etc/shadow'})
    expect(byPath.get('keel/root/etc/shadow-')).toMatchObject({type: 'hardlink', linkTarget: 'keel/root/etc/shadow'})
    expect(byPath.get('keel/root/bin')).toMatchObject({type: 'symlink', linkTarget: 'usr/bin'})
    expect(byPath.get('keel/root/dev/console')).toMatchObject({type: 'char', devMajor: 5, devMinor: 1})
  })

  it('gives a hard link whose original is off ROOT its own bytes', () => {
    expect(byPath.get('keel/root/etc/from-usr')).toMatchObject({type: 'file', mode: 0o644})
    expect(byPath.get('keel/root/etc/from-usr')!.linkTarget).toBeUndefined()
    expect(plan.sources.get('keel/root/etc/from-usr')).toEqual({kind: 'tree', path: 'etc/from-usr'})
  })

  it('adds missing mount points and keeps the tree\'s own', () => {
    expect(byPath.get('keel/root/usr')).toMatchObject({type: 'dir', mode: 0o755})
    expect(byPath.get('keel/root/proc')).toMatchObject({type: 'dir', mode: 0o555})
    expect(byPath.get('keel/root/tmp')).toMatchObject({type: 'dir', mode: 0o1777})
  })

  it('masks the first-boot-done unit (no ESP on a live system) and adds the initrd units', () => {
    expect(byPath.get('keel/root/etc/systemd/system/keel-firstboot-done.service')).toMatchObject({type: 'symlink', linkTarget: '/dev/null'})
    expect(byPath.get('usr/lib/systemd/system/keel-live-usr.service')).toMatchObject({type: 'file', mode: 0o644})
    expect(plan.sources.get('usr/bin/is-live-image')).toMatchObject({kind: 'content'})
    expect(byPath.get('usr/bin/is-live-image')).toMatchObject({mode: 0o755})
  })

  it('refuses a tree whose mount point is not a directory', () => {
    expect(() => planLiveArchive({rootEntries: [e('proc', 'file', 0o644)], mountpoints})).toThrow(/proc must be a directory/)
  })
})

