import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {derivedFsUuid} from '../../src/fsimage/output.js'
import {makeOemImage, makeRootImage} from '../../src/fsimage/root.js'
import type {RootTree} from '../../src/rootfs/tree.js'
import {SYNTHETIC_EPOCH, syntheticTree} from './synthetic-tree.js'

// Oracles: e2fsck -fn (the filesystem is clean) and debugfs (what the kernel would see per inode).
const MiB = 1024 * 1024
let work: string
let tree: RootTree
let reversed: RootTree
const seed = 'root-test-seed'

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keel-fsimage-root-'))
  tree = syntheticTree(join(work, 'tree'))
  reversed = syntheticTree(mkdtempSync('/dev/shm/keel-fsimage-rev-'), {reverse: true})
  // Staging times must not matter either: age the reversed tree's files well before the epoch.
  for (const e of reversed.sorted()) if (e.type === 'file' || e.type === 'dir') utimesSync(reversed.hostPath(e.path), 1_000_000_000.5, 1_000_000_000.5)
})
afterAll(() => {
  rmSync(work, {recursive: true, force: true})
  rmSync(reversed.dir, {recursive: true, force: true})
})

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

async function stat(image: string, path: string): Promise<string> {
  return (await run('debugfs', ['-R', `stat "${path}"`, image])).stdout
}

async function e2fsckClean(image: string): Promise<string> {
  const r = await run('e2fsck', ['-fn', image])
  return r.stdout
}

describe('ROOT ext4 image', () => {
  let image: string

  it('is clean, labelled ROOT, with the derived UUID and the manifest owners, modes and times', async () => {
    image = join(work, 'root.img')
    const r = await makeRootImage(tree, {output: image, sizeBytes: 64 * MiB, seed, epoch: SYNTHETIC_EPOCH})
    expect(r).toMatchObject({filesystem: 'ext4', label: 'ROOT', uuid: derivedFsUuid(seed, 'root'), size: 64 * MiB, sha256: sha256(image)})
    expect(r.tools).toMatchObject({mke2fs: expect.stringMatching(/^mke2fs 1\./), debugfs: expect.stringMatching(/^debugfs 1\./)})
    expect(await e2fsckClean(image)).toMatch(/^ROOT: \d+\/\d+ files/m)
    const sb = (await run('debugfs', ['-R', 'stats', image])).stdout
    expect(sb).toMatch(/Filesystem volume name:\s+ROOT\n/)
    expect(sb).toContain(`Filesystem UUID:          ${derivedFsUuid(seed, 'root')}`)
    expect(sb).toContain(`Directory Hash Seed:      ${derivedFsUuid(seed, 'root/hash-seed')}`)
    expect(sb).toMatch(/Filesystem features:.*resize_inode/)

    const shadow = await stat(image, '/etc/shadow')
    expect(shadow).toMatch(/Type: regular\s+Mode:\s+0640/)
    expect(shadow).toMatch(/User:\s+0\s+Group:\s+42\s/)
    for (const field of ['ctime', 'atime', 'mtime', 'crtime']) expect(shadow).toMatch(new RegExp(`${field}: 0x6553f100:00000000`))
    expect(await stat(image, '/home/core')).toMatch(/Type: directory\s+Mode:\s+0700[\s\S]*User:\s+500\s+Group:\s+500\s/)
    expect(await stat(image, '/var/log/journal')).toMatch(/Mode:\s+02755[\s\S]*Group:\s+999\s/)
    expect(await stat(image, '/tmp')).toMatch(/Mode:\s+01777/)
    expect(await stat(image, '/dev/null')).toMatch(/Type: character special\s+Mode:\s+0666[\s\S]*Device major\/minor number: 01:03/)
    const original = await stat(image, '/var/lib/z-original')
    const link = await stat(image, '/var/lib/a-link')
    expect(original).toMatch(/Mode:\s+0640[\s\S]*Group:\s+4\s[\s\S]*Links: 2 /)
    expect(/^Inode: (\d+)/.exec(link)![1]).toBe(/^Inode: (\d+)/.exec(original)![1])
    expect(await stat(image, '/bin')).toMatch(/Type: symlink[\s\S]*Fast link dest: "usr\/bin"/)
  })

  it('holds / without the contents of /usr, with every mount point', async () => {
    const listing = (await run('debugfs', ['-R', 'ls -p /', image])).stdout
    const names = listing.split('\n').filter(Boolean).map((l) => l.split('/')[5])
    expect(names).toEqual(expect.arrayContaining(['bin', 'lib', 'etc', 'home', 'var', 'usr', 'proc', 'sys', 'dev', 'run', 'tmp', 'boot', 'root', 'lost+found']))
    const usr = (await run('debugfs', ['-R', 'ls -p /usr', image])).stdout.split('\n').filter(Boolean).map((l) => l.split('/')[5])
    expect(usr.sort()).toEqual(['.', '..'])
    // The kernel belongs to the ESP; /boot stays as an empty mount point.
    const boot = (await run('debugfs', ['-R', 'ls -p /boot', image])).stdout.split('\n').filter(Boolean).map((l) => l.split('/')[5])
    expect(boot.sort()).toEqual(['.', '..'])
    expect(await stat(image, '/proc')).toMatch(/Mode:\s+0555/)
    const passwd = (await run('debugfs', ['-R', 'cat /etc/passwd', image])).stdout
    expect(passwd).toBe('root:x:0:0:root:/root:/bin/bash\n')
  })

  it('gives the same bytes for the same tree, whatever order its files were created in, and at another time', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const b = await makeRootImage(reversed, {output: join(work, 'root-b.img'), sizeBytes: 64 * MiB, seed, epoch: SYNTHETIC_EPOCH})
    expect(b.sha256).toBe(sha256(image))
  })
})

