import {existsSync, lstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {RootTree} from '../../src/rootfs/tree.js'
import {unpackPackages} from '../../src/rootfs/unpack.js'
import {lockedPackage, makeDeb, type DebSpec, type TarEntrySpec} from '../helpers/make-deb.js'

let base: string
let counter = 0

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'keel-unpack-'))
})
afterAll(async () => {
  await rm(base, {recursive: true, force: true})
})

/** A fresh sandbox: `root` is the tree's staging dir; nothing else may appear in `sandbox`. */
async function sandbox() {
  const sandboxDir = join(base, `s${counter++}`)
  const root = join(sandboxDir, 'root')
  await mkdir(root, {recursive: true})
  return {sandboxDir, root, tree: new RootTree(root)}
}

async function deb(spec: DebSpec & {version?: string}) {
  const path = await makeDeb(join(base, `${spec.name}-${counter++}.deb`), spec)
  return {pkg: lockedPackage(spec.name, {version: spec.version ?? '1.0', replaces: spec.replaces}), path}
}

const dirs = (...names: string[]): TarEntrySpec[] => names.map((name) => ({name, type: 'directory'}))

describe('unpackPackages', () => {
  it('unpacks files, modes, owners, links and devices into the manifest, with plain modes on disk', async () => {
    const {root, tree} = await sandbox()
    const base = await deb({
      name: 'base',
      compression: 'xz',
      entries: [
        ...dirs('./', './usr/', './usr/bin/', './var/', './var/lib/', './dev/'),
        {name: './usr/bin/hello', mode: 0o755, content: '#!/bin/sh\necho hi\n'},
        {name: './usr/bin/su', mode: 0o4755, uid: 0, gid: 0, content: 'setuid'},
        {name: './var/lib/private/', type: 'directory', mode: 0o700, uid: 100, gid: 101},
        {name: './usr/bin/hi', type: 'symlink', linkname: 'hello'},
        {name: './usr/bin/hello2', type: 'link', linkname: './usr/bin/hello', mode: 0o755},
        {name: './dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3},
        {name: './dev/initctl', type: 'fifo', mode: 0o600},
        {name: './bin/', type: 'directory'},
        {name: './bin/foo', mode: 0o755, content: 'foo'},
        {name: './lib64/ld.so', mode: 0o755, content: 'ld'},
      ],
    })
    const report = await unpackPackages(tree, [base], {exclude: []})

    expect(tree.get('usr/bin/hello')).toMatchObject({type: 'file', mode: 0o755, uid: 0, gid: 0, owner: 'base'})
    expect(tree.get('usr/bin/su')).toMatchObject({type: 'file', mode: 0o4755})
    expect(tree.get('var/lib/private')).toMatchObject({type: 'dir', mode: 0o700, uid: 100, gid: 101})
    expect(tree.get('usr/bin/hi')).toMatchObject({type: 'symlink', linkTarget: 'hello'})
    expect(tree.get('usr/bin/hello2')).toMatchObject({type: 'hardlink', linkTarget: 'usr/bin/hello', mode: 0o755})
    expect(tree.get('dev/null')).toMatchObject({type: 'char', mode: 0o666, devMajor: 1, devMinor: 3})
    expect(tree.get('dev/initctl')).toMatchObject({type: 'fifo', mode: 0o600})
    expect(tree.get('usr/bin/foo')).toMatchObject({type: 'file', mode: 0o755})
    expect(tree.get('bin/foo')).toBeUndefined()
    // merged-/usr: the aliases are symlinks, lib64 only because something landed there
    for (const alias of ['bin', 'sbin', 'lib', 'lib64']) {
      expect(tree.get(alias)).toMatchObject({type: 'symlink', linkTarget: `usr/${alias}`})
      expect(readlinkSync(join(root, alias))).toBe(`usr/${alias}`)
    }
    expect(tree.get('lib32')).toBeUndefined()
    expect(existsSync(join(root, 'lib32'))).toBe(false)

    // on disk: content kept, the user's own modes, no setuid, no devices
    expect(readFileSync(join(root, 'usr/bin/hello'), 'utf8')).toBe('#!/bin/sh\necho hi\n')
    expect(readFileSync(join(root, 'bin/foo'), 'utf8')).toBe('foo')
    expect(lstatSync(join(root, 'usr/bin/su')).mode & 0o7777).toBe(0o755 & ~process.umask())
    expect(lstatSync(join(root, 'var/lib/private')).mode & 0o700).toBe(0o700)
    expect(lstatSync(join(root, 'usr/bin/hello2')).ino).toBe(lstatSync(join(root, 'usr/bin/hello')).ino)
    expect(readlinkSync(join(root, 'usr/bin/hi'))).toBe('hello')
    expect(existsSync(join(root, 'dev/null'))).toBe(false)
    expect(existsSync(join(root, 'dev/initctl'))).toBe(false)

    expect(report.packages).toEqual([{name: 'base', files: 8, bytes: 18 + 6 + 3 + 2, excluded: 0}])
    expect(report.totalFiles).toBe(8)
  })

  describe('hostile archives are refused, naming the package, with nothing written outside the tree', () => {
    const cases: Array<[string, TarEntrySpec[], RegExp]> = [
      ['dotdot', [{name: '../../etc/passwd', content: 'root::0:0'}], /evil-dotdot: refusing entry '\.\.\/\.\.\/etc\/passwd'/],
      ['absolute', [{name: '/etc/abs', content: 'x'}], /evil-absolute: refusing entry '\/etc\/abs': absolute path/],
      ['symlink-dir', [{name: './evil', type: 'symlink', linkname: '__OUTSIDE__'}, {name: './evil/x', content: 'pwned'}], /evil-symlink-dir: refusing to write \/evil\/x through the symlink \/evil/],
      ['hardlink-out', [{name: './x', type: 'link', linkname: '../../etc/passwd'}], /evil-hardlink-out: hard link \/x points outside/],
      ['hardlink-abs', [{name: './x', type: 'link', linkname: '/etc/passwd'}], /evil-hardlink-abs: hard link \/x points outside/],
      ['hardlink-missing', [{name: './x', type: 'link', linkname: './usr/bin/not-in-package'}], /evil-hardlink-missing: hard link \/x points outside the package's own files/],
      // refused early in a large xz stream: the rest must be drained, not left blocking the decompressor
      ['early-in-big-xz', [{name: '/etc/abs', content: 'x'}, {name: './big', content: Buffer.alloc(4 << 20, 1)}], /evil-early-in-big-xz: refusing entry '\/etc\/abs'/],
    ]
    for (const [name, entries, message] of cases) {
      it(name, async () => {
        const {sandboxDir, tree} = await sandbox()
        const outside = join(sandboxDir, 'outside')
        await mkdir(outside)
        const fixed = entries.map((e) => (e.linkname === '__OUTSIDE__' ? {...e, linkname: outside} : e))
        const pkg = await deb({name: `evil-${name}`, compression: 'xz', entries: [...dirs('./'), ...fixed]})
        await expect(unpackPackages(tree, [pkg], {exclude: []})).rejects.toThrow(message)
        expect(readdirSync(sandboxDir).sort()).toEqual(['outside', 'root'])
        expect(readdirSync(outside)).toEqual([])
      })
    }
  })

  describe('two packages shipping one path', () => {
    const shared = (content: string): TarEntrySpec[] => [...dirs('./', './usr/', './usr/bin/'), {name: './usr/bin/tool', content}]

    it('is a conflict naming both when neither Replaces the other', async () => {
      const {tree} = await sandbox()
      const a = await deb({name: 'alpha', entries: shared('a')})
      const b = await deb({name: 'beta', entries: shared('b')})
      const err = await unpackPackages(tree, [a, b], {exclude: []}).catch((e: unknown) => e)
      expect(err).toMatchObject({exit: 'conflict'})
      expect(String(err)).toMatch(/packages alpha and beta both ship \/usr\/bin\/tool/)
    })

    for (const order of ['replacer-first', 'replacer-last'] as const) {
      for (const concurrency of [1, 4]) {
        it(`lets the replacer win (${order}, concurrency ${concurrency})`, async () => {
          const {root, tree} = await sandbox()
          const old = await deb({name: 'old-tool', version: '1.0', entries: shared('old content')})
          const neu = await deb({name: 'new-tool', replaces: 'old-tool (<< 2)', compression: 'xz', entries: shared('new content')})
          const debs = order === 'replacer-first' ? [neu, old] : [old, neu]
          const report = await unpackPackages(tree, debs, {exclude: [], concurrency})
          expect(readFileSync(join(root, 'usr/bin/tool'), 'utf8')).toBe('new content')
          expect(tree.get('usr/bin/tool')?.owner).toBe('new-tool')
          expect(report.packages.map((p) => p.files)).toEqual([1, 1])
        })
      }
    }

    it('ignores a Replaces whose version constraint does not match the locked version', async () => {
      const {tree} = await sandbox()
      const old = await deb({name: 'old-tool', version: '3.0', entries: shared('old')})
      const neu = await deb({name: 'new-tool', replaces: 'old-tool (<< 2)', entries: shared('new')})
      await expect(unpackPackages(tree, [old, neu], {exclude: []})).rejects.toMatchObject({exit: 'conflict'})
    })

    it('is a conflict when one ships a directory and the other a symlink there', async () => {
      const {tree} = await sandbox()
      const a = await deb({name: 'has-dir', entries: [...dirs('./', './usr/', './usr/share/', './usr/share/thing/')]})
      const b = await deb({name: 'has-link', entries: [...dirs('./', './usr/', './usr/share/'), {name: './usr/share/thing', type: 'symlink', linkname: 'other'}]})
      for (const debs of [[a, b], [b, a]]) {
        const t = (await sandbox()).tree
        const err = await unpackPackages(t, debs, {exclude: []}).catch((e: unknown) => e)
        expect(err).toMatchObject({exit: 'conflict'})
        expect(String(err)).toMatch(/has-dir/)
        expect(String(err)).toMatch(/has-link/)
      }
      expect(tree.entries.size).toBe(1)
    })
  })

  it('keeps the metadata of the earliest package for a shared directory, whatever finishes first', async () => {
    // 'slow' is big and xz-compressed, 'fast' tiny and gzipped: with concurrency 2, fast finishes first.
    const big = Buffer.alloc(8 << 20, 'a')
    const slow = await deb({name: 'slow', compression: 'xz', entries: [...dirs('./', './usr/', './usr/lib/'), {name: './usr/lib/shared/', type: 'directory', mode: 0o750, gid: 7}, {name: './usr/lib/shared/big', content: big}]})
    const fast = await deb({name: 'fast', entries: [...dirs('./', './usr/', './usr/lib/'), {name: './usr/lib/shared/', type: 'directory', mode: 0o755}, {name: './usr/lib/shared/small', content: 'x'}, {name: './opt/implicit/file', content: 'y'}]})
    const manifests: string[] = []
    for (const concurrency of [1, 2]) {
      const {tree} = await sandbox()
      await unpackPackages(tree, [slow, fast], {exclude: [], concurrency})
      expect(tree.get('usr/lib/shared')).toMatchObject({mode: 0o750, gid: 7, owner: 'slow'})
      expect(tree.get('opt')).toMatchObject({type: 'dir', mode: 0o755, uid: 0, owner: 'fast'})
      manifests.push(JSON.stringify(tree.sorted()))
    }
    expect(manifests[1]).toBe(manifests[0])
    // the other order gives the other package's metadata: the rule is the given order, not timing
    const {tree} = await sandbox()
    await unpackPackages(tree, [fast, slow], {exclude: [], concurrency: 2})
    expect(tree.get('usr/lib/shared')).toMatchObject({mode: 0o755, gid: 0, owner: 'fast'})
  })

  it('applies exclude globs to canonical paths and keeps the excluded directory itself', async () => {
    const {root, tree} = await sandbox()
    const pkg = await deb({
      name: 'docs',
      entries: [
        ...dirs('./', './usr/', './usr/share/', './usr/share/doc/', './usr/share/doc/docs/', './lib/', './lib/firmware/'),
        {name: './usr/share/doc/docs/copyright', content: 'c'},
        {name: './usr/share/doc/docs/changelog.gz', content: 'cl'},
        {name: './usr/share/doc/docs/hard', type: 'link', linkname: './usr/share/doc/docs/copyright'},
        {name: './lib/firmware/blob.bin', content: 'fw'},
        {name: './usr/share/keep', content: 'k'},
      ],
    })
    const report = await unpackPackages(tree, [pkg], {exclude: ['/usr/share/doc/**', '/usr/lib/firmware/*.bin']})
    expect(tree.get('usr/share/doc')).toMatchObject({type: 'dir'})
    expect(tree.get('usr/share/doc/docs')).toBeUndefined()
    expect(tree.get('usr/lib/firmware')).toMatchObject({type: 'dir'})
    expect(tree.get('usr/lib/firmware/blob.bin')).toBeUndefined()
    expect(readdirSync(join(root, 'usr/share/doc'))).toEqual([])
    expect(existsSync(join(root, 'usr/lib/firmware/blob.bin'))).toBe(false)
    expect(tree.get('usr/share/keep')).toMatchObject({type: 'file'})
    expect(report.excluded).toBe(4)
    expect(report.packages[0]).toMatchObject({files: 1, bytes: 1, excluded: 4})
  })

  it('accepts a package that ships the merged-/usr aliases itself', async () => {
    const {tree} = await sandbox()
    const pkg = await deb({name: 'base-files', entries: [...dirs('./', './usr/', './usr/bin/'), {name: './bin', type: 'symlink', linkname: 'usr/bin'}, {name: './bin/x', content: 'x'}]})
    await unpackPackages(tree, [pkg], {exclude: []})
    expect(tree.get('bin')).toMatchObject({type: 'symlink', linkTarget: 'usr/bin', owner: 'keel:merged-usr'})
    expect(tree.get('usr/bin/x')).toMatchObject({type: 'file', owner: 'base-files'})
    const bad = await deb({name: 'bad-alias', entries: [{name: './sbin', content: 'file where a symlink must be'}]})
    await expect(unpackPackages((await sandbox()).tree, [bad], {exclude: []})).rejects.toThrow(/bad-alias: ships \/sbin as a file/)
  })

  it('refuses a tree that already has entries', async () => {
    const {tree} = await sandbox()
    tree.mkdirp('etc')
    await expect(unpackPackages(tree, [], {exclude: []})).rejects.toThrow(/fresh RootTree/)
  })

  it('reports a truncated data member as an error naming the package', async () => {
    const {tree} = await sandbox()
    const pkg = await deb({name: 'broken', entries: [{name: './x', content: 'x'.repeat(5000)}]})
    const {readFileSync: rf, writeFileSync: wf} = await import('node:fs')
    const bytes = rf(pkg.path)
    // cut the gzip stream short but keep the ar sizes consistent by rewriting the member as garbage
    const idx = bytes.indexOf('data.tar.gz')
    const start = idx + 60
    for (let i = start; i < start + 10; i++) bytes[i] = 0
    wf(pkg.path, bytes)
    await expect(unpackPackages(tree, [pkg], {exclude: []})).rejects.toThrow(/broken/)
  })
})
