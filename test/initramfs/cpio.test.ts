import {describe, expect, it} from 'vitest'
import {encodeNewcHeader, pad4, planCpio, trailer} from '../../src/initramfs/cpio.js'
import type {TreeEntry} from '../../src/rootfs/tree.js'

const base = {uid: 0, gid: 0, owner: 'test'}

function manifest(list: TreeEntry[]): {sorted: TreeEntry[]; entries: Map<string, TreeEntry>} {
  const entries = new Map(list.map((e) => [e.path, e]))
  return {sorted: [...list].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))), entries}
}

describe('encodeNewcHeader', () => {
  it('writes the 110-byte SVR4 header, the NUL-terminated name and pads the pair to 4 bytes', () => {
    const h = encodeNewcHeader({ino: 1, mode: 0o100755, uid: 500, gid: 27, nlink: 1, mtime: 1700000000, fileSize: 5, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, name: 'init'})
    // Written out from the format description (magic 070701, 13 fields of 8 hex digits, namesize counts the NUL).
    const expected =
      '070701' + '00000001' + '000081ed' + '000001f4' + '0000001b' + '00000001' + '6553f100' + '00000005' +
      '00000000' + '00000000' + '00000000' + '00000000' + '00000005' + '00000000' + 'init\0'
    expect(h.subarray(0, 115).toString('latin1')).toBe(expected)
    // 110 + 5 = 115 → one byte of padding
    expect(h.length).toBe(116)
    expect(h[115]).toBe(0)
  })

  it('needs no padding when header and name already end on a 4-byte boundary', () => {
    // 110 + 'ab\0' (3) = 113 → 3 bytes of padding; 110 + 'abcdef\0' (7) = 117 → 3; 110 + 'a\0' = 112 → 0
    expect(encodeNewcHeader({ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, fileSize: 0, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, name: 'a'}).length).toBe(112)
    expect(encodeNewcHeader({ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, fileSize: 0, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, name: 'ab'}).length).toBe(116)
  })

  it('rejects values that do not fit 8 hex digits', () => {
    expect(() => encodeNewcHeader({ino: 0, mode: 0, uid: 2 ** 32, gid: 0, nlink: 1, mtime: 0, fileSize: 0, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, name: 'x'})).toThrow(/uid/)
  })

  it('ends the archive with TRAILER!!! and nlink 1', () => {
    const t = trailer().toString('latin1')
    expect(t.startsWith('070701')).toBe(true)
    expect(t.slice(6 + 4 * 8, 6 + 5 * 8)).toBe('00000001')
    expect(t).toContain('TRAILER!!!\0')
    expect(trailer().length % 4).toBe(0)
  })

  it('pad4', () => {
    expect([0, 1, 2, 3, 4, 5].map(pad4)).toEqual([0, 3, 2, 1, 0, 3])
  })
})

describe('planCpio', () => {
  const tree = manifest([
    {path: '', type: 'dir', mode: 0o755, ...base},
    {path: 'usr', type: 'dir', mode: 0o755, ...base},
    {path: 'usr/bin', type: 'dir', mode: 0o755, ...base},
    {path: 'usr/bin/b', type: 'hardlink', mode: 0o4755, linkTarget: 'usr/bin/z', ...base},
    {path: 'usr/bin/z', type: 'file', mode: 0o4755, uid: 0, gid: 5, owner: 'test'},
    {path: 'usr/bin/y', type: 'hardlink', mode: 0o4755, linkTarget: 'usr/bin/z', ...base},
    {path: 'bin', type: 'symlink', mode: 0o777, linkTarget: 'usr/bin', ...base},
    {path: 'dev', type: 'dir', mode: 0o755, ...base},
    {path: 'dev/console', type: 'char', mode: 0o600, devMajor: 5, devMinor: 1, ...base},
    {path: 'run', type: 'dir', mode: 0o1777, uid: 0, gid: 0, owner: 'test'},
  ])
  const plan = planCpio(tree.sorted, tree.entries)

  it('lists entries in byte order of their paths and leaves out the root', () => {
    expect(plan.map((p) => p.header.name)).toEqual(['bin', 'dev', 'dev/console', 'run', 'usr', 'usr/bin', 'usr/bin/b', 'usr/bin/y', 'usr/bin/z'])
  })

  it('gives the members of a hard-link group one inode, their count as nlink, and the data to the first only', () => {
    const group = plan.filter((p) => p.header.name.startsWith('usr/bin/'))
    expect(new Set(group.map((p) => p.header.ino)).size).toBe(1)
    expect(group.map((p) => p.header.nlink)).toEqual([3, 3, 3])
    expect(group.map((p) => p.content)).toEqual(['usr/bin/z', undefined, undefined])
    // metadata of the original file (gid 5, setuid), type bits of a regular file
    expect(group.every((p) => p.header.mode === 0o104755 && p.header.gid === 5)).toBe(true)
  })

  it('encodes type bits, symlink text and device numbers', () => {
    const by = new Map(plan.map((p) => [p.header.name, p]))
    expect(by.get('bin')).toMatchObject({header: {mode: 0o120777}, linkText: 'usr/bin'})
    expect(by.get('dev/console')!.header).toMatchObject({mode: 0o020600, rdevMajor: 5, rdevMinor: 1})
    expect(by.get('run')!.header.mode).toBe(0o041777)
  })

  it('numbers inodes in order, so the same tree gives the same archive', () => {
    const inos = plan.map((p) => p.header.ino)
    expect(inos).toEqual([1, 2, 3, 4, 5, 6, 7, 7, 7])
    expect(planCpio(tree.sorted, tree.entries)).toEqual(plan)
  })
})
