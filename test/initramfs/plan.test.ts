import {describe, expect, it} from 'vitest'
import {INITRD_MODULES_LOADED_AT_START, initrdRelease, moduleName, parseModulesDep, planInitrd, selectModules} from '../../src/initramfs/plan.js'

const DEP = [
  'kernel/drivers/md/dm-mod.ko:',
  'kernel/drivers/md/dm-bufio.ko: kernel/drivers/md/dm-mod.ko',
  'kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-bufio.ko kernel/drivers/md/dm-mod.ko kernel/lib/reed_solomon/reed_solomon.ko',
  'kernel/lib/reed_solomon/reed_solomon.ko:',
  'kernel/fs/erofs/erofs.ko.xz: kernel/lib/libcrc32c.ko.xz',
  'kernel/lib/libcrc32c.ko.xz:',
  'kernel/drivers/firmware/qemu_fw_cfg.ko:',
  '',
].join('\n')
const BUILTIN = 'kernel/fs/ext4/ext4.ko\nkernel/crypto/sha256_generic.ko\n'

describe('kernel modules', () => {
  it('parses modules.dep lines into a path and its dependencies', () => {
    const deps = parseModulesDep(DEP)
    expect(deps.get('kernel/drivers/md/dm-mod.ko')).toEqual([])
    expect(deps.get('kernel/fs/erofs/erofs.ko.xz')).toEqual(['kernel/lib/libcrc32c.ko.xz'])
  })

  it('names modules as modprobe does: no directory, no .ko[.xz], dashes as underscores', () => {
    expect(moduleName('kernel/drivers/md/dm-verity.ko')).toBe('dm_verity')
    expect(moduleName('kernel/fs/erofs/erofs.ko.xz')).toBe('erofs')
  })

  it('selects each requested module with its dependencies, and tells modules from built-ins', () => {
    const s = selectModules(['dm-verity', 'erofs', 'ext4', 'qemu_fw_cfg'], DEP, BUILTIN)
    expect(s.files).toEqual([
      'kernel/drivers/firmware/qemu_fw_cfg.ko',
      'kernel/drivers/md/dm-bufio.ko',
      'kernel/drivers/md/dm-mod.ko',
      'kernel/drivers/md/dm-verity.ko',
      'kernel/fs/erofs/erofs.ko.xz',
      'kernel/lib/libcrc32c.ko.xz',
      'kernel/lib/reed_solomon/reed_solomon.ko',
    ])
    expect(s.load).toEqual(['dm_verity', 'erofs', 'qemu_fw_cfg'])
    expect(s.builtin).toEqual(['ext4'])
  })

  it('refuses a module the kernel has neither as a module nor built in', () => {
    expect(() => selectModules(['dm_verity', 'virtio_blok'], DEP, BUILTIN)).toThrow(/virtio_blok/)
  })
})

