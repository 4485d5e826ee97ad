import {lstatSync, mkdirSync, readFileSync, readlinkSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {writeDirectory, writeTar} from '../../src/rootfs/tar.js'
import {RootTree} from '../../src/rootfs/tree.js'
import {unpackPackages} from '../../src/rootfs/unpack.js'
import {lockedPackage, makeDeb} from '../helpers/make-deb.js'

/** Oracle: GNU tar reads what writeTar wrote, and as root restores it with the manifest's metadata. */

const MTIME = 1_700_000_000 // 2023-11-14 22:13:20 UTC
const LONG_DIR = `usr/share/${'x'.repeat(70)}/${'y'.repeat(70)}`
const LONG_TARGET = `../${'z'.repeat(120)}`
const isRoot = process.getuid?.() === 0

let work: string
let debs: Array<{pkg: ReturnType<typeof lockedPackage>; path: string}>

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keel-tar-int-'))
  const a = await makeDeb(join(work, 'a.deb'), {
    name: 'pkg-a',
    compression: 'xz',
    entries: [
      {name: './', type: 'directory'},
      {name: './usr/', type: 'directory'},
      {name: './usr/bin/', type: 'directory'},
      {name: './usr/bin/zz-target', mode: 0o755, content: 'shared inode\n'},
      {name: './usr/bin/aa-link', type: 'link', linkname: './usr/bin/zz-target'},
      {name: './usr/bin/sudo', mode: 0o4755, content: 'setuid\n'},
      {name: './var/', type: 'directory'},
      {name: './var/lib/', type: 'directory'},
      {name: './var/lib/private/', type: 'directory', mode: 0o700, uid: 100, gid: 101},
      {name: './var/lib/private/data', mode: 0o640, uid: 100, gid: 101, content: 'secret'},
      {name: './dev/', type: 'directory'},
      {name: './dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3},
      {name: './dev/loop0', type: 'block-device', mode: 0o660, gid: 6, devmajor: 7, devminor: 0},
    ],
  })
  const b = await makeDeb(join(work, 'b.deb'), {
    name: 'pkg-b',
    entries: [
      {name: './', type: 'directory'},
      {name: `./${LONG_DIR}/`, type: 'directory'},
      {name: `./${LONG_DIR}/file-with-a-long-path.txt`, content: 'long\n'},
      {name: `./${LONG_DIR}/long-link`, type: 'symlink', linkname: LONG_TARGET},
      {name: './bin/', type: 'directory'},
      {name: './bin/sh', type: 'symlink', linkname: 'dash'},
      {name: './usr/lib/big.bin', content: Buffer.alloc(3 << 20, 0x5a)},
    ],
  })
  debs = [
    {pkg: lockedPackage('pkg-a'), path: a},
    {pkg: lockedPackage('pkg-b'), path: b},
  ]
})
afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

async function unpackInto(name: string, umask: number): Promise<RootTree> {
  const dir = join(work, name)
  mkdirSync(dir)
  const old = process.umask(umask)
  try {
    const tree = new RootTree(dir)
    await unpackPackages(tree, debs, {exclude: [], concurrency: 2})
    return tree
  } finally {
    process.umask(old)
  }
}

