import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {defaultCacheDir, PackageCache} from '../../src/packages/cache.js'

const tmp = mkdtempSync(join(tmpdir(), 'keel-cache-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex')

/** Every file under dir, relative. */
function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  )
}

async function* chunked(data: Buffer, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) {
    await new Promise((r) => setImmediate(r))
    yield data.subarray(i, i + size)
  }
}

describe('defaultCacheDir', () => {
  it('follows XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({XDG_CACHE_HOME: '/x/cache', HOME: '/home/u'})).toBe('/x/cache/keel')
    expect(defaultCacheDir({HOME: '/home/u'})).toBe('/home/u/.cache/keel')
    expect(defaultCacheDir({XDG_CACHE_HOME: 'relative', HOME: '/home/u'})).toBe('/home/u/.cache/keel')
  })
})

describe('PackageCache', () => {
  it('stores content under sha256/<aa>/<hex> and returns it verified', async () => {
    const cache = new PackageCache(join(tmp, 'a'))
    const data = Buffer.from('hello keel\n')
    const digest = sha(data)
    expect(await cache.get(digest)).toBeNull()
    const path = await cache.put(chunked(data, 3), {sha256: digest, size: data.length})
    expect(path).toBe(join(tmp, 'a', 'sha256', digest.slice(0, 2), digest))
    expect(readFileSync(path, 'utf8')).toBe('hello keel\n')
    expect(await cache.get(digest, data.length)).toBe(path)
    expect(walk(join(tmp, 'a'))).toEqual([`sha256/${digest.slice(0, 2)}/${digest}`])
  })

  it('refuses data whose digest or size differs, leaving nothing behind', async () => {
    const cache = new PackageCache(join(tmp, 'b'))
    const wrong = sha('something else')
    const err = await cache.put(Buffer.from('payload'), {sha256: wrong}, 'http://m/x.deb').catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('integrity')
    expect(err.message).toContain('http://m/x.deb: sha256 mismatch')
    const tooLong = await cache.put(Buffer.from('payload'), {sha256: sha('payload'), size: 3}).catch((e) => e)
    expect(tooLong.exit).toBe('integrity')
    expect(tooLong.message).toMatch(/size mismatch \(expected 3 bytes/)
    expect(walk(join(tmp, 'b'))).toEqual([])
  })

  it('removes the temp file when the data source fails midway', async () => {
    const cache = new PackageCache(join(tmp, 'c'))
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.from('partial')
      throw new Error('connection reset')
    }
    await expect(cache.put(failing(), {sha256: sha('partial data')})).rejects.toThrow('connection reset')
    expect(walk(join(tmp, 'c'))).toEqual([])
  })

  it('detects a corrupt or truncated entry on read and deletes it', async () => {
    const cache = new PackageCache(join(tmp, 'd'))
    const data = Buffer.from('x'.repeat(10000))
    const digest = sha(data)
    const path = await cache.put(data, {sha256: digest})
    const flipped = Buffer.from(data)
    flipped[5000] = 0x79
    writeFileSync(path, flipped)
    expect(await cache.get(digest)).toBeNull()
    expect(existsSync(path)).toBe(false)
    await cache.put(data, {sha256: digest})
    writeFileSync(path, data.subarray(0, 100))
    expect(await cache.get(digest, data.length)).toBeNull()
    expect(existsSync(path)).toBe(false)
  })

  it('lets concurrent writers of the same object all succeed with one intact copy', async () => {
    const cache = new PackageCache(join(tmp, 'e'))
    const data = Buffer.alloc(3 << 20)
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff
    const digest = sha(data)
    const paths = await Promise.all(Array.from({length: 6}, () => cache.put(chunked(data, 65536), {sha256: digest, size: data.length})))
    expect(new Set(paths).size).toBe(1)
    expect(sha(readFileSync(paths[0]!))).toBe(digest)
    expect(walk(join(tmp, 'e'))).toEqual([`sha256/${digest.slice(0, 2)}/${digest}`])
  })

  it('removes temp files of dead writers but not of live ones', async () => {
    const cache = new PackageCache(join(tmp, 'f'))
    const dir = join(tmp, 'f', 'sha256', 'ab')
    mkdirSync(dir, {recursive: true})
    // pid 2^22+1 is above Linux's pid_max limit, so no process can have it.
    writeFileSync(join(dir, '.tmp-4194305-deadbeef0000'), 'partial')
    writeFileSync(join(dir, `.tmp-${process.pid}-livewriter00`), 'partial')
    expect(await cache.removeAbandonedTemps()).toBe(1)
    expect(readdirSync(dir)).toEqual([`.tmp-${process.pid}-livewriter00`])
  })

  it('keeps InRelease files by URL', async () => {
    const cache = new PackageCache(join(tmp, 'g'))
    const url = 'http://m/debian/dists/bookworm/InRelease'
    expect(await cache.readInRelease(url)).toBeNull()
    await cache.writeInRelease(url, Buffer.from('signed'))
    expect((await cache.readInRelease(url))?.toString()).toBe('signed')
    expect(await cache.readInRelease('http://m/debian/dists/trixie/InRelease')).toBeNull()
  })
})
