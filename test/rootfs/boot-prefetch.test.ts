import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {BOOT_PREFETCH_LIST, bootUnits, installBootPrefetch, planBootPrefetch, unitPrograms} from '../../src/rootfs/boot-prefetch.js'
import {EM_X86_64} from '../../src/rootfs/elf.js'
import type {RootTree} from '../../src/rootfs/tree.js'
import {syntheticTree} from './fixups/synthetic-tree.js'
import {syntheticElf} from './synthetic-elf.js'

const owner = {owner: 'test'}
const UNITS = 'usr/lib/systemd/system'
const LIBDIR = 'usr/lib/x86_64-linux-gnu'
const INTERP = '/lib64/ld-linux-x86-64.so.2'

function elf(tree: RootTree, path: string, spec: {needed?: string[]; runpath?: string; interpreter?: string} = {}): void {
  tree.mkdirp(path.slice(0, path.lastIndexOf('/')), owner)
  tree.writeFile(path, syntheticElf({elfClass: 64, machine: EM_X86_64, type: spec.interpreter ? 2 : 3, ...spec}), {...owner, mode: 0o755})
}

function unit(tree: RootTree, name: string, text: string, dir = UNITS): void {
  tree.mkdirp(dir, owner)
  tree.writeFile(`${dir}/${name}`, text, owner)
}

function wants(tree: RootTree, target: string, name: string, dir = UNITS): void {
  tree.mkdirp(`${dir}/${target}.wants`, owner)
  tree.symlink(`${dir}/${target}.wants/${name}`, `../${name}`, owner)
}

/** A small systemd image: PID 1 with a private library, one service per boot target, a template, a script. */
function bootTree(): RootTree {
  const tree = syntheticTree()
  tree.mkdirp('usr/lib64', owner)
  tree.symlink('lib64', 'usr/lib64', owner)
  elf(tree, `${LIBDIR}/ld-linux-x86-64.so.2`)
  tree.symlink('usr/lib64/ld-linux-x86-64.so.2', `../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`, owner)
  elf(tree, `${LIBDIR}/libc.so.6`)
  elf(tree, `${LIBDIR}/libkmod.so.2.4.0`, {needed: ['libc.so.6']})
  tree.symlink(`${LIBDIR}/libkmod.so.2`, 'libkmod.so.2.4.0', owner)
  elf(tree, `${LIBDIR}/systemd/libsystemd-shared-252.so`, {needed: ['libkmod.so.2', 'libc.so.6']})
  elf(tree, 'usr/lib/systemd/systemd', {interpreter: INTERP, needed: ['libsystemd-shared-252.so', 'libc.so.6'], runpath: '/usr/lib/x86_64-linux-gnu/systemd'})
  elf(tree, 'usr/lib/systemd/system-generators/systemd-fstab-generator', {interpreter: INTERP, needed: ['libc.so.6']})
  elf(tree, 'usr/lib/systemd/systemd-journald', {interpreter: INTERP, needed: ['libc.so.6']})
  elf(tree, 'usr/lib/systemd/systemd-remount-fs', {interpreter: INTERP, needed: ['libc.so.6']})
  elf(tree, 'usr/bin/systemd-tmpfiles', {interpreter: INTERP, needed: ['libc.so.6']})
  elf(tree, 'usr/bin/kmod', {interpreter: INTERP, needed: ['libkmod.so.2']})
  tree.symlink('usr/sbin/modprobe', '../bin/kmod', owner)
  elf(tree, 'usr/bin/mount', {interpreter: INTERP, needed: ['libc.so.6']})
  elf(tree, 'usr/bin/dash', {interpreter: INTERP, needed: ['libc.so.6']})
  tree.symlink('usr/bin/sh', 'dash', owner)
  elf(tree, 'usr/bin/big-daemon', {interpreter: INTERP, needed: ['libc.so.6']})
  tree.mkdirp('usr/lib/keel', owner)
  tree.writeFile('usr/lib/keel/firstboot-done', '#!/bin/sh\ntrue\n', {...owner, mode: 0o755})
  tree.mkdirp('usr/lib/modules/6.1.0-test', owner)
  tree.writeFile('usr/lib/modules/6.1.0-test/modules.dep.bin', 'dep', owner)
  tree.writeFile('usr/lib/modules/6.1.0-test/modules.order', 'order', owner)

  unit(tree, 'sysinit.target', '[Unit]\nWants=local-fs.target\n')
  unit(tree, 'local-fs.target', '[Unit]\n')
  unit(tree, 'basic.target', '[Unit]\nRequires=sysinit.target\n')
  unit(tree, 'multi-user.target', '[Unit]\nRequires=basic.target\n')
  tree.symlink(`${UNITS}/default.target`, 'multi-user.target', owner)
  unit(tree, 'systemd-journald.service', '[Service]\nExecStart=/lib/systemd/systemd-journald\n')
  wants(tree, 'sysinit.target', 'systemd-journald.service')
  unit(tree, 'systemd-remount-fs.service', '[Service]\nExecStart=/lib/systemd/systemd-remount-fs\n')
  unit(tree, 'systemd-tmpfiles-setup.service', '[Service]\nExecStart=systemd-tmpfiles --create\n')
  wants(tree, 'sysinit.target', 'systemd-tmpfiles-setup.service')
  unit(tree, 'sys-kernel-config.mount', '[Unit]\nWants=modprobe@configfs.service\n')
  wants(tree, 'sysinit.target', 'sys-kernel-config.mount')
  unit(tree, 'modprobe@.service', '[Service]\nExecStart=-/sbin/modprobe -abq %i\n')
  unit(tree, 'big-daemon.service', '[Service]\nExecStart=/usr/bin/big-daemon\n')
  wants(tree, 'multi-user.target', 'big-daemon.service')
  unit(tree, 'keel-firstboot-done.service', '[Service]\nExecStart=/usr/lib/keel/firstboot-done\n', 'etc/systemd/system')
  wants(tree, 'multi-user.target', 'keel-firstboot-done.service', 'etc/systemd/system')
  unit(tree, 'never-wanted.service', '[Service]\nExecStart=/usr/bin/never\n')
  return tree
}

