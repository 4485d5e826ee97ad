import {describe, expect, it} from 'vitest'
import {FORMAT_NAMES, FORMATS} from '../../src/platforms/formats.js'
import {artifactName, formatsFor, groupPlatforms, optionalFormatNames, parsePlatformList} from '../../src/platforms/plan.js'
import {PLATFORM_NAMES, PLATFORMS} from '../../src/platforms/registry.js'
import {loadLayout} from '../../src/disk/layout.js'

describe('the platform registry', () => {
  it('has the ten targets of the issue once PXE and ISO land, each with formats that exist', () => {
    expect(PLATFORM_NAMES).toEqual(expect.arrayContaining(['qemu', 'metal', 'aws', 'gcp', 'azure', 'vmware', 'openstack', 'digitalocean']))
    for (const name of PLATFORM_NAMES) {
      const spec = PLATFORMS[name]
      expect(spec.formats.length, name).toBeGreaterThan(0)
      for (const f of [...spec.formats, ...('optionalFormats' in spec ? spec.optionalFormats : [])]) expect(FORMAT_NAMES, `${name}: ${f}`).toContain(f)
      expect(() => loadLayout(spec.layout), name).not.toThrow()
    }
  })

  it('gives every platform its own ignition.platform.id and an oem-release naming it', () => {
    for (const name of PLATFORM_NAMES) {
      expect((PLATFORMS[name].oem as Record<string, string>)['oem-release']).toMatch(new RegExp(`^ID=${PLATFORMS[name].ignitionPlatformId}\\n`))
    }
    // The live targets (PXE, ISO) are bare metal to Ignition: the metal provider reads ignition.config.url=.
    const live: readonly string[] = ['pxe', 'iso']
    const disks = PLATFORM_NAMES.filter((p) => !live.includes(p))
    expect(new Set(disks.map((p) => PLATFORMS[p].ignitionPlatformId)).size).toBe(disks.length)
    for (const p of PLATFORM_NAMES.filter((n) => live.includes(n))) expect(PLATFORMS[p].ignitionPlatformId).toBe('metal')
  })

  it('bakes --config only where there is no metadata source', () => {
    expect(PLATFORM_NAMES.filter((p) => PLATFORMS[p].bakedConfig)).toEqual(PLATFORM_NAMES.filter((p) => ['metal', 'pxe', 'iso'].includes(p)))
  })

  it('names files by suffix; every suffix is distinct', () => {
    const suffixes = FORMAT_NAMES.map((f) => FORMATS[f].suffix)
    expect(new Set(suffixes).size).toBe(suffixes.length)
    expect(artifactName({name: 'keel', version: '0.1.0'}, 'qemu', FORMATS.qcow2.suffix)).toBe('keel-0.1.0-qemu.qcow2')
    expect(artifactName({name: 'keel', version: '0.1.0'}, 'gcp', FORMATS['tar.gz'].suffix)).toBe('keel-0.1.0-gcp.tar.gz')
  })
})

describe('formatsFor / optionalFormatNames', () => {
  it('adds an optional format only where the platform offers it', () => {
    expect(formatsFor('metal')).toEqual(['raw', 'raw.zst'])
    expect(formatsFor('metal', ['raw.xz'])).toEqual(['raw', 'raw.zst', 'raw.xz'])
    expect(formatsFor('qemu', ['raw.xz'])).toEqual(['qcow2'])
    expect(optionalFormatNames()).toEqual(['raw.xz'])
  })
})

describe('groupPlatforms', () => {
  it('gives platforms with different platform ids different disks, in command-line order', () => {
    const groups = groupPlatforms(['metal', 'qemu', 'aws'], {config: false})
    expect(groups.map((g) => g.platforms.map((p) => p.name))).toEqual([['metal'], ['qemu'], ['aws']])
    expect(groups.map((g) => g.layout)).toEqual(['base', 'qemu', 'base'])
    expect(groups.find((g) => g.platforms[0]!.name === 'aws')!.kernelArgs).toEqual(['nvme_core.io_timeout=4294967295'])
  })

  it('marks the baked config on the platforms that take it, and only with --config', () => {
    expect(groupPlatforms(['metal', 'qemu'], {config: true}).map((g) => g.bakedConfig)).toEqual([true, false])
    expect(groupPlatforms(['metal'], {config: false})[0]!.bakedConfig).toBe(false)
  })

  it('has stable keys: the same platform set gives the same scratch names', () => {
    expect(groupPlatforms(['qemu', 'gcp'], {config: false}).map((g) => g.key)).toEqual(groupPlatforms(['gcp', 'qemu'], {config: false}).map((g) => g.key).reverse())
  })

  it('refuses duplicates and an empty list', () => {
    expect(() => groupPlatforms(['qemu', 'qemu'], {config: false})).toThrow(/given twice: qemu/)
    expect(() => groupPlatforms([], {config: false})).toThrow(/no platform/)
  })
})

describe('parsePlatformList', () => {
  it('splits on commas, trims, reports unknown names together', () => {
    expect(parsePlatformList('qemu, metal,aws')).toEqual({platforms: ['qemu', 'metal', 'aws'], unknown: []})
    expect(parsePlatformList('qemu,vbox,hyperv')).toEqual({platforms: ['qemu'], unknown: ['vbox', 'hyperv']})
  })
})
