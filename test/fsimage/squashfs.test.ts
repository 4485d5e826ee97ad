import {describe, expect, it} from 'vitest'
import {escapePseudoPath, planSquashfs, squashfsPseudoDefinitions} from '../../src/fsimage/squashfs.js'
import type {ImageManifest} from '../../src/fsimage/subtree.js'

describe('squashfs pseudo definitions', () => {
  it('escapes ASCII punctuation and spaces, leaves UTF-8 and path characters alone', () => {
    expect(escapePseudoPath('lib/systemd/system/system-systemd\\x2dcryptsetup.slice')).toBe('lib/systemd/system/system-systemd\\\\x2dcryptsetup.slice')
    expect(escapePseudoPath('bin/[')).toBe('bin/\\[')
    expect(escapePseudoPath('share/a b')).toBe('share/a\\ b')
    expect(escapePseudoPath('share/ca/Főtanúsítvány.crt')).toBe('share/ca/Főtanúsítvány.crt')
    expect(escapePseudoPath('lib/x86_64-linux-gnu/libc.so.6')).toBe('lib/x86_64-linux-gnu/libc.so.6')
    expect(() => escapePseudoPath('bad\nname')).toThrow(/line break/)
  })

  it('gives one modify line per entry but the root, in byte order, with octal modes and numeric ids', () => {
    const manifest: ImageManifest = new Map([
      ['', {type: 'dir', mode: 0o755, uid: 0, gid: 0}],
      ['bin/sudo', {type: 'file', mode: 0o4755, uid: 0, gid: 0}],
      ['bin', {type: 'dir', mode: 0o755, uid: 0, gid: 0}],
      ['bin/ssh-agent', {type: 'file', mode: 0o2755, uid: 0, gid: 101}],
      ['Z', {type: 'file', mode: 0o600, uid: 500, gid: 500}],
    ])
    expect(squashfsPseudoDefinitions(manifest)).toBe('Z m 0600 500 500\nbin m 0755 0 0\nbin/ssh-agent m 2755 0 101\nbin/sudo m 4755 0 0\n')
  })

  it('refuses device nodes, which a source directory cannot hold rootless', () => {
    const manifest: ImageManifest = new Map([['', {type: 'dir', mode: 0o755, uid: 0, gid: 0}], ['null', {type: 'char', mode: 0o666, uid: 0, gid: 0}]])
    expect(() => squashfsPseudoDefinitions(manifest)).toThrow(/device nodes and fifos are not supported: \/null/)
  })
})

describe('planSquashfs', () => {
  it('pins every time with -all-time/-mkfs-time (SOURCE_DATE_EPOCH unset: it only clamps) and takes owners from the pseudo file', () => {
    const inv = planSquashfs({source: '/s', output: '/o.sqfs', pseudoFile: '/p', compression: {algorithm: 'zstd', level: 19}, epoch: 42, root: {mode: 0o755, uid: 0, gid: 0}})
    expect(inv).toEqual({
      tool: 'mksquashfs',
      args: ['/s', '/o.sqfs', '-noappend', '-comp', 'zstd', '-Xcompression-level', '19', '-reproducible', '-all-time', '42', '-mkfs-time', '42', '-no-xattrs', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', '-pf', '/p', '-quiet', '-no-progress'],
      env: {SOURCE_DATE_EPOCH: undefined},
    })
  })
})
