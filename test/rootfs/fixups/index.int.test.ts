import {lstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runFixups} from '../../../src/rootfs/fixups/index.js'
import type {NamedFixupResult} from '../../../src/rootfs/fixups/types.js'
import {resolveInTree} from '../../../src/rootfs/fixups/util.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree, testRecipe} from './real-tree.js'

/**
 * Every fix-up, in registry order, over a base-like set of real bookworm packages (no kernel: depmod has its
 * own test), built twice: the two results must agree byte for byte, and disk and manifest must agree.
 */
const PACKAGES = [
  'base-files', 'base-passwd', 'bash', 'libc6', 'libc-bin', 'systemd', 'udev', 'dbus', 'dbus-daemon', 'dbus-system-bus-common',
  'openssh-server', 'openssh-client', 'systemd-timesyncd', 'systemd-resolved', 'util-linux', 'iptables', 'ca-certificates', 'sudo', 'e2fsprogs', 'kmod',
  'libpam-runtime', 'libpam-modules', 'debianutils', 'netbase', 'login', 'iputils-ping',
]
const recipe = testRecipe({
  groups: [{name: 'docker', system: true}],
  users: [{name: 'core', uid: 500, gecos: 'CoreOS Admin', home: '/home/core', shell: '/bin/bash', groups: ['sudo', 'docker', 'systemd-journal'], system: false}],
  files: [{path: '/etc/sudoers.d/core', mode: 0o440, uid: 0, gid: 0, content: 'core ALL=(ALL) NOPASSWD: ALL\n'}],
  units: {enable: ['ssh.service', 'systemd-networkd.service'], disable: [], mask: ['apt-daily.timer']},
})
const exclude = ['/usr/share/doc/**', '/usr/share/man/**', '/usr/share/locale/**']

const bases: string[] = []
const builds: Array<{tree: RootTree; results: NamedFixupResult[]}> = []

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const {tree, packages, base} = await realTree(PACKAGES, {exclude})
    bases.push(base)
    builds.push({tree, results: await runFixups(context(tree, packages, recipe))})
  }
})
afterAll(async () => {
  for (const b of bases) await rm(b, {recursive: true, force: true})
})

function diskEntries(root: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(join(root, rel))) {
    const path = rel ? `${rel}/${name}` : name
    const st = lstatSync(join(root, path))
    if (st.isDirectory()) {
      out.set(path, 'dir')
      diskEntries(root, path, out)
    } else out.set(path, st.isSymbolicLink() ? `symlink:${readlinkSync(join(root, path))}` : 'file')
  }
  return out
}

