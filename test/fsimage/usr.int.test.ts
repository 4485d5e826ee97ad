import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {derivedFsUuid} from '../../src/fsimage/output.js'
import {makeUsrImage} from '../../src/fsimage/usr.js'
import type {RootTree} from '../../src/rootfs/tree.js'
import {SYNTHETIC_EPOCH, syntheticTree} from './synthetic-tree.js'

// Oracles: erofs-utils' own dump.erofs / fsck.erofs and squashfs-tools' unsquashfs read the images keel
// made; owners and permission bits must be the manifest's, although every staged file belongs to the runner
// with mode 0644/0755.
let work: string
let tree: RootTree
let reversed: RootTree
const seed = 'usr-test-seed'

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keel-fsimage-usr-'))
  tree = syntheticTree(join(work, 'tree'))
  // On tmpfs, directory order follows creation order: the reversed tree lists its files the other way round.
  reversed = syntheticTree(mkdtempSync('/dev/shm/keel-fsimage-rev-'), {reverse: true})
})
afterAll(() => {
  rmSync(work, {recursive: true, force: true})
  rmSync(reversed.dir, {recursive: true, force: true})
})

/** fsck.erofs 1.5 exits 0 even on a bad superblock checksum, printing "<E>" lines: both must be clean. */
async function fsckErofs(image: string): Promise<string> {
  const r = await run('fsck.erofs', [image])
  return r.stderr
}

const SPECIAL = new Set(['char', 'block', 'fifo'])
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

/** dump.erofs's view of one path: uid, gid, permission bits (it prints mode & 0777) and the inode number. */
async function dumpErofs(image: string, path: string): Promise<{uid: number; gid: number; access: string; nid: number}> {
  const r = await run('dump.erofs', [`--path=${path}`, image])
  const m = /NID: (\d+)[\s\S]*Uid: (\d+)\s+Gid: (\d+)\s+Access: (\d+)/.exec(r.stdout)
  if (!m) throw new Error(`unexpected dump.erofs output:\n${r.stdout}`)
  return {nid: Number(m[1]), uid: Number(m[2]), gid: Number(m[3]), access: m[4]!}
}

/** The raw i_mode of inode `nid` (offset nid*32 from block 0, where mkfs.erofs puts inodes): dump.erofs 1.5 hides setuid/setgid bits. */
function rawErofsMode(image: string, nid: number): number {
  const fd = openSync(image, 'r')
  try {
    const buf = Buffer.alloc(2)
    readSync(fd, buf, 0, 2, nid * 32 + 4)
    return buf.readUInt16LE(0)
  } finally {
    closeSync(fd)
  }
}

