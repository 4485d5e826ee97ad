import {chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {canonicalPackagePath} from '../../src/rootfs/paths.js'
import {RootTree, type TreeEntry} from '../../src/rootfs/tree.js'
import {unpackPackages} from '../../src/rootfs/unpack.js'
import {lockedPackage} from '../helpers/make-deb.js'

/**
 * Oracle: dpkg-deb builds real packages from a directory this test lays out, and `dpkg-deb --contents`
 * says what is in them. keel's manifest after unpacking must list the same entries with the same type,
 * mode, owner and link target (paths canonicalised to merged /usr).
 */

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keel-unpack-int-'))
})
afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

const LONG = `usr/share/${'a'.repeat(60)}/${'b'.repeat(60)}`

function layOut(root: string): void {
  const file = (p: string, mode: number, content = `${p}\n`) => {
    mkdirSync(join(root, p, '..'), {recursive: true})
    writeFileSync(join(root, p), content)
    chmodSync(join(root, p), mode)
  }
  const dir = (p: string, mode: number) => {
    mkdirSync(join(root, p), {recursive: true})
    chmodSync(join(root, p), mode)
  }
  mkdirSync(join(root, 'DEBIAN'), {recursive: true})
  writeFileSync(join(root, 'DEBIAN/control'), 'Package: oracle\nVersion: 1.0\nArchitecture: all\nMaintainer: keel tests <t@example.org>\nDescription: oracle package\n')
  file('usr/bin/tool', 0o755)
  file('usr/bin/suid', 0o4755)
  linkSync(join(root, 'usr/bin/suid'), join(root, 'usr/bin/suid-again'))
  file('usr/sbin/sgid', 0o2755)
  file('etc/secret', 0o600)
  file('etc/empty', 0o644, '')
  dir('etc/private', 0o700)
  dir('var/spool/sticky', 0o1777)
  file('usr/lib/x86_64-linux-gnu/libfoo.so.1', 0o644)
  symlinkSync('libfoo.so.1', join(root, 'usr/lib/x86_64-linux-gnu/libfoo.so'))
  symlinkSync('/usr/bin/tool', join(root, 'usr/bin/abs-link'))
  file('bin/legacy', 0o755)
  file('sbin/legacy-admin', 0o750)
  file('lib/udev/rules.d/99-x.rules', 0o644)
  file(`${LONG}/${'c'.repeat(40)}.txt`, 0o644)
  symlinkSync(`../../../${'c'.repeat(80)}/${'d'.repeat(50)}`, join(root, LONG, 'long-link'))
}

const TYPES: Record<string, TreeEntry['type']> = {'-': 'file', d: 'dir', l: 'symlink', h: 'hardlink', c: 'char', b: 'block', p: 'fifo'}

/** Mode bits from `ls -l` style text, special bits included ('rwsr-xr-x' → 0o4755). */
function parseModeString(s: string): number {
  let mode = 0
  const bit = (i: number, value: number) => (s[i] !== '-' && s[i] !== 'S' && s[i] !== 'T' ? value : 0)
  mode |= bit(0, 0o400) | bit(1, 0o200) | bit(2, 0o100) | bit(3, 0o40) | bit(4, 0o20) | bit(5, 0o10) | bit(6, 0o4) | bit(7, 0o2) | bit(8, 0o1)
  if (s[2] === 's' || s[2] === 'S') mode |= 0o4000
  if (s[5] === 's' || s[5] === 'S') mode |= 0o2000
  if (s[8] === 't' || s[8] === 'T') mode |= 0o1000
  return mode
}

interface Listed {
  path: string
  type: TreeEntry['type']
  mode: number
  owner: string
  linkTarget?: string
}

function parseContents(text: string): Map<string, Listed> {
  const out = new Map<string, Listed>()
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^(\S)(\S{9}) (\S+)\s+\d+ \S+ \S+ (.*)$/.exec(line)
    if (!m) throw new Error(`unexpected dpkg-deb --contents line: ${line}`)
    const [, t, perms, owner, rest] = m
    const type = TYPES[t!]!
    let name = rest!
    let linkTarget: string | undefined
    if (type === 'symlink') [name, linkTarget] = rest!.split(' -> ') as [string, string]
    if (type === 'hardlink') {
      ;[name, linkTarget] = rest!.split(' link to ') as [string, string]
      linkTarget = (canonicalPackagePath(linkTarget) as {path: string}).path
    }
    const c = canonicalPackagePath(name)
    if (!c.ok || c.path === '') continue // './' is the image root, which keel owns
    // './bin/' and './usr/bin/' are one directory under merged /usr; the first listed wins, as in keel.
    if (!out.has(c.path)) out.set(c.path, {path: c.path, type, mode: type === 'symlink' ? 0o777 : parseModeString(perms!), owner: owner!, ...(linkTarget === undefined ? {} : {linkTarget})})
  }
  return out
}

describe('unpack against dpkg-deb', () => {
  for (const compression of ['xz', 'zstd', 'gzip'] as const) {
    it(`matches dpkg-deb --contents for a -Z${compression} package`, async () => {
      const src = join(work, `src-${compression}`)
      layOut(src)
      const debPath = join(work, `oracle-${compression}.deb`)
      await run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', src, debPath], {env: {SOURCE_DATE_EPOCH: '1700000000'}})
      const listing = parseContents((await run('dpkg-deb', ['--contents', debPath])).stdout)
      // the oracle really exercised what we meant to test
      expect(listing.get('usr/bin/suid')?.mode).toBe(0o4755)
      expect(listing.get('usr/bin/suid-again')?.type).toBe('hardlink')
      expect(listing.get('usr/bin/legacy')?.type).toBe('file')
      expect([...listing.keys()].some((p) => p.length > 100)).toBe(true)

      const stage = join(work, `root-${compression}`)
      mkdirSync(stage)
      const tree = new RootTree(stage)
      const report = await unpackPackages(tree, [{pkg: lockedPackage('oracle'), path: debPath}], {exclude: []})

      const ours = new Map(
        tree
          .sorted()
          .filter((e) => e.owner === 'oracle' || (e.type === 'dir' && listing.has(e.path)))
          .map((e) => [e.path, {path: e.path, type: e.type, mode: e.mode, owner: `${e.uid === 0 ? 'root' : e.uid}/${e.gid === 0 ? 'root' : e.gid}`, ...(e.linkTarget === undefined ? {} : {linkTarget: e.linkTarget})}]),
      )
      expect(ours).toEqual(listing)
      expect(report.packages[0]!.files).toBe([...listing.values()].filter((e) => e.type !== 'dir').length)
    })
  }
})
