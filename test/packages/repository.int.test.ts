import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {gzipSync} from 'node:zlib'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {PackageCache} from '../../src/packages/cache.js'
import {loadUniverse, parseIndexFile} from '../../src/packages/repository.js'
import {hostRepositorySources} from '../../src/packages/sources.js'
import type {RepositorySource} from '../../src/packages/types.js'

const tmp = mkdtempSync(join(tmpdir(), 'keel-repo-'))
const servers: Server[] = []
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r))
  rmSync(tmp, {recursive: true, force: true})
})

const fastRetry = {retryDelayMs: 20, attempts: 2}

/** Every file under dir, relative. */
function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  )
}

/**
 * A mirror on 127.0.0.1 that forwards to the real one and lets a test rewrite what it serves; returns the
 * local base URI standing in for `upstream`.
 */
async function tamperingMirror(upstream: string, rewrite: (path: string, body: Buffer) => Buffer): Promise<string> {
  const server = createServer(async (req, res) => {
    try {
      const r = await fetch(`${upstream}${req.url}`)
      const body = Buffer.from(await r.arrayBuffer())
      const out = r.ok ? rewrite(req.url!, body) : body
      res.writeHead(r.status, {'content-length': out.length})
      res.end(out)
    } catch {
      res.writeHead(502)
      res.end()
    }
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const {port} = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

/**
 * The transferable keys of a binary OpenPGP keyring (RFC 4880 packets; a key runs from one public-key
 * packet to the next), so a test can build a keyring holding only some of them.
 */
function splitKeyring(bytes: Buffer): Buffer[] {
  const keys: Buffer[] = []
  let pos = 0
  let keyStart = -1
  while (pos < bytes.length) {
    const b = bytes[pos]!
    let tag: number
    let len: number
    let header: number
    if (b & 0x40) {
      tag = b & 0x3f
      const o1 = bytes[pos + 1]!
      if (o1 < 192) [len, header] = [o1, 2]
      else if (o1 < 224) [len, header] = [((o1 - 192) << 8) + bytes[pos + 2]! + 192, 3]
      else [len, header] = [bytes.readUInt32BE(pos + 2), 6]
    } else {
      tag = (b >> 2) & 0x0f
      const lenType = b & 3
      if (lenType === 0) [len, header] = [bytes[pos + 1]!, 2]
      else if (lenType === 1) [len, header] = [bytes.readUInt16BE(pos + 1), 3]
      else [len, header] = [bytes.readUInt32BE(pos + 1), 5]
    }
    if (tag === 6) {
      if (keyStart >= 0) keys.push(bytes.subarray(keyStart, pos))
      keyStart = pos
    }
    pos += header + len
  }
  if (keyStart >= 0) keys.push(bytes.subarray(keyStart, pos))
  return keys
}

async function updatesSource(): Promise<RepositorySource> {
  return (await hostRepositorySources()).find((s) => s.suite === 'bookworm-updates')!
}

describe('loadUniverse against the host mirror', () => {
  const cache = new PackageCache(join(tmp, 'cache'))

  it('loads bookworm + updates + security main amd64, verified, then again offline', async () => {
    const sources = await hostRepositorySources()
    expect(sources.map((s) => s.suite)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security'])
    const started = Date.now()
    const universe = await loadUniverse(sources, {architecture: 'amd64', cache})
    console.log(`cold loadUniverse: ${Date.now() - started} ms, ${universe.packages.length} packages`)
    expect(universe.packages.length).toBeGreaterThan(60000)
    const bash = universe.packages.find((p) => p.name === 'bash')
    expect(bash?.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(bash?.essential).toBe(true)
    expect(bash?.filename).toMatch(/^pool\/main\/b\/bash\/bash_.*_amd64\.deb$/)
    // Debian's binary-amd64 index includes Architecture: all packages.
    expect(universe.packages.find((p) => p.name === 'ca-certificates')?.architecture).toBe('all')
    expect(new Set(universe.packages.map((p) => p.repository.suite))).toEqual(new Set(['bookworm', 'bookworm-updates', 'bookworm-security']))
    expect(universe.releases.map((r) => r.suite)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security'])
    for (const r of universe.releases) expect(r.inReleaseSha256).toMatch(/^[0-9a-f]{64}$/)

    const warmStart = Date.now()
    const warm = await loadUniverse(sources, {architecture: 'amd64', cache})
    console.log(`warm loadUniverse: ${Date.now() - warmStart} ms`)
    const offlineStart = Date.now()
    const offline = await loadUniverse(sources, {architecture: 'amd64', cache, offline: true})
    console.log(`warm offline loadUniverse: ${Date.now() - offlineStart} ms`)
    expect(warm.packages.length).toBe(universe.packages.length)
    expect(offline.packages.length).toBe(universe.packages.length)
    expect(offline.releases).toEqual(universe.releases)
  })

  it('offline with an empty cache fails with a network error naming the missing InRelease', async () => {
    const sources = await hostRepositorySources()
    const empty = new PackageCache(join(tmp, 'empty'))
    const err = await loadUniverse(sources, {architecture: 'amd64', cache: empty, offline: true}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('network')
    expect(err.message).toMatch(/--offline: http:\/\/.*\/dists\/bookworm.*\/InRelease is not in the cache/)
  })

  it('refuses a tampered InRelease (bad signature) and caches nothing', async () => {
    const real = await updatesSource()
    const uri = await tamperingMirror(real.uri, (path, body) =>
      path.endsWith('/InRelease') ? Buffer.from(body.toString('utf8').replace('Codename: bookworm-updates', 'Codename: bookworm-updatez')) : body,
    )
    const dir = join(tmp, 'tampered')
    const err = await loadUniverse([{...real, uri}], {architecture: 'amd64', cache: new PackageCache(dir), http: fastRetry}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('integrity')
    expect(err.message).toContain(`${uri}/dists/bookworm-updates/InRelease: signature verification failed`)
    expect(err.message).toMatch(/BAD signature/)
    expect(walk(dir)).toEqual([])
  })

  it('refuses an unsigned Release served as InRelease', async () => {
    const real = await updatesSource()
    const uri = await tamperingMirror(real.uri, (path, body) => {
      if (!path.endsWith('/InRelease')) return body
      const text = body.toString('utf8')
      const start = text.indexOf('\n\n') + 2
      return Buffer.from(text.slice(start, text.indexOf('-----BEGIN PGP SIGNATURE-----')))
    })
    const err = await loadUniverse([{...real, uri}], {architecture: 'amd64', cache: new PackageCache(join(tmp, 'unsigned')), http: fastRetry}).catch(
      (e) => e,
    )
    expect(err.exit).toBe('integrity')
    expect(err.message).toMatch(/InRelease: not a clearsigned InRelease/)
  })

  it('refuses an InRelease with content outside the signed message (signature wrapping)', async () => {
    const real = await updatesSource()
    const fake = `Origin: Evil\nSHA256:\n ${'f'.repeat(64)} 1 main/binary-amd64/Packages.xz\n\n`
    for (const wrap of [(t: string) => fake + t, (t: string) => `${t}\n${fake}`]) {
      const uri = await tamperingMirror(real.uri, (path, body) => (path.endsWith('/InRelease') ? Buffer.from(wrap(body.toString('utf8'))) : body))
      const err = await loadUniverse([{...real, uri}], {architecture: 'amd64', cache: new PackageCache(join(tmp, 'wrapped')), http: fastRetry}).catch(
        (e) => e,
      )
      expect(err.exit).toBe('integrity')
      expect(err.message).toMatch(/InRelease: (not a clearsigned InRelease|content after the signature)/)
    }
  })

  it('refuses an InRelease signed by a key outside the given keyrings', async () => {
    const real = await updatesSource()
    const err = await loadUniverse([{...real, keyrings: ['/usr/share/keyrings/debian-archive-removed-keys.gpg']}], {
      architecture: 'amd64',
      cache: new PackageCache(join(tmp, 'wrongkey')),
    }).catch((e) => e)
    expect(err.exit).toBe('integrity')
  })

  it('accepts an InRelease with one good signature beside signatures by keys the keyring lacks', async () => {
    const keys = splitKeyring(readFileSync('/usr/share/keyrings/debian-archive-keyring.gpg'))
    const bookwormKey = keys.filter((k) => k.includes('Debian Archive Automatic Signing Key (12/bookworm)'))
    expect(keys.length).toBeGreaterThan(3)
    expect(bookwormKey).toHaveLength(1)
    const keyring = join(tmp, 'bookworm-only.gpg')
    writeFileSync(keyring, bookwormKey[0]!)
    const bookworm = (await hostRepositorySources()).find((s) => s.suite === 'bookworm')!
    // Offline from the warm cache: the point is the signature check on the cached InRelease.
    const universe = await loadUniverse([{...bookworm, keyrings: [keyring]}], {architecture: 'amd64', cache, offline: true})
    expect(universe.packages.length).toBeGreaterThan(60000)
  })

  it('refuses a Packages index whose bytes differ from the signed sha256, and caches nothing of it', async () => {
    const real = await updatesSource()
    const uri = await tamperingMirror(real.uri, (path, body) => {
      if (!/\/binary-amd64\/(Packages|by-hash)/.test(path)) return body
      const copy = Buffer.from(body)
      copy[copy.length >> 1]! ^= 0xff
      return copy
    })
    const dir = join(tmp, 'badindex')
    const err = await loadUniverse([{...real, uri}], {architecture: 'amd64', cache: new PackageCache(dir), http: fastRetry}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('integrity')
    expect(err.message).toMatch(/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64}: sha256 mismatch/)
    expect(walk(join(dir, 'sha256'))).toEqual([])
  })

  it('refuses an expired Release unless Valid-Until checks are off', async () => {
    const security = (await hostRepositorySources()).find((s) => s.suite === 'bookworm-security')!
    const cacheDir = new PackageCache(join(tmp, 'cache'))
    const farFuture = () => Date.UTC(2100, 0, 1)
    const strict = {checkValidUntil: true, checkDate: true, maxFutureMs: 600_000}
    const err = await loadUniverse([security], {architecture: 'amd64', cache: cacheDir, offline: true, now: farFuture, freshness: strict}).catch((e) => e)
    expect(err.exit).toBe('integrity')
    expect(err.message).toMatch(/bookworm-security\/InRelease: the Release expired on/)
    const lax = await loadUniverse([security], {
      architecture: 'amd64',
      cache: cacheDir,
      offline: true,
      now: farFuture,
      freshness: {...strict, checkValidUntil: false},
    })
    expect(lax.packages.length).toBeGreaterThan(0)
  })

  it('reports an unreachable mirror as a network error with the cause, leaving the cache empty', async () => {
    const dir = join(tmp, 'unreachable')
    const port = await closedPort()
    const sources = (await hostRepositorySources()).map((s) => ({...s, uri: `http://127.0.0.1:${port}/debian`}))
    const err = await loadUniverse(sources, {architecture: 'amd64', cache: new PackageCache(dir), http: fastRetry}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('network')
    expect(err.message).toMatch(/cannot fetch http:\/\/127\.0\.0\.1:\d+\/debian\/dists\/bookworm.*\/InRelease: ECONNREFUSED/)
    expect(walk(dir)).toEqual([])
  })
})

describe('parseIndexFile', () => {
  it('reads .xz (through xz), .gz and uncompressed indexes alike', async () => {
    const text = `Package: a\nVersion: 1\nArchitecture: all\nFilename: pool/a.deb\nSize: 1\nSHA256: ${'a'.repeat(64)}\n\nPackage: b\nVersion: 2\nArchitecture: amd64\nFilename: pool/b.deb\nSize: 2\nSHA256: ${'b'.repeat(64)}\n`
    const repo = {uri: 'http://m/debian', suite: 'bookworm', component: 'main'}
    const plain = join(tmp, 'Packages')
    writeFileSync(plain, text)
    writeFileSync(`${plain}.gz`, gzipSync(text))
    writeFileSync(`${plain}.xz`, execFileSync('xz', ['-c', plain]))
    for (const name of ['Packages', 'Packages.gz', 'Packages.xz']) {
      const {packages, problems} = await parseIndexFile(join(tmp, name), `main/binary-amd64/${name}`, repo)
      expect(problems).toEqual([])
      expect(packages.map((p) => `${p.name}=${p.version}/${p.architecture}`)).toEqual(['a=1/all', 'b=2/amd64'])
    }
    // A file that is not what its name says fails loudly instead of yielding an empty index.
    await expect(parseIndexFile(plain, 'main/binary-amd64/Packages.xz', repo)).rejects.toThrow(/xz/)
  })
})