describe('planInitrd', () => {
  const ops = planInitrd({osRelease: {id: 'keel-initrd', name: 'keel initrd', version: '0.1.0'}, loadModules: ['dm_verity', 'erofs']})

  it('makes /init keel\'s script (it hands over to systemd) and marks the tree as an initrd', () => {
    expect(ops).toContainEqual({op: 'symlink', path: 'init', target: 'usr/lib/keel/init'})
    expect(ops.filter((o) => o.path === 'init')).toHaveLength(1)
    const release = ops.find((o) => o.op === 'write' && o.path === 'etc/initrd-release')
    expect(release).toMatchObject({content: expect.stringContaining('ID=keel-initrd\n')})
  })

  it('installs Ignition where systemd finds it and requires its stages from the targets the dracut module uses', () => {
    expect(ops).toContainEqual({op: 'copy', from: 'usr/lib/dracut/modules.d/30ignition/ignition', path: 'usr/bin/ignition', mode: 0o755})
    expect(ops).toContainEqual(expect.objectContaining({op: 'copy', path: 'usr/lib/systemd/system-generators/ignition-generator', mode: 0o755}))
    const requires = ops.filter((o) => o.op === 'symlink' && o.path.includes('.requires/')).map((o) => (o.op === 'symlink' ? `${o.path} -> ${o.target}` : ''))
    expect(requires).toEqual([
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-fetch.service -> ../ignition-fetch.service',
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-fetch-offline.service -> ../ignition-fetch-offline.service',
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-kargs.service -> ../ignition-kargs.service',
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-disks.service -> ../ignition-disks.service',
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-mount.service -> ../ignition-mount.service',
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-files.service -> ../ignition-files.service',
      'usr/lib/systemd/system/ignition-diskful.target.requires/ignition-remount-sysroot.service -> ../ignition-remount-sysroot.service',
    ])
  })

  it('provides a no-op setfiles run by bash (the initrd has no /bin/sh), lists modules to load, drops the dracut copy last', () => {
    const setfiles = ops.find((o) => o.op === 'write' && o.path === 'usr/sbin/setfiles')
    expect(setfiles).toMatchObject({mode: 0o755, content: expect.stringMatching(/^#!\/bin\/bash\n[\s\S]*exit 0\n$/)})
    expect(ops).toContainEqual({op: 'write', path: 'etc/modules-load.d/keel-initrd.conf', content: 'dm_verity\nerofs\n', mode: 0o644})
    expect(ops.at(-1)).toEqual({op: 'remove', path: 'usr/lib/dracut'})
  })

  it('keeps only the generators the initrd needs, and none of the image\'s unit enablements', () => {
    const withGenerators = planInitrd({
      osRelease: {id: 'x', name: 'x', version: '1'},
      loadModules: [],
      generators: ['systemd-fstab-generator', 'systemd-getty-generator', 'systemd-veritysetup-generator', 'systemd-sysv-generator', 'systemd-debug-generator'],
    })
    const removed = withGenerators.filter((o) => o.op === 'remove' && !o.path.includes('sysinit.target.wants')).map((o) => o.path)
    expect(removed).toEqual(['etc/initrd-release', 'usr/lib/systemd/system-generators/systemd-getty-generator', 'usr/lib/systemd/system-generators/systemd-sysv-generator', 'etc/systemd/system', 'usr/lib/dracut'])
  })

  it('starts none of the real root\'s API mounts and bookkeeping units, and keeps what opens /usr', () => {
    const wants = ops.filter((o) => o.op === 'remove' && o.path.startsWith('usr/lib/systemd/system/sysinit.target.wants/')).map((o) => o.path.split('/').pop())
    expect(wants).toEqual([
      'dev-hugepages.mount',
      'dev-mqueue.mount',
      'proc-sys-fs-binfmt_misc.automount',
      'sys-fs-fuse-connections.mount',
      'sys-kernel-config.mount',
      'sys-kernel-debug.mount',
      'sys-kernel-tracing.mount',
      'systemd-binfmt.service',
      'systemd-update-utmp.service',
      'systemd-repart.service',
    ])
    for (const kept of ['systemd-udevd.service', 'systemd-udev-trigger.service', 'systemd-modules-load.service', 'systemd-journald.service', 'veritysetup.target', 'systemd-tmpfiles-setup-dev.service']) {
      expect(wants).not.toContain(kept)
    }
  })

  it('writes no modules-load.d file when nothing loads at start (udev and the kernel load on demand)', () => {
    const none = planInitrd({osRelease: {id: 'x', name: 'x', version: '1'}, loadModules: []})
    expect(none.some((o) => o.path.startsWith('etc/modules-load.d/'))).toBe(false)
    expect(INITRD_MODULES_LOADED_AT_START).toEqual([])
  })

  it('quotes os-release values', () => {
    expect(initrdRelease({id: 'x', name: 'a "b"', version: '1'})).toBe('NAME="a \\"b\\""\nID=x\nVERSION_ID="1"\nPRETTY_NAME="a \\"b\\" 1 (initrd)"\n')
  })
})