describe('erofs /usr image', () => {
  for (const compression of ['lz4', 'lz4hc,9']) {
    it(`${compression}: passes fsck.erofs and carries the manifest's owners and modes`, async () => {
      const out = join(work, `usr-${compression}.erofs`)
      const r = await makeUsrImage(tree, {output: out, seed, epoch: SYNTHETIC_EPOCH, compression})
      expect(r).toMatchObject({filesystem: 'erofs', compression, uuid: derivedFsUuid(seed, 'usr'), sha256: sha256(out)})
      expect(r.tools['mkfs.erofs']).toMatch(/^mkfs\.erofs \d/)
      expect(await fsckErofs(out)).toBe('')
      const superblock = await run('dump.erofs', ['-s', out])
      expect(superblock.stdout).toContain(derivedFsUuid(seed, 'usr'))
      expect(superblock.stdout).toContain('Filesystem created:                           Tue Nov 14 22:13:20 2023')
      const cases: Array<[string, number, number, number]> = [
        ['/bin/sudo', 0o104755, 0, 0],
        ['/bin/ssh-agent', 0o102755, 0, 101],
        ['/lib/dbus-1.0/dbus-daemon-launch-helper', 0o104754, 0, 998],
        ['/share/private/key', 0o100600, 500, 500],
        ['/bin/bash', 0o100755, 0, 0],
        ['/share/doc/a b\\x2d[c].txt', 0o100644, 0, 0],
        ['/share/ca/Főtanúsítvány.crt', 0o100644, 0, 0],
        ['/bin/sh', 0o120777, 0, 0],
        ['/', 0o040755, 0, 0],
      ]
      for (const [path, mode, uid, gid] of cases) {
        const seen = await dumpErofs(out, path)
        expect({path, uid: seen.uid, gid: seen.gid, access: seen.access}).toEqual({path, uid, gid, access: (mode & 0o777).toString(8).padStart(4, '0')})
        expect(rawErofsMode(out, seen.nid).toString(8), path).toBe(mode.toString(8))
      }
      // The hard link shares its original's inode.
      expect((await dumpErofs(out, '/bin/uncompress')).nid).toBe((await dumpErofs(out, '/bin/gunzip')).nid)
      // Content survives: extract as an ordinary check of every file.
      const extracted = join(work, `x-${compression}`)
      await run('fsck.erofs', [`--extract=${extracted}`, '--no-preserve', out])
      expect(readFileSync(join(extracted, 'bin/bash'), 'utf8')).toBe('#!bash\n'.repeat(500))
      expect(readFileSync(join(extracted, 'share/doc/a b\\x2d[c].txt'), 'utf8')).toBe('odd name\n')
    })
  }

  it('gives the same bytes for the same tree, whatever order its files were created in', async () => {
    const a = await makeUsrImage(tree, {output: join(work, 'same-a.erofs'), seed, epoch: SYNTHETIC_EPOCH})
    const b = await makeUsrImage(reversed, {output: join(work, 'same-b.erofs'), seed, epoch: SYNTHETIC_EPOCH})
    expect(b.sha256).toBe(a.sha256)
    const c = await makeUsrImage(tree, {output: join(work, 'same-c.erofs'), seed: 'another-seed', epoch: SYNTHETIC_EPOCH})
    expect(c.sha256).not.toBe(a.sha256)
  })

  it('ignores staging mtimes and a SOURCE_DATE_EPOCH in the environment: 32-byte inodes, all at the epoch', async () => {
    const ref = await makeUsrImage(tree, {output: join(work, 'env-ref.erofs'), seed, epoch: SYNTHETIC_EPOCH})
    const aged = syntheticTree(join(work, 'aged-tree'))
    for (const e of aged.sorted()) if (e.type !== 'symlink' && !SPECIAL.has(e.type)) utimesSync(aged.hostPath(e.path), 1_000_000_000.25, 1_000_000_000.25)
    const saved = process.env.SOURCE_DATE_EPOCH
    process.env.SOURCE_DATE_EPOCH = String(SYNTHETIC_EPOCH + 1)
    try {
      const r = await makeUsrImage(aged, {output: join(work, 'env-aged.erofs'), seed, epoch: SYNTHETIC_EPOCH})
      expect(r.sha256).toBe(ref.sha256)
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH
      else process.env.SOURCE_DATE_EPOCH = saved
    }
    const bash = (await run('dump.erofs', ['--path=/bin/bash', ref.path])).stdout
    expect(bash).toMatch(/Inode size: 32 /)
    expect(bash).toContain('Timestamp: 2023-11-14 22:13:20.000000000')
  })

  it('refuses a staging directory holding a file the manifest does not list (it would keep the build user as owner)', async () => {
    const stray = syntheticTree(join(work, 'stray-tree'))
    writeFileSync(stray.hostPath('usr/bin/stray'), 'not in the manifest\n')
    for (const filesystem of ['erofs', 'squashfs'] as const) {
      await expect(makeUsrImage(stray, {output: join(work, `stray.${filesystem}`), seed, epoch: SYNTHETIC_EPOCH, filesystem})).rejects.toThrow(/not in the manifest: \/bin\/stray/)
      expect(existsSync(join(work, `stray.${filesystem}`))).toBe(false)
    }
  })

  it('keeps a valid superblock checksum after stamping (fsck.erofs checks it: a flipped byte fails)', async () => {
    const out = join(work, 'csum.erofs')
    await makeUsrImage(tree, {output: out, seed, epoch: SYNTHETIC_EPOCH})
    expect(await fsckErofs(out)).toBe('')
    const bytes = readFileSync(out)
    bytes[1024 + 64] ^= 0xff // volume name, covered by the checksum, read by nothing else
    const broken = join(work, 'csum-broken.erofs')
    writeFileSync(broken, bytes)
    expect(await fsckErofs(broken)).toMatch(/superblock chksum doesn't match/)
  })

  it('uses 64-byte inodes when an owner id does not fit 16 bits', async () => {
    const big = syntheticTree(join(work, 'big-tree'), {bigIds: true})
    const out = join(work, 'big.erofs')
    await makeUsrImage(big, {output: out, seed, epoch: SYNTHETIC_EPOCH})
    expect(await fsckErofs(out)).toBe('')
    expect(await dumpErofs(out, '/share/private/key')).toMatchObject({uid: 70_000, gid: 70_001, access: '0600'})
  })
})

describe('squashfs /usr image', () => {
  for (const compression of ['zstd', 'xz', 'gzip,9', 'lz4']) {
    it(`${compression}: unsquashfs lists the manifest's owners and modes`, async () => {
      const out = join(work, `usr-${compression}.sqfs`)
      const r = await makeUsrImage(tree, {output: out, seed, epoch: SYNTHETIC_EPOCH, filesystem: 'squashfs', compression})
      expect(r).toMatchObject({filesystem: 'squashfs', compression, sha256: sha256(out)})
      expect(r.tools.mksquashfs).toMatch(/^mksquashfs version \d/)
      const listing = (await run('unsquashfs', ['-lln', out])).stdout
      const line = (path: string) => listing.split('\n').find((l) => l.endsWith(` squashfs-root${path}`))
      expect(line('/bin/sudo')).toMatch(/^-rwsr-xr-x 0\/0 .* 2023-11-14 22:13 /)
      expect(line('/bin/ssh-agent')).toMatch(/^-rwxr-sr-x 0\/101 /)
      expect(line('/lib/dbus-1.0/dbus-daemon-launch-helper')).toMatch(/^-rwsr-xr-- 0\/998 /)
      expect(line('/share/private/key')).toMatch(/^-rw------- 500\/500 /)
      expect(line('/share/doc/a b\\x2d[c].txt')).toMatch(/^-rw-r--r-- 0\/0 /)
      expect(line('/bin/sh -> bash')).toMatch(/^lrwxrwxrwx 0\/0 /)
      expect(line('')).toMatch(/^drwxr-xr-x 0\/0 /)
      const unsquash = await run('unsquashfs', ['-s', out])
      expect(unsquash.stdout).toContain(`Compression ${compression.split(',')[0]}`)
    })
  }

  it('ignores staging mtimes and the caller\'s SOURCE_DATE_EPOCH', async () => {
    const ref = await makeUsrImage(tree, {output: join(work, 'sq-env-ref.sqfs'), seed, epoch: SYNTHETIC_EPOCH, filesystem: 'squashfs'})
    const aged = syntheticTree(join(work, 'sq-aged-tree'))
    for (const e of aged.sorted()) if (e.type !== 'symlink' && !SPECIAL.has(e.type)) utimesSync(aged.hostPath(e.path), 1_000_000_000.25, 1_000_000_000.25)
    const saved = process.env.SOURCE_DATE_EPOCH
    process.env.SOURCE_DATE_EPOCH = String(SYNTHETIC_EPOCH + 1)
    try {
      const r = await makeUsrImage(aged, {output: join(work, 'sq-env-aged.sqfs'), seed, epoch: SYNTHETIC_EPOCH, filesystem: 'squashfs'})
      expect(r.sha256).toBe(ref.sha256)
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH
      else process.env.SOURCE_DATE_EPOCH = saved
    }
  })

  it('gives the same bytes for the same tree, whatever order its files were created in', async () => {
    const a = await makeUsrImage(tree, {output: join(work, 'sq-a.sqfs'), seed, epoch: SYNTHETIC_EPOCH, filesystem: 'squashfs'})
    const b = await makeUsrImage(reversed, {output: join(work, 'sq-b.sqfs'), seed, epoch: SYNTHETIC_EPOCH, filesystem: 'squashfs'})
    expect(b.sha256).toBe(a.sha256)
  })
})
