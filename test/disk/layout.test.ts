import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {formatDiagnostic} from '../../src/core/diagnostics.js'
import {DiagnosticsError} from '../../src/core/errors.js'
import {type LayoutLayer, loadLayout, mergeLayoutLayers, parseLayoutFile, parseSize} from '../../src/disk/layout.js'

function layer(file: string, text: string): LayoutLayer {
  const {layer, diagnostics} = parseLayoutFile(file, text)
  expect(diagnostics).toEqual([])
  return layer!
}

function rendered(file: string, text: string): string[] {
  return parseLayoutFile(file, text).diagnostics.map((d) => formatDiagnostic(d).split('\n')[0]!)
}

const MiB = 1 << 20
const GiB = 1 << 30

describe('shipped layouts', () => {
  it('base: ESP, two A/B slots with verity, OEM, ROOT growing', () => {
    const l = loadLayout('base')
    expect(l.name).toBe('base')
    expect(l.disk).toEqual({alignment: MiB, sizeAlignment: 4096})
    expect(l.partitions.map((p) => [p.number, p.name, p.type, p.size, p.content, p.slot ?? '-', p.grow])).toEqual([
      [1, 'EFI-SYSTEM', 'esp', GiB, 'vfat', '-', false],
      [2, 'USR-A', 'usr', 2 * GiB, 'usr', 'A', false],
      [3, 'USR-A-verity', 'usr-verity', 64 * MiB, 'verity', 'A', false],
      [4, 'USR-B', 'usr', 2 * GiB, 'usr', 'B', false],
      [5, 'USR-B-verity', 'usr-verity', 64 * MiB, 'verity', 'B', false],
      [6, 'OEM', 'linux-data', 128 * MiB, 'ext4', '-', false],
      [7, 'ROOT', 'root', 2 * GiB, 'ext4', '-', true],
    ])
    expect(l.partitions[1]!.attributes).toEqual({priority: 1, successful: true, readOnly: true})
  })

  it('azure overlays the base: disk size rounded to whole MiB, partitions unchanged', () => {
    const l = loadLayout('azure')
    expect(l.files.map((f) => f.replace(/^.*\//, ''))).toEqual(['base.yaml', 'azure.yaml'])
    expect(l.disk.sizeAlignment).toBe(MiB)
    expect(l.partitions).toEqual(loadLayout('base').partitions)
  })

  it('parses sizes with binary suffixes', () => {
    expect([parseSize('4KiB'), parseSize('512 MiB'), parseSize('2GiB'), parseSize(1024), parseSize('7')]).toEqual([4096, 512 * MiB, 2 * GiB, 1024, 7])
  })
})

describe('layout diagnostics', () => {
  it('reports every schema problem located at FILE:LINE:COL', () => {
    const text = ['disk:', '  alignmnet: 1MiB', 'partitions:', '  - name: ESP', '    type: efi', '    size: 12 parsecs', '    content: vfat', '  - type: esp', ''].join('\n')
    expect(rendered('bad.yaml', text)).toEqual([
      "bad.yaml:2:3: error: unknown key 'alignmnet' in 'disk'",
      "bad.yaml:5:11: error: 'partitions[0].type' must be one of: esp, xbootldr, bios-boot, linux-data, root, root-verity, usr, usr-verity, usr-verity-sig, coreos-usr, coreos-resize, coreos-reserved",
      "bad.yaml:6:11: error: 'partitions[0].size' has an invalid value '12 parsecs'",
      "bad.yaml:8:5: error: missing required key 'name' in 'partitions[1]'",
    ])
  })

  it('reports YAML syntax errors located', () => {
    expect(rendered('syntax.yaml', 'partitions:\n  - name: [ESP\n')[0]).toMatch(/^syntax\.yaml:\d+:\d+: error: /)
  })

  it('checks the merged layout: missing fields, slots, growers, overlay references', () => {
    const base = layer('base.yaml', ['partitions:', '  - {name: USR-A, type: usr, size: 1MiB, content: usr}', '  - {name: ROOT, type: root, size: 1MiB, content: ext4, grow: true}', ''].join('\n'))
    const overlay = layer(
      'over.yaml',
      [
        'extends: base.yaml',
        'partitions:',
        '  - {name: OEM, size: 1000}',
        '  - {name: GONE, remove: true}',
        '  - {name: DATA, type: linux-data, size: 1MiB, content: ext4, grow: true, after: NOPE}',
        '  - {name: HASH, type: usr-verity, size: 1MiB, content: verity, slot: B}',
        '',
      ].join('\n'),
    )
    const {layout, diagnostics} = mergeLayoutLayers('over', [base, overlay])
    expect(layout).toBeUndefined()
    expect(diagnostics.map((d) => formatDiagnostic(d).split('\n')[0])).toEqual([
      "over.yaml:4:12: error: cannot remove 'GONE': no such partition in the layouts below this one",
      "over.yaml:5:82: error: no partition named 'NOPE' to place 'DATA' after",
      "over.yaml:3:12: error: partition 'OEM' has no type, content",
      "over.yaml:3:23: error: size of 'OEM' (1000 bytes) is not a whole number of 512-byte sectors",
      "over.yaml:5:12: error: only one partition may grow; 'ROOT' already does",
      "base.yaml:2:12: error: partition 'USR-A' holds usr but names no slot (A or B)",
      "over.yaml:6:12: error: slot B has a verity partition but no usr partition",
    ])
  })

  it('an overlay replaces the fields it names, attributes key by key, and inserts after an anchor', () => {
    const base = layer('b.yaml', ['partitions:', '  - {name: A, type: usr, size: 1MiB, content: usr, slot: A, attributes: {priority: 1, readOnly: true}}', '  - {name: Z, type: root, size: 1MiB, content: ext4}', ''].join('\n'))
    const over = layer('o.yaml', ['partitions:', '  - {name: A, size: 2MiB, attributes: {priority: 3}}', '  - {name: M, type: linux-data, size: 1MiB, content: empty, after: A}', ''].join('\n'))
    const {layout} = mergeLayoutLayers('o', [base, over])
    expect(layout!.partitions.map((p) => [p.name, p.size])).toEqual([
      ['A', 2 * MiB],
      ['M', MiB],
      ['Z', MiB],
    ])
    expect(layout!.partitions[0]!.attributes).toEqual({priority: 3, readOnly: true})
  })

  it('numbers partitions: pinned numbers kept, the rest one more than the partition before; collisions reported', () => {
    const base = layer('b.yaml', ['partitions:', '  - {name: ESP, number: 1, type: esp, size: 1MiB, content: vfat}', '  - {name: ROOT, number: 9, type: root, size: 1MiB, content: ext4}', '  - {name: DATA, type: linux-data, size: 1MiB, content: ext4}', ''].join('\n'))
    expect(mergeLayoutLayers('b', [base]).layout!.partitions.map((p) => [p.name, p.number])).toEqual([
      ['ESP', 1],
      ['ROOT', 9],
      ['DATA', 10],
    ])
    const clash = layer('o.yaml', ['partitions:', '  - {name: X, type: linux-data, size: 1MiB, content: empty, after: ESP, number: 10}', '  - {name: ESP, size: 2MiB}', '  - {name: ESP, size: 3MiB}', ''].join('\n'))
    expect(mergeLayoutLayers('o', [base, clash]).diagnostics.map((d) => formatDiagnostic(d).split('\n')[0])).toEqual([
      "o.yaml:4:12: error: partition 'ESP' is listed twice in this file",
      "b.yaml:4:12: error: partitions 'X' and 'DATA' would both be number 10; pin distinct numbers",
    ])
  })

  it('loadLayout follows extends across files and throws all problems together', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-layout-'))
    writeFileSync(join(dir, 'a.yaml'), 'extends: b.yaml\npartitions:\n  - {name: X, size: 3MiB}\n')
    writeFileSync(join(dir, 'b.yaml'), 'extends: a.yaml\n')
    expect(() => loadLayout(join(dir, 'a.yaml'))).toThrow(DiagnosticsError)
    try {
      loadLayout(join(dir, 'a.yaml'))
    } catch (err) {
      expect((err as DiagnosticsError).render()).toMatch(/:1:10: error: extends cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml/)
    }
    writeFileSync(join(dir, 'c.yaml'), 'extends: missing.yaml\n')
    expect(() => loadLayout(join(dir, 'c.yaml'))).toThrow(/extended layout not found/)
    expect(() => loadLayout('no-such-platform')).toThrow(/layout not found/)
  })
})