describe('OEM ext4 image', () => {
  it('is an empty clean filesystem labelled OEM by default', async () => {
    const out = join(work, 'oem-empty.img')
    const r = await makeOemImage({output: out, sizeBytes: 16 * MiB, seed, epoch: SYNTHETIC_EPOCH})
    expect(r).toMatchObject({label: 'OEM', uuid: derivedFsUuid(seed, 'oem'), entries: 0})
    expect(await e2fsckClean(out)).toMatch(/^OEM: 11\/\d+ files/m)
    const again = await makeOemImage({output: join(work, 'oem-empty-2.img'), sizeBytes: 16 * MiB, seed, epoch: SYNTHETIC_EPOCH})
    expect(again.sha256).toBe(r.sha256)
  })

  it('holds the given files with their modes', async () => {
    const host = join(work, 'grub.cfg')
    writeFileSync(host, 'set oem_id=qemu\n')
    const out = join(work, 'oem.img')
    await makeOemImage({
      output: out,
      sizeBytes: 16 * MiB,
      seed,
      epoch: SYNTHETIC_EPOCH,
      files: {'grub.cfg': {hostPath: host}, 'bin/setup': {content: '#!/bin/sh\n', mode: 0o750, gid: 10}},
    })
    await e2fsckClean(out)
    expect((await run('debugfs', ['-R', 'cat /grub.cfg', out])).stdout).toBe('set oem_id=qemu\n')
    expect(await stat(out, '/bin/setup')).toMatch(/Mode:\s+0750[\s\S]*User:\s+0\s+Group:\s+10\s/)
  })

  it('carries owner ids beyond 16 bits', async () => {
    const out = join(work, 'oem-big.img')
    await makeOemImage({output: out, sizeBytes: 16 * MiB, seed, epoch: SYNTHETIC_EPOCH, files: {'big': {content: 'x', uid: 70_000, gid: 100_000}}})
    await e2fsckClean(out)
    expect(await stat(out, '/big')).toMatch(/User:\s+70000\s+Group:\s+100000\s/)
  })
})
