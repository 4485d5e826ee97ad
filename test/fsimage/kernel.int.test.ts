import {spawnSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {makeRootImage} from '../../src/fsimage/root.js'
import {type ImageManifest, imageManifest} from '../../src/fsimage/subtree.js'
import {makeUsrImage} from '../../src/fsimage/usr.js'
import type {RootTree} from '../../src/rootfs/tree.js'
import {SYNTHETIC_EPOCH, syntheticTree} from './synthetic-tree.js'

// The final oracle: the Linux kernel's own erofs, squashfs and ext4 drivers. Where the test runs as root with
// loop devices and those filesystems (as here and in CI), each image is mounted read-only and every inode's
// type, permission bits, owner, link target and content is compared with the manifest. Elsewhere the tests
// say they were skipped; keel itself never mounts anything.
let work: string
let tree: RootTree
let kernelCanMount = false

function mount(image: string, fstype: string, at: string): boolean {
  mkdirSync(at, {recursive: true})
  return spawnSync('mount', ['-t', fstype, '-o', 'loop,ro', image, at], {encoding: 'utf8'}).status === 0
}
function umount(at: string): void {
  spawnSync('umount', [at])
}

interface Seen {
  type: string
  mode: number
  uid: number
  gid: number
  linkTarget?: string
  content?: string
  rdev?: number
}

function walk(root: string): Map<string, Seen> {
  const out = new Map<string, Seen>()
  const visit = (rel: string): void => {
    const abs = rel === '' ? root : join(root, rel)
    const st = lstatSync(abs)
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isCharacterDevice() ? 'char' : st.isFIFO() ? 'fifo' : 'other'
    const seen: Seen = {type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid}
    if (type === 'symlink') seen.linkTarget = readlinkSync(abs)
    if (type === 'file') seen.content = readFileSync(abs, 'latin1')
    if (type === 'char') seen.rdev = st.rdev
    out.set(rel, seen)
    if (type === 'dir') for (const name of readdirSync(abs)) visit(rel === '' ? name : `${rel}/${name}`)
  }
  visit('')
  return out
}

/** What the manifest says the mounted filesystem must show. */
function expected(manifest: ImageManifest): Map<string, Seen> {
  const out = new Map<string, Seen>()
  for (const [path, m] of manifest) {
    const seen: Seen = {type: m.type, mode: m.type === 'symlink' ? 0o777 : m.mode, uid: m.uid, gid: m.gid}
    if (m.type === 'symlink') seen.linkTarget = m.linkTarget
    if (m.type === 'file') seen.content = readFileSync(tree.hostPath(m.treePath!), 'latin1')
    if (m.type === 'char') seen.rdev = (m.devMajor! << 8) | m.devMinor!
    out.set(path, seen)
  }
  return out
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keel-fsimage-kernel-'))
  tree = syntheticTree(join(work, 'tree'))
  const probe = join(work, 'probe.erofs')
  await makeUsrImage(tree, {output: probe, seed: 'kernel', epoch: SYNTHETIC_EPOCH})
  if (process.getuid?.() === 0 && existsSync('/dev/loop-control') && mount(probe, 'erofs', join(work, 'probe'))) {
    kernelCanMount = true
    umount(join(work, 'probe'))
  }
})
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('images as the kernel reads them', () => {
  for (const filesystem of ['erofs', 'squashfs'] as const) {
    it(`/usr ${filesystem}: every inode matches the manifest`, async (ctx) => {
      if (!kernelCanMount) ctx.skip()
      const image = join(work, `usr.${filesystem}`)
      await makeUsrImage(tree, {output: image, seed: 'kernel', epoch: SYNTHETIC_EPOCH, filesystem})
      const at = join(work, `mnt-${filesystem}`)
      expect(mount(image, filesystem, at)).toBe(true)
      try {
        expect(walk(at)).toEqual(expected(imageManifest(tree, 'usr')))
        expect(lstatSync(join(at, 'bin/sudo')).mtimeMs).toBe(SYNTHETIC_EPOCH * 1000)
      } finally {
        umount(at)
      }
    })
  }

  it('ROOT ext4: every inode matches the manifest, plus lost+found and the added mount points', async (ctx) => {
    if (!kernelCanMount) ctx.skip()
    const image = join(work, 'root.img')
    await makeRootImage(tree, {output: image, sizeBytes: 32 * 2 ** 20, seed: 'kernel', epoch: SYNTHETIC_EPOCH})
    const at = join(work, 'mnt-root')
    expect(mount(image, 'ext4', at)).toBe(true)
    try {
      const seen = walk(at)
      expect(seen.get('lost+found')).toMatchObject({type: 'dir', mode: 0o700, uid: 0, gid: 0})
      seen.delete('lost+found')
      const want = expected(imageManifest(tree, '', (e) => !e.path.startsWith('usr/') && !e.path.startsWith('boot/')))
      for (const [path, mode] of [['proc', 0o555], ['sys', 0o555], ['run', 0o755], ['boot', 0o755]] as const) {
        if (!want.has(path)) want.set(path, {type: 'dir', mode, uid: 0, gid: 0})
      }
      expect(seen).toEqual(want)
    } finally {
      umount(at)
    }
  })
})