describe('bootUnits', () => {
  it('walks the boot targets in order through .wants links, Wants=/Requires= lines, templates, /etc, and what the fstab generator adds', () => {
    const units = bootUnits(bootTree())
    expect(units[0]).toBe('sysinit.target')
    expect(units).toContain('local-fs.target')
    expect(units).toEqual(expect.arrayContaining(['systemd-journald.service', 'systemd-remount-fs.service', 'sys-kernel-config.mount', 'modprobe@configfs.service', 'keel-firstboot-done.service', 'big-daemon.service']))
    expect(units).not.toContain('never-wanted.service')
    expect(units.indexOf('systemd-journald.service')).toBeLessThan(units.indexOf('multi-user.target'))
  })
})

describe('unitPrograms', () => {
  it('reads Exec lines without their prefixes, resolves bare names in systemd\'s search path, and gives mount units mount(8)', () => {
    const tree = bootTree()
    expect(unitPrograms(tree, 'modprobe@configfs.service')).toEqual(['sbin/modprobe'])
    expect(unitPrograms(tree, 'systemd-tmpfiles-setup.service')).toEqual(['usr/bin/systemd-tmpfiles'])
    expect(unitPrograms(tree, 'sys-kernel-config.mount')).toEqual(['usr/bin/mount'])
    expect(unitPrograms(tree, 'no-such.service')).toEqual([])
  })
})

describe('planBootPrefetch', () => {
  it('lists PID 1 and its libraries first, then configuration, module indexes and the boot programs with their closures, relative to /usr', () => {
    const list = planBootPrefetch(bootTree(), EM_X86_64)
    expect(list.slice(0, 5)).toEqual([
      'lib/systemd/systemd',
      'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      'lib/x86_64-linux-gnu/libc.so.6',
      'lib/x86_64-linux-gnu/libkmod.so.2.4.0',
      'lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so',
    ])
    for (const path of ['lib/systemd/system/sysinit.target', 'lib/modules/6.1.0-test/modules.dep.bin', 'lib/systemd/system-generators/systemd-fstab-generator', 'lib/systemd/systemd-journald', 'lib/systemd/systemd-remount-fs', 'bin/systemd-tmpfiles', 'bin/kmod', 'bin/mount', 'bin/dash', 'lib/keel/firstboot-done', 'bin/big-daemon']) {
      expect(list).toContain(path)
    }
    expect(list.indexOf('lib/systemd/system/sysinit.target')).toBeLessThan(list.indexOf('bin/kmod'))
    expect(list).not.toContain('bin/never')
    expect(list).not.toContain('lib/modules/6.1.0-test/modules.order')
    expect(new Set(list).size).toBe(list.length)
  })

  it('skips what does not fit the byte budget and keeps listing smaller files after it', () => {
    const tree = bootTree()
    const full = planBootPrefetch(tree, EM_X86_64)
    const sizes = new Map(full.map((p) => [p, readFileSync(tree.hostPath(`usr/${p}`)).length]))
    tree.writeFile('usr/bin/big-daemon', Buffer.alloc(1 << 20), {...owner, mode: 0o755})
    const budget = [...sizes.values()].reduce((a, b) => a + b, 0)
    const limited = planBootPrefetch(tree, EM_X86_64, budget)
    expect(limited).not.toContain('bin/big-daemon')
    expect(limited).toContain('lib/keel/firstboot-done')
  })
})

describe('installBootPrefetch', () => {
  it('writes the list into /usr, one path per line, and writes nothing for an image without systemd', () => {
    const tree = bootTree()
    const count = installBootPrefetch(tree, 'amd64')
    const text = readFileSync(tree.hostPath(BOOT_PREFETCH_LIST), 'utf8')
    expect(text.split('\n').filter(Boolean)).toHaveLength(count)
    expect(text.endsWith('\n')).toBe(true)
    const bare = syntheticTree()
    expect(installBootPrefetch(bare, 'amd64')).toBe(0)
    expect(bare.get(BOOT_PREFETCH_LIST)).toBeUndefined()
  })
})
