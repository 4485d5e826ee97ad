import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {type Diagnostic, formatDiagnostics} from '../../src/core/diagnostics.js'
import {DiagnosticsError} from '../../src/core/errors.js'
import {FILESYSTEMS} from '../../src/fsimage/registry.js'
import {loadRecipe} from '../../src/recipe/load.js'

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'keel-recipe-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text)
  return d
}

/** The diagnostics loadRecipe(file) fails with; the test fails when it does not throw a DiagnosticsError. */
function diagnosticsOf(file: string): Diagnostic[] {
  let caught: unknown
  try {
    loadRecipe(file)
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(DiagnosticsError)
  return (caught as DiagnosticsError).diagnostics
}

describe('loadRecipe', () => {
  it('merges includes: scalars override, lists append, keyed lists replace, exclude wins', () => {
    const d = dir({
      'base.yaml': [
        'image: {name: base, version: "1.0", channel: alpha}',
        'packages: [systemd, apt, curl]',
        'exclude: {paths: [/usr/share/doc/**, /usr/bin/**], keep: [/usr/bin/bash]}',
        'users: [{name: core, uid: 500, shell: /bin/sh}]',
        'files: [{path: /etc/motd, content: base}]',
        'units: {enable: [ssh.service]}',
        'kernel: {cmdline: [console=ttyS0]}',
      ].join('\n'),
      'variant.yaml': [
        'include: [base.yaml]',
        'image: {name: variant}',
        'packages: [docker.io]',
        'exclude: {packages: [apt], paths: [/usr/share/man/**], keep: [/usr/bin/mount, /usr/bin/bash]}',
        'users: [{name: core, uid: 500, shell: /bin/bash}]',
        'files: [{path: /etc/motd, content: variant}, {path: /etc/issue, content: hi}]',
        'units: {enable: [docker.service]}',
        'kernel: {cmdline: [quiet]}',
      ].join('\n'),
    })
    const {recipe} = loadRecipe(join(d, 'variant.yaml'))
    expect(recipe.sourceFiles).toEqual([join(d, 'base.yaml'), join(d, 'variant.yaml')])
    expect(recipe.image).toEqual({id: 'keel', name: 'variant', version: '1.0', channel: 'alpha'})
    expect(recipe.packages.map((p) => p.name)).toEqual(['systemd', 'curl', 'docker.io'])
    expect(recipe.exclude).toEqual({
      packages: ['apt'],
      paths: ['/usr/share/doc/**', '/usr/bin/**', '/usr/share/man/**'],
      keep: ['/usr/bin/bash', '/usr/bin/mount'],
    })
    expect(recipe.users).toEqual([{name: 'core', uid: 500, shell: '/bin/bash', groups: [], system: false}])
    expect(recipe.files.map((f) => [f.path, f.content])).toEqual([
      ['/etc/motd', 'variant'],
      ['/etc/issue', 'hi'],
    ])
    expect(recipe.units.enable).toEqual(['ssh.service', 'docker.service'])
    expect(recipe.kernel.cmdline).toEqual(['console=ttyS0', 'quiet'])
    // The default source applies when no layer names one.
    expect(recipe.distribution).toEqual({architecture: 'amd64', essential: true, sources: [{suites: ['bookworm'], components: ['main']}]})
    // Locations point into the file that listed the package.
    expect(recipe.locations.packages.get('docker.io')?.line).toBe(3)
    expect(recipe.locations.packages.get('curl')?.file).toMatch(/base\.yaml$/)
  })

  it('reports problems of every file together, and include cycles', () => {
    const d = dir({
      'a.yaml': 'include: [b.yaml]\nbogus: 1\n',
      'b.yaml': 'include: [a.yaml]\npackages: [Bad!]\n',
    })
    const messages = diagnosticsOf(join(d, 'a.yaml')).map((x) => `${x.location?.file.replace(/.*\//, '')}:${x.location?.line} ${x.message.split(' (')[0]}`)
    expect(messages).toContain("a.yaml:2 unknown key 'bogus' at the top level")
    expect(messages).toContain("b.yaml:2 'packages[0]' has an invalid value")
  })

  it('detects an include cycle with the chain', () => {
    const d = dir({'a.yaml': 'include: [b.yaml]\n', 'b.yaml': 'include: [a.yaml]\n'})
    expect(() => loadRecipe(join(d, 'a.yaml'))).toThrow(/include cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml/)
  })

  it('resolves file sources against the recipe folder and reports missing ones', () => {
    const d = dir({'r.yaml': 'files:\n  - path: /etc/x\n    source: files/missing.conf\n'})
    expect(diagnosticsOf(join(d, 'r.yaml'))[0]!.location!.line).toBe(2)
  })

  it('merges usr: a variant inherits the base\'s choice; naming another filesystem resets the compression', () => {
    const d = dir({
      'base.yaml': 'usr:\n  filesystem: squashfs\n  compression: xz\n',
      'same.yaml': 'include: [base.yaml]\n',
      'level.yaml': 'include: [base.yaml]\nusr: {compression: "zstd,19"}\n',
      'other.yaml': 'include: [base.yaml]\nusr: {filesystem: erofs}\n',
      'plain.yaml': 'packages: [bash]\n',
    })
    expect(loadRecipe(join(d, 'same.yaml')).recipe.usr).toEqual({filesystem: 'squashfs', compression: 'xz'})
    expect(loadRecipe(join(d, 'level.yaml')).recipe.usr).toEqual({filesystem: 'squashfs', compression: 'zstd,19'})
    expect(loadRecipe(join(d, 'other.yaml')).recipe.usr).toEqual({filesystem: 'erofs', compression: FILESYSTEMS.erofs.defaultCompression})
    expect(loadRecipe(join(d, 'plain.yaml')).recipe.usr).toEqual({filesystem: 'erofs', compression: FILESYSTEMS.erofs.defaultCompression})
  })

  it('reports a compression the inherited filesystem lacks as FILE:LINE:COL, with a caret and where the filesystem was chosen', () => {
    const d = dir({
      'base.yaml': 'usr:\n  filesystem: squashfs\n',
      'variant.yaml': 'include: [base.yaml]\nusr:\n  compression: lz4hc,12\n',
    })
    const text = formatDiagnostics(diagnosticsOf(join(d, 'variant.yaml'))).replaceAll(`${d}/`, '')
    expect(text).toBe(
      [
        `variant.yaml:3:16: error: squashfs has no compression 'lz4hc,12'; choose one of: ${Object.keys(FILESYSTEMS.squashfs.compressions).join(', ')}`,
        '    compression: lz4hc,12',
        '                 ^~~~~~~~',
        'base.yaml:2:15: note: the /usr filesystem squashfs is chosen here',
        '    filesystem: squashfs',
        '                ^~~~~~~~',
        '1 error generated.',
      ].join('\n'),
    )
  })

  it('loads the shipped recipes', () => {
    for (const name of ['base', 'docker', 'etcd']) {
      const {recipe, diagnostics} = loadRecipe(`recipes/${name}.yaml`)
      expect(diagnostics).toEqual([])
      expect(recipe.packages.map((p) => p.name)).toContain('systemd')
      // No package manager and no initramfs generator in the image: keel builds the initrd from its own recipe.
      expect(recipe.exclude.packages).toEqual(['apt', 'dpkg', 'initramfs-tools', 'initramfs-tools-core', 'klibc-utils', 'libklibc'])
      expect(recipe.packages.map((p) => p.name)).not.toContain('dracut')
      expect(recipe.packages.map((p) => p.name)).not.toContain('ignition')
    }
    expect(loadRecipe('recipes/docker.yaml').recipe.packages.map((p) => p.name)).toContain('docker.io')
    expect(loadRecipe('recipes/etcd.yaml').recipe.image.name).toBe('keel-etcd')
  })
})
