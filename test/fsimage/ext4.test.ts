import {describe, expect, it} from 'vitest'
import {debugfsCommands, debugfsPath, MKE2FS_CONF, planMke2fs} from '../../src/fsimage/ext4.js'
import type {ImageManifest} from '../../src/fsimage/subtree.js'

const plan = {output: '/o/root.img', label: 'ROOT', uuid: 'aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeeee', hashSeed: '11111111-2222-5333-8444-555555555555', epoch: 1_700_000_000, configFile: '/w/mke2fs.conf'}

describe('planMke2fs', () => {
  it('pins the configuration, UUID, hash seed and clock, and sizes in KiB', () => {
    expect(planMke2fs({...plan, sizeBytes: 2 * 2 ** 30, source: '/w/root'})).toEqual({
      tool: 'mke2fs',
      args: ['-q', '-t', 'ext4', '-T', 'keel', '-L', 'ROOT', '-U', plan.uuid, '-E', `hash_seed=${plan.hashSeed},root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0,nodiscard`, '-d', '/w/root', '/o/root.img', '2097152k'],
      env: {MKE2FS_CONFIG: '/w/mke2fs.conf', E2FSPROGS_FAKE_TIME: '1700000000', SOURCE_DATE_EPOCH: '1700000000'},
    })
  })

  it('makes an empty filesystem without a source, and refuses odd sizes and long labels', () => {
    expect(planMke2fs({...plan, sizeBytes: 8 * 2 ** 20}).args).not.toContain('-d')
    expect(() => planMke2fs({...plan, sizeBytes: 8 * 2 ** 20 + 512})).toThrow(/multiple of 4 KiB/)
    expect(() => planMke2fs({...plan, sizeBytes: 8 * 2 ** 20, label: 'A-LABEL-LONGER-THAN-16'})).toThrow(/at most 16 bytes/)
  })

  it('keeps features that let first boot grow ROOT, and a keel usage type so the host config is not consulted', () => {
    expect(MKE2FS_CONF).toMatch(/base_features = .*resize_inode/)
    expect(MKE2FS_CONF).toMatch(/\tkeel = \{\n\t\tinode_ratio = 16384\n\t\}/)
    expect(MKE2FS_CONF).not.toMatch(/orphan_file|metadata_csum_seed/)
  })
})

describe('debugfsCommands', () => {
  it('sets type+mode, owner and all four times per entry, in byte order; creates device nodes first', () => {
    const manifest: ImageManifest = new Map([
      ['etc/shadow', {type: 'file', mode: 0o640, uid: 0, gid: 42}],
      ['', {type: 'dir', mode: 0o755, uid: 0, gid: 0}],
      ['bin', {type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkTarget: 'usr/bin'}],
      ['dev/null', {type: 'char', mode: 0o666, uid: 0, gid: 0, devMajor: 1, devMinor: 3}],
      ['run/initctl', {type: 'fifo', mode: 0o600, uid: 0, gid: 0}],
    ])
    const lines = debugfsCommands(manifest, 7).trimEnd().split('\n')
    const times = (p: string) => ['atime', 'mtime', 'ctime', 'crtime'].map((f) => `set_inode_field "/${p}" ${f} @7`)
    expect(lines).toEqual([
      'set_inode_field "/" mode 040755', 'set_inode_field "/" uid 0', 'set_inode_field "/" gid 0', ...times(''),
      'set_inode_field "/bin" mode 0120777', 'set_inode_field "/bin" uid 0', 'set_inode_field "/bin" gid 0', ...times('bin'),
      'cd "/dev"', 'mknod "null" c 1 3', 'cd /',
      'set_inode_field "/dev/null" mode 020666', 'set_inode_field "/dev/null" uid 0', 'set_inode_field "/dev/null" gid 0', ...times('dev/null'),
      'set_inode_field "/etc/shadow" mode 0100640', 'set_inode_field "/etc/shadow" uid 0', 'set_inode_field "/etc/shadow" gid 42', ...times('etc/shadow'),
      'cd "/run"', 'mknod "initctl" p', 'cd /',
      'set_inode_field "/run/initctl" mode 010600', 'set_inode_field "/run/initctl" uid 0', 'set_inode_field "/run/initctl" gid 0', ...times('run/initctl'),
    ])
  })

  it('quotes paths and refuses what debugfs cannot parse', () => {
    expect(debugfsPath('etc/a b\\c')).toBe('"/etc/a b\\c"')
    expect(() => debugfsPath('etc/say "hi"')).toThrow(/double quote/)
  })
})
