import {describe, expect, it} from 'vitest'
import {entryFileName, entryState, espEntries, FIRST_BOOT_ENTRY, loaderConf, parseEntryFileName, SLOT_ENTRY_PATTERN} from '../../src/boot/entries.js'

/** fnmatch as systemd-boot's efi_fnmatch does it for these patterns: '*', '?', and '[...]' sets (no ranges used). */
function fnmatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, (c) => `\\${c}`).replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[\\\+\\\.\]/g, '[+.]')
  return new RegExp(`^${re}$`).test(name)
}

describe('slot boot entry names (Boot Loader Specification boot counting)', () => {
  it('names entries as systemd-boot counts them', () => {
    expect(entryFileName('A')).toBe('keel-a.conf')
    expect(entryFileName('B', {left: 3})).toBe('keel-b+3.conf')
    expect(entryFileName('B', {left: 0, done: 1})).toBe('keel-b+0-1.conf')
    expect(() => entryFileName('B', {left: -1})).toThrow(/whole number/)
  })

  it('parses names back, and says which state each is in', () => {
    expect(parseEntryFileName('keel-b+2-1.conf')).toEqual({slot: 'B', counter: {left: 2, done: 1}})
    expect(parseEntryFileName('keel-a.conf')).toEqual({slot: 'A'})
    expect(parseEntryFileName(FIRST_BOOT_ENTRY)).toBeUndefined()
    expect(parseEntryFileName('debian.conf')).toBeUndefined()
    expect(['keel-a.conf', 'keel-b+1.conf', 'keel-b+0-1.conf', 'keel-a+0.conf'].map(entryState)).toEqual(['good', 'trying', 'bad', 'bad'])
  })

  it('the default pattern matches every slot entry and never the first-boot entry', () => {
    expect(SLOT_ENTRY_PATTERN).toBe('keel-[ab][+.]*')
    for (const n of ['keel-a.conf', 'keel-b.conf', 'keel-b+1.conf', 'keel-b+0-1.conf', 'keel-a+0.conf']) expect(fnmatch(SLOT_ENTRY_PATTERN, n), n).toBe(true)
    for (const n of [FIRST_BOOT_ENTRY, 'keel-c.conf', 'debian.conf']) expect(fnmatch(SLOT_ENTRY_PATTERN, n), n).toBe(false)
  })
})

describe('espEntries', () => {
  const cmdline = (firstBoot: boolean) => `root=PARTLABEL=ROOT${firstBoot ? ' ignition.firstboot' : ''}`
  it('writes slot A and the first-boot entry at build time; only slot entries carry the sort key', () => {
    const files = espEntries({slot: 'A', kernelPath: '/keel/vmlinuz-a', initrdPaths: ['/keel/initrd-a', '/keel/ignition-a.cpio'], cmdline, title: 'keel 1.0 (slot A)', version: '1.0', firstBoot: true})
    expect(Object.keys(files).sort()).toEqual(['loader/entries/keel-a-firstboot.conf', 'loader/entries/keel-a.conf'])
    expect(files['loader/entries/keel-a.conf']).toBe(
      'title keel 1.0 (slot A)\nsort-key keel\nversion 1.0\nlinux /keel/vmlinuz-a\ninitrd /keel/initrd-a\ninitrd /keel/ignition-a.cpio\noptions root=PARTLABEL=ROOT\n',
    )
    expect(files['loader/entries/keel-a-firstboot.conf']).toBe(
      'title keel 1.0 (slot A), first boot\nversion 1.0\nlinux /keel/vmlinuz-a\ninitrd /keel/initrd-a\ninitrd /keel/ignition-a.cpio\noptions root=PARTLABEL=ROOT ignition.firstboot\n',
    )
  })

  it('a new slot is boot-counted; tries outside 1–15 and a first-boot entry for B are refused', () => {
    const base = {slot: 'B' as const, kernelPath: '/keel/vmlinuz-b', initrdPaths: ['/keel/initrd-b'], cmdline, title: 't', version: '2'}
    expect(Object.keys(espEntries({...base, tries: 3}))).toEqual(['loader/entries/keel-b+3.conf'])
    expect(() => espEntries({...base, tries: 0})).toThrow(/1–15/)
    expect(() => espEntries({...base, tries: 16})).toThrow(/1–15/)
    expect(() => espEntries({...base, firstBoot: true})).toThrow(/slot A/)
  })

  it('loader.conf boots the default at once', () => {
    expect(loaderConf(SLOT_ENTRY_PATTERN)).toBe('default keel-[ab][+.]*\ntimeout 0\nconsole-mode keep\neditor no\n')
  })
})
