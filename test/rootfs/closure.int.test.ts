import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, expect, it, onTestFinished} from 'vitest'
import {type ClosureProblem, checkLibraryClosure, describeClosureProblems, libraryClosure} from '../../src/rootfs/closure.js'
import {EM_AARCH64, EM_X86_64} from '../../src/rootfs/elf.js'
import {compareBytes, RootTree} from '../../src/rootfs/tree.js'
import {syntheticElf} from './synthetic-elf.js'

const owner = {owner: 'test'}
const AMD64 = {machine: EM_X86_64}
const INTERP = '/lib64/ld-linux-x86-64.so.2'
const LIBDIR = 'usr/lib/x86_64-linux-gnu'

/** An empty merged-/usr tree, removed when the test finishes. */
function mergedUsrTree(): RootTree {
  const dir = mkdtempSync(join(tmpdir(), 'keel-closure-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  const tree = new RootTree(dir)
  for (const d of ['usr/bin', 'usr/sbin', LIBDIR, 'usr/lib64', 'etc']) tree.mkdirp(d, owner)
  for (const alias of ['bin', 'sbin', 'lib', 'lib64']) tree.symlink(alias, `usr/${alias}`, owner)
  return tree
}

/** Host path → image path in a merged-/usr tree: /lib/x → usr/lib/x. */
function imagePathOf(hostPath: string): string {
  const p = hostPath.replace(/^\/+/, '')
  return /^(lib|lib64|bin|sbin)\//.test(p) ? `usr/${p}` : p
}

/**
 * Copies a host program and, as regular files under the names DT_NEEDED uses, every library `ldd` says it
 * loads, into the directory ldd found each in; the interpreter as Debian lays it out (a link in /lib64).
 */
function addWithLibraries(tree: RootTree, hostFile: string): void {
  tree.writeFile(imagePathOf(hostFile), readFileSync(hostFile), {...owner, mode: 0o755})
  const ldd = execFileSync('ldd', [hostFile], {encoding: 'utf8'})
  for (const [, name, path] of ldd.matchAll(/^\s*(\S+) => (\/\S+) \(/gm)) {
    const at = `${dirname(imagePathOf(path!))}/${name}`
    if (!tree.get(at)) tree.writeFile(at, readFileSync(path!), {...owner, mode: 0o755})
  }
  const interp = interpreterOf(hostFile)!
  if (lstatSync(interp).isSymbolicLink()) {
    const real = readlinkSync(interp)
    tree.writeFile(imagePathOf(real), readFileSync(interp), {...owner, mode: 0o755})
    tree.symlink(imagePathOf(interp), real, owner)
  } else {
    tree.writeFile(imagePathOf(interp), readFileSync(interp), {...owner, mode: 0o755})
  }
}

function interpreterOf(file: string): string | undefined {
  return /\[Requesting program interpreter: (.*)\]/.exec(execFileSync('readelf', ['-l', file], {encoding: 'utf8'}))?.[1]
}

function neededOf(file: string): string[] {
  return [...execFileSync('readelf', ['-d', file], {encoding: 'utf8'}).matchAll(/Shared library: \[(.*)\]/g)].map((m) => m[1]!)
}

/** The oracle's answer: every regular file in the tree that readelf says needs `name`. */
function needersOf(tree: RootTree, name: string): ClosureProblem[] {
  return tree
    .sorted()
    .filter((e) => e.type === 'file' && readFileSync(tree.hostPath(e.path)).subarray(0, 4).toString('latin1') === '\x7fELF')
    .filter((e) => neededOf(tree.hostPath(e.path)).includes(name))
    .map((e) => ({path: e.path, missing: name, kind: 'needed' as const}))
}

/** A synthetic amd64 program or library; programs get the interpreter, which `withInterpreter` provides. */
function addElf(tree: RootTree, path: string, spec: {needed?: string[]; runpath?: string; interpreter?: string; machine?: number}): void {
  tree.writeFile(path, syntheticElf({elfClass: 64, machine: spec.machine ?? EM_X86_64, ...spec}), {...owner, mode: 0o755})
}

function withInterpreter(tree: RootTree): void {
  tree.writeFile('usr/lib64/ld-linux-x86-64.so.2', 'a stand-in: only its presence is checked', owner)
}

describe('checkLibraryClosure on host programs, with ldd and readelf as the oracle', () => {
  it('/usr/bin/ls with the libraries ldd lists has no problems', () => {
    const tree = mergedUsrTree()
    addWithLibraries(tree, '/usr/bin/ls')
    expect(checkLibraryClosure(tree, AMD64)).toEqual([])
  })

  it('libraryClosure of /usr/bin/ssh is ssh, its interpreter and the files ldd says it loads', () => {
    const tree = mergedUsrTree()
    addWithLibraries(tree, '/usr/bin/ssh')
    addWithLibraries(tree, '/usr/bin/ls')
    const ldd = execFileSync('ldd', ['/usr/bin/ssh'], {encoding: 'utf8'})
    const loaded = [...ldd.matchAll(/^\s*(\S+) => (\/\S+) \(/gm)].map(([, name, path]) => `${dirname(imagePathOf(path!))}/${name}`)
    const interp = interpreterOf('/usr/bin/ssh')!
    const interpFile = lstatSync(interp).isSymbolicLink() ? imagePathOf(readlinkSync(interp)) : imagePathOf(interp)
    expect(loaded.length).toBeGreaterThan(3)
    expect(libraryClosure(tree, ['usr/bin/ssh'], EM_X86_64)).toEqual(['usr/bin/ssh', interpFile, ...loaded].sort(compareBytes))
    // ls needs fewer libraries than ssh (no libcrypto), and a root that is not in the tree adds nothing
    const ls = libraryClosure(tree, ['usr/bin/ls', 'usr/bin/missing'], EM_X86_64)
    expect(ls).toContain(`${LIBDIR}/libselinux.so.1`)
    expect(ls).not.toContain(`${LIBDIR}/libcrypto.so.3`)
    expect(ls).not.toContain('usr/bin/missing')
  })

  it('removing libpcre2-8.so.0 reports exactly the files that need it', () => {
    const tree = mergedUsrTree()
    addWithLibraries(tree, '/usr/bin/ls')
    const expected = needersOf(tree, 'libpcre2-8.so.0')
    expect(expected.length).toBeGreaterThan(0)
    tree.remove(`${LIBDIR}/libpcre2-8.so.0`)
    expect(checkLibraryClosure(tree, AMD64)).toEqual(expected)
  })

  it('a missing interpreter is reported as such for every ELF that names it', () => {
    const tree = mergedUsrTree()
    addWithLibraries(tree, '/usr/bin/ls')
    const interp = interpreterOf('/usr/bin/ls')!
    tree.remove(imagePathOf(interp))
    const expected = tree
      .sorted()
      .filter((e) => e.type === 'file' && interpreterOf(tree.hostPath(e.path)) === interp)
      .map((e) => ({path: e.path, missing: interp, kind: 'interpreter'}))
    expect(expected.map((e) => e.path)).toContain('usr/bin/ls')
    expect(checkLibraryClosure(tree, AMD64)).toEqual(expected)
  })

  it.skipIf(!existsSync('/usr/lib/systemd/systemd'))("systemd's private libraries are found through its RUNPATH", () => {
    const tree = mergedUsrTree()
    addWithLibraries(tree, '/usr/lib/systemd/systemd')
    expect(checkLibraryClosure(tree, AMD64)).toEqual([])
    const shared = neededOf('/usr/lib/systemd/systemd').find((n) => n.startsWith('libsystemd-shared'))!
    const expected = needersOf(tree, shared)
    tree.remove(`${LIBDIR}/systemd/${shared}`)
    expect(checkLibraryClosure(tree, AMD64)).toEqual(expected)
  })
})

describe('checkLibraryClosure on synthetic trees', () => {
  it('expands $ORIGIN and ${ORIGIN} in RUNPATH and in DT_NEEDED paths', () => {
    const tree = mergedUsrTree()
    withInterpreter(tree)
    addElf(tree, 'opt/app/bin/tool', {interpreter: INTERP, needed: ['libapp.so.1', 'libc.so.6'], runpath: '$ORIGIN/../lib'})
    addElf(tree, 'opt/app/bin/other', {interpreter: INTERP, needed: ['libapp.so.1', '$ORIGIN/../lib/libextra.so'], runpath: '${ORIGIN}/../lib'})
    addElf(tree, 'opt/app/lib/libapp.so.1', {})
    addElf(tree, 'opt/app/lib/libextra.so', {})
    addElf(tree, `${LIBDIR}/libc.so.6`, {})
    expect(checkLibraryClosure(tree, AMD64)).toEqual([])
    tree.remove('opt/app/lib/libapp.so.1')
    tree.remove('opt/app/lib/libextra.so')
    expect(checkLibraryClosure(tree, AMD64)).toEqual([
      {path: 'opt/app/bin/other', missing: '$ORIGIN/../lib/libextra.so', kind: 'needed'},
      {path: 'opt/app/bin/other', missing: 'libapp.so.1', kind: 'needed'},
      {path: 'opt/app/bin/tool', missing: 'libapp.so.1', kind: 'needed'},
    ])
  })

  it('follows symlink chains (relative and absolute, through /lib) and reports dangling links and loops', () => {
    const tree = mergedUsrTree()
    withInterpreter(tree)
    addElf(tree, 'usr/bin/prog', {interpreter: INTERP, needed: ['libfoo.so.1', 'libdangling.so.1', 'libloop.so.1']})
    addElf(tree, `${LIBDIR}/libfoo.so.1.2.3`, {})
    tree.symlink(`${LIBDIR}/libfoo.so.1`, 'libfoo.so.1.2', owner)
    tree.symlink(`${LIBDIR}/libfoo.so.1.2`, '/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libfoo.so.1.2.3', owner)
    tree.symlink(`${LIBDIR}/libdangling.so.1`, 'libdangling.so.1.0', owner)
    tree.symlink(`${LIBDIR}/libloop.so.1`, 'libloop.so.2', owner)
    tree.symlink(`${LIBDIR}/libloop.so.2`, './libloop.so.1', owner)
    expect(checkLibraryClosure(tree, AMD64)).toEqual([
      {path: 'usr/bin/prog', missing: 'libdangling.so.1', kind: 'needed'},
      {path: 'usr/bin/prog', missing: 'libloop.so.1', kind: 'needed'},
    ])
  })

  it('a directory or a hardlink to a file: only regular files count', () => {
    const tree = mergedUsrTree()
    withInterpreter(tree)
    addElf(tree, 'usr/bin/prog', {interpreter: INTERP, needed: ['libdir.so', 'libhard.so']})
    tree.mkdirp(`${LIBDIR}/libdir.so`, owner)
    addElf(tree, `${LIBDIR}/libreal.so`, {})
    tree.record({path: `${LIBDIR}/libhard.so`, type: 'hardlink', linkTarget: `${LIBDIR}/libreal.so`, mode: 0o644, uid: 0, gid: 0, owner: 'test'})
    expect(checkLibraryClosure(tree, AMD64)).toEqual([{path: 'usr/bin/prog', missing: 'libdir.so', kind: 'needed'}])
  })

  it('searches the directories etc/ld.so.conf names and includes', () => {
    const tree = mergedUsrTree()
    withInterpreter(tree)
    addElf(tree, 'usr/bin/prog', {interpreter: INTERP, needed: ['libcustom.so.1', 'libsecond.so']})
    addElf(tree, 'usr/local/lib/custom/libcustom.so.1', {})
    addElf(tree, 'opt/second/libsecond.so', {})
    expect(checkLibraryClosure(tree, AMD64).map((p) => p.missing)).toEqual(['libcustom.so.1', 'libsecond.so'])
    tree.writeFile('etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n', owner)
    tree.writeFile('etc/ld.so.conf.d/custom.conf', '# a comment\n/usr/local/lib/custom  # trailing\n', owner)
    tree.writeFile('etc/ld.so.conf.d/second.conf', '/opt/second\n', owner)
    tree.writeFile('etc/ld.so.conf.d/ignored.txt', '/nowhere\n', owner)
    expect(checkLibraryClosure(tree, AMD64)).toEqual([])
  })

  it("a program does not get another program's private directory; a library (no PT_INTERP) may", () => {
    const tree = mergedUsrTree()
    withInterpreter(tree)
    addElf(tree, 'usr/lib/app/app', {interpreter: INTERP, needed: ['libcore.so', 'libshared.so'], runpath: '/usr/lib/app/private'})
    addElf(tree, 'usr/lib/app/private/libshared.so', {})
    addElf(tree, 'usr/lib/app/private/libcore.so', {needed: ['libshared.so']})
    addElf(tree, 'usr/bin/stranger', {interpreter: INTERP, needed: ['libshared.so']})
    expect(checkLibraryClosure(tree, AMD64)).toEqual([{path: 'usr/bin/stranger', missing: 'libshared.so', kind: 'needed'}])
  })

  it('ignores ELFs of other machines and classes, kernel modules and non-ELF files', () => {
    const tree = mergedUsrTree()
    addElf(tree, 'usr/bin/arm', {machine: EM_AARCH64, interpreter: '/lib/ld-linux-aarch64.so.1', needed: ['libnope.so']})
    tree.writeFile('usr/bin/x32', syntheticElf({elfClass: 32, machine: EM_X86_64, needed: ['libnope.so']}), owner)
    addElf(tree, 'usr/lib/modules/6.1/kernel/foo.ko', {needed: ['libnope.so']})
    tree.writeFile('usr/bin/script', '#!/bin/sh\n', owner)
    expect(checkLibraryClosure(tree, AMD64)).toEqual([])
    expect(checkLibraryClosure(tree, {machine: EM_AARCH64}).map((p) => p.kind)).toEqual(['interpreter', 'needed'])
  })
})

describe('describeClosureProblems', () => {
  it('groups by missing library and caps the paths listed', () => {
    const problems: ClosureProblem[] = [
      ...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => ({path: `usr/bin/${n}`, missing: 'libfoo.so.1', kind: 'needed' as const})),
      {path: 'usr/bin/a', missing: '/lib64/ld-linux-x86-64.so.2', kind: 'interpreter'},
    ]
    expect(describeClosureProblems(problems)).toBe(
      [
        '2 shared libraries are needed but missing from the image:',
        '  interpreter /lib64/ld-linux-x86-64.so.2 (needed by /usr/bin/a)',
        '  libfoo.so.1 (needed by /usr/bin/a, /usr/bin/b, /usr/bin/c, /usr/bin/d, /usr/bin/e, and 2 more)',
      ].join('\n'),
    )
  })
})
