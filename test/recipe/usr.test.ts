import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {FILESYSTEM_NAMES, FILESYSTEMS} from '../../src/fsimage/registry.js'
import {USR_IMAGE_MAKERS} from '../../src/fsimage/usr.js'
import {mergeUsr, overrideUsr, type UsrLayer} from '../../src/recipe/usr.js'

const at = (line: number) => ({file: 'r.yaml', line, col: 15, lineText: 'x'})
const layers = (...usr: UsrLayer[]) => usr.map((u) => ({usr: u}))

describe('recipe usr: section against the filesystem registry', () => {
  it('the schema offers exactly the read-only registry filesystems that have a /usr maker', () => {
    const schema = JSON.parse(readFileSync('schemas/recipe.schema.json', 'utf8'))
    const fromRegistry = FILESYSTEM_NAMES.filter((n) => FILESYSTEMS[n].readOnly && n in USR_IMAGE_MAKERS)
    expect(schema.properties.usr.properties.filesystem.enum).toEqual(fromRegistry)
    // Writable filesystems never qualify, whatever makers exist.
    expect(fromRegistry).not.toContain('ext4')
  })

  it('defaults to erofs with the registry\'s default compression', () => {
    expect(mergeUsr([])).toEqual({usr: {filesystem: 'erofs', compression: FILESYSTEMS.erofs.defaultCompression}, diagnostics: []})
  })

  it('keeps a compression while the filesystem stays, and normalizes it', () => {
    const {usr, diagnostics} = mergeUsr(layers({compression: 'lz4hc:12'}, {filesystem: 'erofs'}))
    expect(diagnostics).toEqual([])
    expect(usr).toEqual({filesystem: 'erofs', compression: 'lz4hc,12'})
  })

  it('another filesystem without a compression takes that filesystem\'s default', () => {
    const {usr} = mergeUsr(layers({filesystem: 'erofs', compression: 'lz4hc'}, {filesystem: 'squashfs'}))
    expect(usr).toEqual({filesystem: 'squashfs', compression: FILESYSTEMS.squashfs.defaultCompression})
  })

  it('a later compression overrides an earlier one for the same filesystem', () => {
    expect(mergeUsr(layers({filesystem: 'squashfs', compression: 'xz'}, {compression: 'zstd,19'})).usr).toEqual({filesystem: 'squashfs', compression: 'zstd,19'})
  })

  it('reports a compression the filesystem in effect lacks at its location, with where the filesystem was chosen', () => {
    const {usr, diagnostics} = mergeUsr(layers(
      {filesystem: 'squashfs', locations: {filesystem: at(2)}},
      {compression: 'lz4hc,9', locations: {compression: at(7)}},
    ))
    expect(diagnostics).toHaveLength(1)
    const d = diagnostics[0]!
    expect(d.severity).toBe('error')
    expect(d.location?.line).toBe(7)
    expect(d.message).toBe(`squashfs has no compression 'lz4hc,9'; choose one of: ${Object.keys(FILESYSTEMS.squashfs.compressions).join(', ')}`)
    expect(d.notes).toEqual([{message: 'the /usr filesystem squashfs is chosen here', location: at(2)}])
    // The invalid value is not taken.
    expect(usr).toEqual({filesystem: 'squashfs', compression: FILESYSTEMS.squashfs.defaultCompression})
  })

  it('reports a level outside the registry\'s range', () => {
    const {diagnostics} = mergeUsr(layers({compression: 'lz4hc,13', locations: {compression: at(3)}}))
    const [low, high] = FILESYSTEMS.erofs.compressions.lz4hc.levels
    expect(diagnostics.map((d) => d.message)).toEqual([`erofs lz4hc takes a level from ${low} to ${high}, not '13'`])
    expect(diagnostics[0]!.notes![0]!.message).toMatch(/^erofs is the default \/usr filesystem/)
  })
})

describe('overrideUsr (keel build --usr-filesystem / --usr-compression)', () => {
  const recipe = {filesystem: 'erofs', compression: 'lz4hc,12'} as const

  it('no flags: the recipe\'s choice', () => {
    expect(overrideUsr(recipe, {})).toEqual(recipe)
  })

  it('a compression flag overrides the recipe\'s for the same filesystem', () => {
    expect(overrideUsr(recipe, {compression: 'lz4'})).toEqual({filesystem: 'erofs', compression: 'lz4'})
  })

  it('a filesystem flag alone: another filesystem takes its default, the same one keeps the recipe\'s compression', () => {
    expect(overrideUsr(recipe, {filesystem: 'squashfs'})).toEqual({filesystem: 'squashfs', compression: FILESYSTEMS.squashfs.defaultCompression})
    expect(overrideUsr(recipe, {filesystem: 'erofs'})).toEqual(recipe)
  })

  it('both flags', () => {
    expect(overrideUsr(recipe, {filesystem: 'squashfs', compression: 'zstd:19'})).toEqual({filesystem: 'squashfs', compression: 'zstd,19'})
  })

  it('refuses a writable or unknown filesystem and a compression the filesystem lacks, as usage errors', () => {
    const usage = (f: () => unknown): KeelError => {
      try {
        f()
      } catch (err) {
        return err as KeelError
      }
      throw new Error('no error')
    }
    const ext4 = usage(() => overrideUsr(recipe, {filesystem: 'ext4'}))
    expect(ext4).toBeInstanceOf(KeelError)
    expect(ext4.exit).toBe('usage')
    expect(ext4.hint).toBe('choose one of: erofs, squashfs')
    const zstd = usage(() => overrideUsr(recipe, {compression: 'zstd'}))
    expect(zstd.exit).toBe('usage')
    expect(zstd.message).toBe(`--usr-compression zstd: erofs has no compression 'zstd'; choose one of: ${Object.keys(FILESYSTEMS.erofs.compressions).join(', ')}`)
  })
})
