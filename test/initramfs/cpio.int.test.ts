import {closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, lstatSync, readlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {writeCpioToFd} from '../../src/initramfs/cpio.js'
import {run} from '../../src/exec/run.js'
import {RootTree} from '../../src/rootfs/tree.js'

// Oracle: GNU cpio lists and extracts what keel writes (the kernel's own unpacker is exercised by the boot test).
const work = mkdtempSync(join(tmpdir(), 'keel-cpio-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

function sampleTree(dir: string): RootTree {
  const tree = new RootTree(dir)
  const owner = 'test'
  tree.mkdirp('usr/bin', {owner})
  tree.writeFile('usr/bin/tool', '#!/bin/sh\necho hi\n', {mode: 0o4755, uid: 0, gid: 5, owner})
  linkSync(tree.hostPath('usr/bin/tool'), tree.hostPath('usr/bin/tool2'))
  tree.record({path: 'usr/bin/tool2', type: 'hardlink', mode: 0o4755, uid: 0, gid: 5, linkTarget: 'usr/bin/tool', owner})
  tree.writeFile('etc/odd size', 'abc', {mode: 0o600, uid: 500, gid: 500, owner})
  tree.writeFile('etc/empty', '', {owner})
  tree.writeFile('usr/lib/big.bin', Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a), {owner})
  tree.symlink('bin', 'usr/bin', {owner})
  tree.mkdirp('dev', {owner})
  tree.record({path: 'dev/console', type: 'char', mode: 0o600, uid: 0, gid: 0, devMajor: 5, devMinor: 1, owner})
  tree.mkdirp('tmp', {mode: 0o1777, owner})
  return tree
}

function writeArchive(tree: RootTree, path: string): void {
  const fd = openSync(path, 'w')
  try {
    writeCpioToFd(tree, fd, 1700000000)
  } finally {
    closeSync(fd)
  }
}

describe('writeCpioToFd against GNU cpio', () => {
  const tree = sampleTree(join(work, 'tree'))
  const archive = join(work, 'a.cpio')
  writeArchive(tree, archive)

  it('cpio lists every entry with the manifest\'s types, modes, owners and the one mtime', async () => {
    const {stdout} = await run('cpio', ['-t', '-v', '--numeric-uid-gid', '--quiet', '-F', archive], {env: {TZ: 'UTC'}})
    // A device shows 'major, minor' where a file shows its size: join the two so columns line up.
    const rows = stdout.trim().split('\n').map((l) => l.split(/\s+/)).map((r) => (r[4]!.endsWith(',') ? [...r.slice(0, 4), r[4]! + r[5]!, ...r.slice(6)] : r))
    const byName = new Map(rows.map((r) => [r[8], r]))
    expect(rows.map((r) => r.slice(8).join(' ')).sort()).toEqual(['bin -> usr/bin', 'dev', 'dev/console', 'etc', 'etc/empty', 'etc/odd size', 'tmp', 'usr', 'usr/bin', 'usr/bin/tool', 'usr/bin/tool2', 'usr/lib', 'usr/lib/big.bin'])
    expect(byName.get('usr/bin/tool')!.slice(0, 4)).toEqual(['-rwsr-xr-x', '2', '0', '5'])
    expect(byName.get('tmp')![0]).toBe('drwxrwxrwt')
    expect(byName.get('bin')![0]).toBe('lrwxrwxrwx')
    expect(byName.get('dev/console')!.slice(0, 5)).toEqual(['crw-------', '1', '0', '0', '5,1'])
    expect(byName.get('etc/odd')!.slice(0, 4)).toEqual(['-rw-------', '1', '500', '500'])
    // GNU cpio prints the date of every entry; one mtime for all (2023-11-14 22:13 UTC)
    expect(new Set(rows.map((r) => r.slice(5, 8).join(' ')))).toEqual(new Set(['Nov 14 2023']))
  })

  it('cpio extracts the same bytes, link text and hard links', async () => {
    const dest = join(work, 'x')
    mkdirSync(dest)
    // The device node is left out: creating it needs root, and its metadata is checked in the listing.
    await run('cpio', ['-i', '-d', '--quiet', '--no-absolute-filenames', '-f', '-F', archive, 'dev/console'], {cwd: dest})
    expect(readFileSync(join(dest, 'usr/bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n')
    expect(readFileSync(join(dest, 'etc/odd size'), 'utf8')).toBe('abc')
    expect(statSync(join(dest, 'etc/empty')).size).toBe(0)
    expect(readFileSync(join(dest, 'usr/lib/big.bin')).equals(readFileSync(tree.hostPath('usr/lib/big.bin')))).toBe(true)
    expect(readlinkSync(join(dest, 'bin'))).toBe('usr/bin')
    expect(lstatSync(join(dest, 'usr/bin/tool2')).ino).toBe(lstatSync(join(dest, 'usr/bin/tool')).ino)
  })

  it('the same tree gives the same bytes', () => {
    const again = join(work, 'b.cpio')
    writeArchive(tree, again)
    expect(readFileSync(again).equals(readFileSync(archive))).toBe(true)
    expect(statSync(archive).size % 4).toBe(0)
  })
})
