import {spawnSync} from 'node:child_process'
import {closeSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cacheFrom} from '../../src/cli/flags.js'
import {run} from '../../src/exec/run.js'
import {makeRootImage} from '../../src/fsimage/root.js'
import {imageManifest} from '../../src/fsimage/subtree.js'
import {makeUsrImage} from '../../src/fsimage/usr.js'
import type {ImageResult} from '../../src/fsimage/output.js'
import {ensureLock} from '../../src/packages/lock-recipe.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {buildRootfs} from '../../src/rootfs/build.js'
import {repoRoot} from '../helpers/cli.js'

// The real recipes/base.yaml tree (warm package cache): its /usr as erofs lz4 and its ROOT as ext4, checked
// against the tree's own /etc/group (group ids are allocated by the build, so the image must agree with it).
let work: string
let usr: ImageResult
let root: ImageResult
let groups: Map<string, number>
/** /usr as the manifest describes it: path → 'type mode uid:gid [target]'. */
let usrManifest: Map<string, string>

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'keel-fsimage-base-'))
  copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
  const {recipe} = loadRecipe(join(work, 'base.yaml'))
  const cache = cacheFrom({})
  const {lock} = await ensureLock(recipe, {cache})
  await buildRootfs({
    recipe,
    lock,
    cache,
    onTree: async (tree, epoch) => {
      groups = new Map(readFileSync(tree.hostPath('etc/group'), 'utf8').trim().split('\n').map((l) => l.split(':')).map((f) => [f[0]!, Number(f[2])]))
      usrManifest = new Map([...imageManifest(tree, 'usr')].map(([p, m]) => [p, describe_(m.type, m.type === 'symlink' ? 0o777 : m.mode, m.uid, m.gid, m.linkTarget)]))
      usr = await makeUsrImage(tree, {output: join(work, 'usr.erofs'), seed: 'base', epoch})
      root = await makeRootImage(tree, {output: join(work, 'root.img'), sizeBytes: 256 * 2 ** 20, seed: 'base', epoch})
    },
  })
  console.log(`base: /usr erofs lz4 ${(usr.size / 2 ** 20).toFixed(1)} MiB in ${usr.durationMs} ms; ROOT 256 MiB in ${root.durationMs} ms`)
}, 600_000)
afterAll(() => rmSync(work, {recursive: true, force: true}))

function describe_(type: string, mode: number, uid: number, gid: number, target?: string): string {
  return `${type} ${mode.toString(8)} ${uid}:${gid}${target === undefined ? '' : ` -> ${target}`}`
}

function walkMounted(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const visit = (rel: string): void => {
    const abs = rel === '' ? root : join(root, rel)
    const st = lstatSync(abs)
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other'
    out.set(rel, describe_(type, st.mode & 0o7777, st.uid, st.gid, type === 'symlink' ? readlinkSync(abs) : undefined))
    if (type === 'dir') for (const name of readdirSync(abs)) visit(rel === '' ? name : `${rel}/${name}`)
  }
  visit('')
  return out
}

async function erofsInode(path: string): Promise<{uid: number; gid: number; mode: number}> {
  const r = await run('dump.erofs', [`--path=${path}`, usr.path])
  const m = /NID: (\d+)[\s\S]*Uid: (\d+)\s+Gid: (\d+)/.exec(r.stdout)!
  // dump.erofs 1.5 prints mode & 0777; the raw i_mode (inodes start at block 0) shows setuid/setgid.
  const raw = Buffer.alloc(2)
  const fd = openSync(usr.path, 'r')
  try {
    readSync(fd, raw, 0, 2, Number(m[1]) * 32 + 4)
  } finally {
    closeSync(fd)
  }
  return {uid: Number(m[2]), gid: Number(m[3]), mode: raw.readUInt16LE(0)}
}

describe('images of recipes/base.yaml', () => {
  it('/usr (erofs lz4): clean, setuid sudo, ssh-agent setgid to the tree\'s _ssh group', async () => {
    expect((await run('fsck.erofs', [usr.path])).stderr).toBe('')
    expect(await erofsInode('/bin/sudo')).toEqual({uid: 0, gid: 0, mode: 0o104755})
    expect(groups.get('_ssh')).toBeGreaterThan(0)
    expect(await erofsInode('/bin/ssh-agent')).toEqual({uid: 0, gid: groups.get('_ssh'), mode: 0o102755})
    expect(usr.size).toBeLessThan(300 * 2 ** 20)
  })

  it('/usr as the kernel mounts it (root with loop devices): every inode as the manifest says', async (ctx) => {
    const at = join(work, 'mnt')
    mkdirSync(at)
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'erofs', '-o', 'loop,ro', usr.path, at]).status !== 0) ctx.skip()
    try {
      const seen = walkMounted(at)
      expect(seen.size).toBe(usrManifest.size)
      expect(seen).toEqual(usrManifest)
    } finally {
      spawnSync('umount', [at])
    }
  })

  it('ROOT (ext4): clean, /etc/shadow 0640 root:shadow, merged-/usr symlinks, /usr an empty mount point', async () => {
    await run('e2fsck', ['-fn', root.path])
    const shadow = (await run('debugfs', ['-R', 'stat /etc/shadow', root.path])).stdout
    expect(shadow).toMatch(/Mode:\s+0640/)
    expect(shadow).toMatch(new RegExp(`User:\\s+0\\s+Group:\\s+${groups.get('shadow')}\\s`))
    expect(groups.get('shadow')).toBe(42)
    expect((await run('debugfs', ['-R', 'stat /bin', root.path])).stdout).toMatch(/Type: symlink[\s\S]*Fast link dest: "usr\/bin"/)
    expect((await run('debugfs', ['-R', 'ls -p /usr', root.path])).stdout.trim().split('\n')).toHaveLength(2)
    expect((await run('debugfs', ['-R', 'ls -p /boot', root.path])).stdout.trim().split('\n')).toHaveLength(2)
  })
})