describe('all fix-ups on a base-like tree', () => {
  it('reports every fix-up, in registry order', () => {
    const names = builds[0]!.results.map((r) => r.name)
    expect(names.slice(0, 3)).toEqual(['merged-usr', 'package-manager-leftovers', 'accounts'])
    expect(names.at(-1)).toBe('depmod')
  })

  it('orders the real resolved, timesyncd, journal-flush and update-utmp units beside the boot (as bookworm ships them)', () => {
    const {tree, results} = builds[0]!
    const unit = readFileSync(tree.hostPath('usr/lib/systemd/system/systemd-resolved.service'), 'utf8')
    const before = unit.split('\n').filter((l) => l.startsWith('Before='))
    expect(before).toHaveLength(1)
    expect(before[0]!.split('=')[1]!.split(' ')).toEqual(expect.arrayContaining(['nss-lookup.target', 'network-online.target']))
    expect(before[0]).not.toMatch(/\b(sysinit|network)\.target\b/)
    const timesyncd = readFileSync(tree.hostPath('usr/lib/systemd/system/systemd-timesyncd.service'), 'utf8')
    expect(timesyncd.split('\n').filter((l) => l.startsWith('Before='))).toEqual(['Before=time-set.target shutdown.target'])
    const flush = readFileSync(tree.hostPath('usr/lib/systemd/system/systemd-journal-flush.service'), 'utf8')
    expect(flush).not.toMatch(/^Before=/m)
    expect(flush).toMatch(/^After=systemd-journald\.service systemd-remount-fs\.service$/m)
    const utmp = readFileSync(tree.hostPath('usr/lib/systemd/system/systemd-update-utmp.service'), 'utf8')
    expect(utmp.split('\n').filter((l) => l.startsWith('Before='))).toEqual(['Before=shutdown.target'])
    expect(results.find((r) => r.name === 'unit-order')?.facts.ordering).toEqual([
      'systemd-journal-flush.service: beside the boot',
      'systemd-resolved.service: beside the boot',
      'systemd-timesyncd.service: beside the boot',
      'systemd-update-utmp.service: beside the boot',
    ])
  })

  it('is reproducible: same manifest, same results, same bytes for everything the fix-ups wrote', () => {
    const [a, b] = builds as [(typeof builds)[0], (typeof builds)[0]]
    expect(b.results).toEqual(a.results)
    const strip = (t: RootTree) => t.sorted().map((e) => ({...e}))
    expect(strip(b.tree)).toEqual(strip(a.tree))
    for (const r of a.results) {
      for (const path of r.written) {
        if (a.tree.get(path)?.type !== 'file') continue
        expect(readFileSync(b.tree.hostPath(path)).equals(readFileSync(a.tree.hostPath(path))), path).toBe(true)
      }
    }
  })

  it('leaves disk and manifest in agreement (every tool-made file recorded, nothing stale)', () => {
    const {tree} = builds[0]!
    const disk = diskEntries(tree.dir)
    const manifest = new Map(
      tree.sorted().filter((e) => e.path !== '' && ['file', 'dir', 'symlink', 'hardlink'].includes(e.type)).map((e) => [e.path, e.type === 'symlink' ? `symlink:${e.linkTarget}` : e.type === 'hardlink' ? 'file' : e.type]),
    )
    expect([...disk].filter(([p, t]) => manifest.get(p) !== t)).toEqual([])
    expect([...manifest].filter(([p, t]) => disk.get(p) !== t)).toEqual([])
  })

  it('wires the alternatives to files that exist in the image', () => {
    const {tree} = builds[0]!
    for (const link of ['usr/sbin/iptables', 'usr/sbin/ip6tables-save', 'usr/bin/pager']) {
      const target = resolveInTree(tree, link)
      expect(tree.get(target)?.type, `${link} → ${target}`).toBe('file')
    }
    expect(resolveInTree(tree, 'usr/sbin/iptables')).toBe('usr/sbin/xtables-nft-multi')
  })

  it('ships the image identity and first-boot markers', () => {
    const {tree} = builds[0]!
    expect(readFileSync(tree.hostPath('etc/os-release'), 'utf8')).toContain('VARIANT_ID="alpha"\n')
    expect(readFileSync(tree.hostPath('etc/machine-id'), 'utf8')).toBe('uninitialized\n')
    expect(tree.get('etc/hostname')).toBeUndefined()
    expect(tree.get('var/lib/dpkg')).toBeUndefined()
    expect(tree.get('usr/lib/dbus-1.0/dbus-daemon-launch-helper')).toMatchObject({mode: 0o4754})
    expect(tree.get('etc/sudoers.d/core')).toMatchObject({mode: 0o440})
    expect(tree.get('etc/sudoers')).toMatchObject({mode: 0o440})
    expect(tree.get('usr/local/share/ca-certificates')).toMatchObject({type: 'dir', mode: 0o755})
    for (const f of ['etc/pam.d/common-auth', 'etc/shells', 'etc/hosts', 'etc/subuid']) expect(tree.get(f)?.type, f).toBe('file')
    expect(readFileSync(tree.hostPath('etc/subuid'), 'utf8')).toBe('core:100000:65536\n')
    expect(tree.get('usr/bin/ping')).toMatchObject({mode: 0o4755})
    // base-files' and kmod's postinst effects
    expect(readFileSync(tree.hostPath('etc/profile'), 'utf8')).toBe(readFileSync(tree.hostPath('usr/share/base-files/profile'), 'utf8'))
    expect(tree.get('var/run')).toMatchObject({type: 'symlink', linkTarget: '/run'})
    expect(tree.get('etc/modules')?.type).toBe('file')
  })
})
