import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {buildInitrd, type InitrdBuildResult} from '../../src/initramfs/build.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {ensureLock} from '../../src/packages/lock-recipe.js'
import {loadRecipe} from '../../src/recipe/load.js'

// recipes/initrd.yaml through the rootfs stage into an lz4 (legacy frame) cpio, twice; GNU cpio lists the result. The
// kernel's modules are left out here (an empty module tree): test/boot/boot.boot.test.ts boots a real one.
const work = mkdtempSync(join(tmpdir(), 'keel-initrd-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('buildInitrd', () => {
  const builds: InitrdBuildResult[] = []
  let listing = new Map<string, string[]>()

  it('builds recipes/initrd.yaml into the same bytes twice', {timeout: 600_000}, async () => {
    const cache = new PackageCache(defaultCacheDir())
    const {recipe} = loadRecipe('recipes/initrd.yaml')
    const {lock} = await ensureLock(recipe, {cache, lockPath: join(work, 'initrd.lock.json')})
    const modulesDir = join(work, 'modules')
    mkdirSync(modulesDir)
    for (const out of ['a/initrd.img', 'b/initrd.img']) {
      builds.push(await buildInitrd({recipe, lock, cache, kernel: {modulesDir, version: '6.1.0-test-amd64'}, modules: [], out: join(work, out), sourceDateEpoch: 1700000000}))
    }
    expect(builds[1]!.sha256).toBe(builds[0]!.sha256)
    expect(builds[0]!.size).toBeLessThan(40 << 20)
    // The kernel's lz4 unpacker reads the legacy frame only: magic 0x184C2102, little-endian. It ends at a zero
    // chunk size: the file ends with zero bytes on a 4-byte boundary, where an appended archive may start.
    const bytes = readFileSync(builds[0]!.path)
    expect(bytes.subarray(0, 4).toString('hex')).toBe('02214c18')
    let end = 4
    for (let size = bytes.readUInt32LE(end); size !== 0; size = bytes.readUInt32LE(end)) end += 4 + size
    expect(bytes.length % 4).toBe(0)
    expect(bytes.length - end).toBeGreaterThanOrEqual(4)
    expect(bytes.subarray(end).every((b) => b === 0)).toBe(true)
    // The lz4 tool, unlike the kernel, takes a zero chunk size for corrupt input: it gets the stream alone.
    const stream = join(work, 'initrd.lz4')
    writeFileSync(stream, bytes.subarray(0, end))
    const cpio = join(work, 'initrd.cpio')
    await run('lz4', ['-q', '-d', stream, cpio])
    const {stdout} = await run('cpio', ['-t', '-v', '--numeric-uid-gid', '--quiet', '-F', cpio])
    listing = new Map(stdout.trim().split('\n').map((l) => l.split(/\s+/)).map((r) => [r[8]!, r]))
    expect(listing.size).toBe(builds[0]!.entries)
  })

  it('is a systemd initrd behind keel\'s /init: /etc/initrd-release exists, verity and fstab generators are there', () => {
    expect(listing.get('init')?.slice(8)).toEqual(['init', '->', 'usr/lib/keel/init'])
    expect(listing.get('usr/lib/keel/init')?.[0]).toBe('-rwxr-xr-x')
    expect(listing.get('etc/initrd-release')?.[0]).toBe('-rw-r--r--')
    for (const p of ['usr/lib/systemd/systemd', 'usr/lib/systemd/systemd-veritysetup', 'usr/lib/systemd/system-generators/systemd-veritysetup-generator', 'usr/lib/systemd/system-generators/systemd-fstab-generator', 'usr/lib/systemd/systemd-udevd']) {
      expect(listing.has(p), p).toBe(true)
    }
  })

  it('carries Ignition wired as its dracut module would, and not the dracut copy', () => {
    expect(listing.get('usr/bin/ignition')?.[0]).toBe('-rwxr-xr-x')
    expect(listing.get('usr/lib/systemd/system-generators/ignition-generator')?.[0]).toBe('-rwxr-xr-x')
    expect(listing.get('usr/lib/systemd/system/ignition-complete.target.requires/ignition-files.service')?.slice(8)).toEqual([
      'usr/lib/systemd/system/ignition-complete.target.requires/ignition-files.service', '->', '../ignition-files.service',
    ])
    expect(listing.get('usr/sbin/setfiles')?.[0]).toBe('-rwxr-xr-x')
    expect([...listing.keys()].some((p) => p.startsWith('usr/lib/dracut'))).toBe(false)
  })

  it('runs only the fstab, verity, debug and Ignition generators, and enables none of the image\'s units', () => {
    const generators = [...listing.keys()].filter((p) => p.startsWith('usr/lib/systemd/system-generators/')).map((p) => p.split('/').pop()).sort()
    expect(generators).toEqual(['ignition-generator', 'systemd-debug-generator', 'systemd-fstab-generator', 'systemd-veritysetup-generator'])
    expect([...listing.keys()].filter((p) => p.startsWith('etc/systemd/system/') || p === 'etc/systemd/system')).toEqual([])
  })

  it('leaves out documentation and the package manager', () => {
    expect([...listing.keys()].filter((p) => p.startsWith('usr/share/doc/') || p.startsWith('usr/share/man/') || p === 'usr/bin/dpkg')).toEqual([])
  })

  it('carries the programs its units, scripts and Ignition run, and no others from those packages', () => {
    const kept = loadRecipe('recipes/initrd.yaml').recipe.exclude.keep.map((p) => p.slice(1)).filter((p) => /^usr\/s?bin\//.test(p))
    expect(kept.length).toBeGreaterThan(60)
    const programs = [...listing.keys()].filter((p) => /^usr\/s?bin\/[^/]+$/.test(p))
    // Everything kept is there; the rest are the files the initrd plan writes itself and the alternatives
    // fix-up's pager link (to the kept more).
    expect(kept.filter((p) => !listing.has(p))).toEqual([])
    expect(programs.filter((p) => !kept.includes(p)).sort()).toEqual(['usr/bin/ignition', 'usr/bin/pager', 'usr/sbin/ignition-kargs-helper', 'usr/sbin/setfiles'])
    for (const p of ['usr/bin/systemctl', 'usr/bin/mount', 'usr/sbin/useradd', 'usr/sbin/mkfs.ext4', 'usr/sbin/losetup', 'usr/bin/bash']) expect(listing.has(p), p).toBe(true)
    for (const p of ['usr/bin/du', 'usr/sbin/debugfs', 'usr/bin/systemd-analyze', 'usr/lib/x86_64-linux-gnu/libdb-5.3.so', 'usr/lib/x86_64-linux-gnu/libgmp.so.10']) {
      expect(listing.has(p), p).toBe(false)
    }
  })
})
