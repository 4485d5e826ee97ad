import {describe, expect, it} from 'vitest'
import {HOST_TOOLS} from '../../src/exec/tools.js'
import {makeErofs, planErofs} from '../../src/fsimage/erofs.js'
import {planMke2fs} from '../../src/fsimage/ext4.js'
import {FILESYSTEM_NAMES, FILESYSTEMS, formatCompression, parseCompression} from '../../src/fsimage/registry.js'
import {planSquashfs} from '../../src/fsimage/squashfs.js'
import {planVfat} from '../../src/fsimage/vfat.js'

describe('FILESYSTEMS registry', () => {
  it('lists the four filesystems keel writes, each with known tools and a valid default compression', () => {
    expect(FILESYSTEM_NAMES).toEqual(['erofs', 'squashfs', 'ext4', 'vfat'])
    for (const name of FILESYSTEM_NAMES) {
      const spec = FILESYSTEMS[name]
      expect(Object.keys(spec.compressions), name).toContain(spec.defaultCompression)
      for (const tool of [...spec.makeTools, ...spec.checkTools]) expect(HOST_TOOLS, `${name}: ${tool}`).toHaveProperty(tool)
      expect(spec.reproducibility.length, name).toBeGreaterThan(0)
    }
  })

  it('offers exactly the compressions the brief and the cloud kernel call for', () => {
    expect(Object.keys(FILESYSTEMS.erofs.compressions)).toEqual(['lz4', 'lz4hc', 'none'])
    expect(FILESYSTEMS.erofs.defaultCompression).toBe('lz4')
    expect(Object.keys(FILESYSTEMS.squashfs.compressions)).toEqual(['zstd', 'xz', 'gzip', 'lz4'])
    expect(Object.keys(FILESYSTEMS.ext4.compressions)).toEqual(['none'])
    expect(Object.keys(FILESYSTEMS.vfat.compressions)).toEqual(['none'])
  })

  it('says which filesystems carry owners from a manifest, and how', () => {
    expect(FILESYSTEM_NAMES.filter((n) => FILESYSTEMS[n].carriesOwnership)).toEqual(['erofs', 'squashfs', 'ext4'])
    for (const n of FILESYSTEM_NAMES) expect('ownership' in FILESYSTEMS[n], n).toBe(FILESYSTEMS[n].carriesOwnership)
  })

  it('holds each filesystem\'s planner and maker', () => {
    expect(FILESYSTEMS.erofs.plan).toBe(planErofs)
    expect(FILESYSTEMS.erofs.make).toBe(makeErofs)
    expect(FILESYSTEMS.squashfs.plan).toBe(planSquashfs)
    expect(FILESYSTEMS.ext4.plan).toBe(planMke2fs)
    expect(FILESYSTEMS.vfat.plan).toBe(planVfat)
    // Each planner's tool is one the entry lists as making the image.
    const toolOf = {
      erofs: FILESYSTEMS.erofs.plan({source: 's', output: 'o', compression: {algorithm: 'lz4'}, uuid: 'u', epoch: 0}).tool,
      squashfs: FILESYSTEMS.squashfs.plan({source: 's', output: 'o', pseudoFile: 'p', compression: {algorithm: 'xz'}, epoch: 0, root: {mode: 0o755, uid: 0, gid: 0}}).tool,
      ext4: FILESYSTEMS.ext4.plan({output: 'o', sizeBytes: 4096 * 256, label: 'L', uuid: 'u', hashSeed: 'h', epoch: 0, configFile: 'c'}).tool,
      vfat: FILESYSTEMS.vfat.plan({output: 'o', sizeBytes: 2 ** 20, label: 'L', volumeId: '01234567'}).tool,
    }
    for (const n of FILESYSTEM_NAMES) expect(FILESYSTEMS[n].makeTools as readonly string[], n).toContain(toolOf[n])
  })
})

describe('parseCompression', () => {
  it('defaults per filesystem and accepts levels with , or :', () => {
    expect(parseCompression('erofs', undefined)).toEqual({algorithm: 'lz4'})
    expect(parseCompression('squashfs', undefined)).toEqual({algorithm: 'zstd'})
    expect(parseCompression('erofs', 'lz4hc,12')).toEqual({algorithm: 'lz4hc', level: 12})
    expect(parseCompression('squashfs', 'zstd:19')).toEqual({algorithm: 'zstd', level: 19})
    expect(formatCompression({algorithm: 'lz4hc', level: 9})).toBe('lz4hc,9')
  })

  it('refuses unknown algorithms and levels out of range, naming what is allowed', () => {
    expect(() => parseCompression('erofs', 'zstd')).toThrow(/erofs has no compression 'zstd'/)
    try {
      parseCompression('erofs', 'xz')
    } catch (err) {
      expect((err as {hint?: string}).hint).toBe('choose one of: lz4, lz4hc, none')
    }
    expect(() => parseCompression('erofs', 'lz4hc,13')).toThrow(/lz4hc takes a level from 0 to 12, not '13'/)
    expect(() => parseCompression('erofs', 'lz4,3')).toThrow(/lz4 takes no level/)
    expect(() => parseCompression('squashfs', 'zstd,x')).toThrow(/not 'x'/)
    expect(() => parseCompression('squashfs', 'gzip,1,2')).toThrow(/no compression/)
  })
})