describe('writeTar with GNU tar as the oracle', () => {
  let tree: RootTree
  let tarPath: string

  beforeAll(async () => {
    tree = await unpackInto('stage-1', 0o022)
    tarPath = join(work, 'one.tar')
    await writeTar(tree, tarPath, {mtime: MTIME})
  })

  it('is byte-identical from two unpacks in different directories under different umasks', async () => {
    const first = await writeTar(tree, join(work, 'again.tar'), {mtime: MTIME})
    const other = await unpackInto('elsewhere-with-a-longer-name', 0o077)
    const second = await writeTar(other, join(work, 'two.tar'), {mtime: MTIME})
    expect(second.sha256).toBe(first.sha256)
    expect(second.size).toBe(first.size)
    const third = await writeTar(other, join(work, 'three.tar'), {mtime: MTIME + 1})
    expect(third.sha256).not.toBe(first.sha256)
  })

  it('lists every manifest entry with its type, mode, numeric owner and the one mtime', async () => {
    const {stdout} = await run('tar', ['--numeric-owner', '--full-time', '-tvf', tarPath])
    const lines = stdout.split('\n').filter(Boolean)
    const byName = new Map<string, string>()
    for (const line of lines) {
      const m = /^(\S{10}) (\d+)\/(\d+)\s+(?:\d+|\d+,\s*\d+) (\S+ \S+) (.*)$/.exec(line)
      expect(m, line).not.toBeNull()
      expect(m![4]).toBe('2023-11-14 22:13:20')
      byName.set(m![5]!.replace(/ (->|link to) .*$/, ''), line)
    }
    expect(lines.length).toBe(tree.entries.size)
    const line = (p: string) => byName.get(p) ?? `missing ${p}`
    expect(line('./usr/bin/sudo')).toMatch(/^-rwsr-xr-x 0\/0 /)
    expect(line('./var/lib/private/')).toMatch(/^drwx------ 100\/101 /)
    expect(line('./var/lib/private/data')).toMatch(/^-rw-r----- 100\/101 /)
    expect(line('./dev/null')).toMatch(/^crw-rw-rw- 0\/0\s+1,\s*3 /)
    expect(line('./dev/loop0')).toMatch(/^brw-rw---- 0\/6\s+7,\s*0 /)
    expect(line('./bin')).toMatch(/^lrwxrwxrwx 0\/0 .* -> usr\/bin$/)
    expect(line('./usr/bin/sh')).toMatch(/ -> dash$/)
    // the first of a hard-link group in path order carries the content, the other links to it
    expect(line('./usr/bin/aa-link')).toMatch(/^-rwxr-xr-x 0\/0\s+13 /)
    expect(line('./usr/bin/zz-target')).toMatch(/^hrwxr-xr-x .* link to \.\/usr\/bin\/aa-link$/)
    expect(line(`./${LONG_DIR}/file-with-a-long-path.txt`)).toMatch(/^-rw-r--r-- 0\/0\s+5 /)
    expect(line(`./${LONG_DIR}/long-link`)).toMatch(new RegExp(` -> ${LONG_TARGET}$`))
    // entries appear in byte order of their paths
    const names = lines.map((l) => /\d\d:\d\d:\d\d (.*)$/.exec(l)![1]!.replace(/ (->|link to) .*$/, '').replace(/\/$/, ''))
    expect(names).toEqual([...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
  })

  it.skipIf(!isRoot)('restores setuid modes, owners, devices and hard links when extracted as root', async () => {
    const out = join(work, 'extracted')
    mkdirSync(out)
    await run('tar', ['--numeric-owner', '-xpf', tarPath, '-C', out])
    const sudo = lstatSync(join(out, 'usr/bin/sudo'))
    expect(sudo.mode & 0o7777).toBe(0o4755)
    expect(lstatSync(join(out, 'var/lib/private')).mode & 0o7777).toBe(0o700)
    expect(lstatSync(join(out, 'var/lib/private/data')).uid).toBe(100)
    expect(lstatSync(join(out, 'dev/null')).isCharacterDevice()).toBe(true)
    expect(lstatSync(join(out, 'usr/bin/zz-target')).ino).toBe(lstatSync(join(out, 'usr/bin/aa-link')).ino)
    expect(readFileSync(join(out, 'usr/bin/zz-target'), 'utf8')).toBe('shared inode\n')
    expect(readFileSync(join(out, 'usr/lib/big.bin')).equals(Buffer.alloc(3 << 20, 0x5a))).toBe(true)
    expect(readlinkSync(join(out, 'bin'))).toBe('usr/bin')
    expect(lstatSync(join(out, 'usr/bin/sudo')).mtimeMs).toBe(MTIME * 1000)
  })
})

describe('writeDirectory', () => {
  it('materialises the tree with manifest modes (owners too as root), skipping device nodes', async () => {
    const tree = await unpackInto('stage-dir', 0o077)
    const out = join(work, 'materialised')
    const result = await writeDirectory(tree, out, {mtime: MTIME})
    expect(result.skipped.sort()).toEqual(['dev/loop0', 'dev/null'])
    expect(lstatSync(join(out, 'usr/bin/sudo')).mode & 0o7777).toBe(0o4755)
    expect(lstatSync(join(out, 'var/lib/private')).mode & 0o7777).toBe(0o700)
    expect(lstatSync(join(out, 'usr/bin/aa-link')).ino).toBe(lstatSync(join(out, 'usr/bin/zz-target')).ino)
    expect(readlinkSync(join(out, `${LONG_DIR}/long-link`))).toBe(LONG_TARGET)
    expect(lstatSync(join(out, 'usr')).mtimeMs).toBe(MTIME * 1000)
    expect(lstatSync(join(out, 'var/lib/private/data')).uid).toBe(isRoot ? 100 : process.getuid!())
    await expect(writeDirectory(tree, out)).rejects.toThrow(/not empty/)
  })
})
