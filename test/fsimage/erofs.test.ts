import {describe, expect, it} from 'vitest'
import type {ErofsInode} from '../../src/fsimage/erofs-layout.js'
import {planErofs, planErofsStamp} from '../../src/fsimage/erofs.js'
import type {ImageManifest} from '../../src/fsimage/subtree.js'

const base = {source: '/s/usr', output: '/o/usr.erofs', uuid: '01234567-89ab-4def-8123-456789abcdef', epoch: 1_700_000_000}

describe('planErofs', () => {
  it('pins times, UUID, owners (root, stamped later) and drops host xattrs', () => {
    expect(planErofs({...base, compression: {algorithm: 'lz4'}})).toEqual({
      tool: 'mkfs.erofs',
      args: ['-zlz4', '-T1700000000', `-U${base.uuid}`, '--all-root', '-x-1', '-Eztailpacking', '/o/usr.erofs', '/s/usr'],
      env: {SOURCE_DATE_EPOCH: undefined},
    })
  })

  it('passes the lz4hc level, omits -z for none, and forces 64-byte inodes when asked', () => {
    expect(planErofs({...base, compression: {algorithm: 'lz4hc', level: 12}}).args[0]).toBe('-zlz4hc,12')
    expect(planErofs({...base, compression: {algorithm: 'none'}}).args[0]).toBe('-T1700000000')
    expect(planErofs({...base, compression: {algorithm: 'lz4'}, extendedInodes: true}).args).toContain('-Eforce-inode-extended,ztailpacking')
  })

  it('packs compressed tails inline (kernel 5.17+), and only when compressing', () => {
    expect(planErofs({...base, compression: {algorithm: 'lz4hc', level: 9}}).args).toContain('-Eztailpacking')
    expect(planErofs({...base, compression: {algorithm: 'none'}}).args.filter((a) => a.startsWith('-E'))).toEqual([])
    expect(planErofs({...base, compression: {algorithm: 'none'}, extendedInodes: true}).args).toContain('-Eforce-inode-extended')
  })
})

function inode(nid: number, mode: number): ErofsInode {
  return {nid, offset: nid * 32, extended: false, layout: 'flat-inline', mode, uid: 0, gid: 0, nlink: 1, size: 0, rawBlkaddr: 0, inlineDataOffset: 32}
}

describe('planErofsStamp', () => {
  const manifest: ImageManifest = new Map([
    ['', {type: 'dir', mode: 0o755, uid: 0, gid: 0}],
    ['bin/sudo', {type: 'file', mode: 0o4755, uid: 0, gid: 0}],
    ['bin/sudoedit', {type: 'file', mode: 0o4755, uid: 0, gid: 0, linkOf: 'bin/sudo'}],
    ['bin', {type: 'dir', mode: 0o755, uid: 0, gid: 0}],
  ])

  it('writes only inodes that differ, once per shared inode', () => {
    const inodes = new Map([
      ['', inode(1, 0o040755)],
      ['bin', inode(2, 0o040755)],
      ['bin/sudo', inode(3, 0o100755)],
      ['bin/sudoedit', inode(3, 0o100755)],
    ])
    const plan = planErofsStamp(inodes, manifest)
    expect(plan.patchedInodes).toBe(1)
    expect(plan.writes.map((w) => w.offset)).toEqual([3 * 32 + 4, 3 * 32 + 24])
  })

  it('stops when the image and the manifest disagree about which paths exist', () => {
    const inodes = new Map([['', inode(1, 0o040755)], ['bin', inode(2, 0o040755)], ['bin/sudo', inode(3, 0o100755)], ['stray', inode(4, 0o100644)]])
    expect(() => planErofsStamp(inodes, manifest)).toThrow(/the erofs image and the manifest disagree; not in the erofs image: \/bin\/sudoedit; not in the manifest: \/stray/)
  })

  it('refuses two names of one inode with different metadata', () => {
    const m: ImageManifest = new Map([...manifest, ['bin/sudoedit', {type: 'file', mode: 0o755, uid: 0, gid: 0}]])
    const inodes = new Map([['', inode(1, 0o040755)], ['bin', inode(2, 0o040755)], ['bin/sudo', inode(3, 0o100755)], ['bin/sudoedit', inode(3, 0o100755)]])
    expect(() => planErofsStamp(inodes, m)).toThrow(/share an inode but the manifest gives them different owners or modes/)
  })
})
