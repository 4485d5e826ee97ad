import {spawn, execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {connect, type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {PackageCache} from '../../src/packages/cache.js'
import {fetchPackages} from '../../src/packages/download.js'
import {parseAptConf} from '../../src/packages/apt-config.js'
import {loadUniverse} from '../../src/packages/repository.js'
import {hostRepositorySources} from '../../src/packages/sources.js'
import type {BinaryPackage, LockedPackage, PackageUniverse} from '../../src/packages/types.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'keel-download-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

let universe: PackageUniverse
beforeAll(async () => {
  universe = await loadUniverse(await hostRepositorySources(), {architecture: 'amd64', cache: new PackageCache(join(tmp, 'indexes'))})
})

function locked(p: BinaryPackage): LockedPackage {
  const {name, version, architecture, source, filename, size, sha256, repository, replaces, essential} = p
  return {name, version, architecture, source, filename, size, sha256, repository, replaces, essential}
}

/** The newest-listed stanza of a package (later suites override earlier ones in the universe order). */
function pick(name: string | RegExp): LockedPackage {
  const hits = universe.packages.filter((p) => (typeof name === 'string' ? p.name === name : name.test(p.name)))
  if (hits.length === 0) throw new Error(`no package ${name}`)
  return locked(hits[hits.length - 1]!)
}

function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  )
}

const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

/** The cache holds only complete objects: every file is sha256/<aa>/<hex> and hashes to its own name. */
function expectOnlyVerifiedObjects(cacheDir: string): string[] {
  const files = walk(cacheDir)
  for (const f of files) {
    const m = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(f)
    expect(m, `unexpected file in cache: ${f}`).not.toBeNull()
    expect(m![2]!.startsWith(m![1]!)).toBe(true)
    expect(sha256Of(join(cacheDir, f))).toBe(m![2])
  }
  return files
}

describe('fetchPackages', () => {
  const cacheDir = join(tmp, 'debs')
  const cache = new PackageCache(cacheDir)

  it('downloads real packages, verified, into the cache; dpkg-deb agrees on what they are', async () => {
    const pkgs = ['hostname', 'netbase', 'libcap2'].map((n) => pick(n))
    const infos: string[] = []
    const statuses: string[] = []
    const result = await fetchPackages(pkgs, {cache, reporter: {status: (s) => statuses.push(s), info: (s) => infos.push(s)}})
    console.log(infos.join('\n'))
    expect([...result.keys()].sort()).toEqual(['hostname', 'libcap2', 'netbase'])
    for (const p of pkgs) {
      const path = result.get(p.name)!
      expect(path).toBe(join(cacheDir, 'sha256', p.sha256.slice(0, 2), p.sha256))
      expect(sha256Of(path)).toBe(p.sha256)
      const fields = execFileSync('dpkg-deb', ['--field', path, 'Package', 'Version'], {encoding: 'utf8'})
      expect(fields).toBe(`Package: ${p.name}\nVersion: ${p.version}\n`)
    }
    expect(statuses.at(-1)).toMatch(/^3\/3 packages, [\d.]+ KiB \/ [\d.]+ KiB, [\d.]+ (KiB|MiB)\/s$/)
    expect(expectOnlyVerifiedObjects(cacheDir)).toHaveLength(3)
  })

  it('serves verified hits offline, and detects and refetches a corrupt cached file', async () => {
    const pkgs = ['hostname', 'netbase', 'libcap2'].map((n) => pick(n))
    const offline = await fetchPackages(pkgs, {cache, offline: true})
    expect(offline.size).toBe(3)
    const victim = offline.get('netbase')!
    const bytes = readFileSync(victim)
    bytes[100]! ^= 0x01
    writeFileSync(victim, bytes)
    // Offline, the corrupt entry is found and reported as missing...
    const err = await fetchPackages(pkgs, {cache, offline: true}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('network')
    expect(err.message).toContain(`1 package(s) are not in the cache`)
    expect(err.message).toContain(`netbase=${pkgs[1]!.version}`)
    // ...online it is fetched again.
    const infos: string[] = []
    const again = await fetchPackages(pkgs, {cache, reporter: {status() {}, info: (s) => infos.push(s)}})
    expect(sha256Of(again.get('netbase')!)).toBe(pkgs[1]!.sha256)
    expect(infos.join('\n')).toMatch(/fetched 1 package\(s\)/)
  })

  it('reports an unreachable mirror with the URL and cause, leaving no file in the cache', async () => {
    const server = createServer()
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const {port} = server.address() as AddressInfo
    await new Promise((r) => server.close(r))
    const dir = join(tmp, 'unreachable')
    const p = pick('hostname')
    const pkg = {...p, repository: {...p.repository, uri: `http://127.0.0.1:${port}/debian`}}
    const err = await fetchPackages([pkg], {cache: new PackageCache(dir), retryDelayMs: 10}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('network')
    expect(err.message).toBe(`cannot fetch http://127.0.0.1:${port}/debian/${p.filename}: ECONNREFUSED`)
    expect(walk(dir)).toEqual([])
  })

  it('refuses a package whose bytes do not match the index, installing nothing', async () => {
    const p = pick('hostname')
    const wrong = {...p, sha256: 'f'.repeat(64)}
    const dir = join(tmp, 'mismatch')
    const err = await fetchPackages([wrong], {cache: new PackageCache(dir)}).catch((e) => e)
    expect(err.exit).toBe('integrity')
    expect(err.message).toContain(`${p.repository.uri}/${p.filename}: sha256 mismatch`)
    expect(walk(dir)).toEqual([])
  })

  it('retries a 5xx answer with backoff, but not a 404', async () => {
    const p = pick('hostname')
    let requests = 0
    const server = createServer(async (req, res) => {
      requests++
      if (req.url!.includes('missing')) {
        res.writeHead(404).end()
      } else if (requests <= 2) {
        res.writeHead(503).end()
      } else {
        const body = Buffer.from(await (await fetch(`${p.repository.uri}${req.url!.replace(/^\/debian/, '')}`)).arrayBuffer())
        res.writeHead(200, {'content-length': body.length}).end(body)
      }
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`
      const cache = new PackageCache(join(tmp, 'retry'))
      const result = await fetchPackages([{...p, repository: {...p.repository, uri}}], {cache, retryDelayMs: 10})
      expect(requests).toBe(3)
      expect(sha256Of(result.get('hostname')!)).toBe(p.sha256)
      requests = 0
      const missing = {...p, sha256: 'e'.repeat(64), filename: 'pool/missing.deb', repository: {...p.repository, uri}}
      const err = await fetchPackages([missing], {cache, retryDelayMs: 10}).catch((e) => e)
      expect(requests).toBe(1)
      expect(err.exit).toBe('network')
      expect(err.message).toBe(`${uri}/pool/missing.deb: HTTP 404 Not Found (hostname ${p.version})`)
      expect(err.hint).toMatch(/run keel lock/)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })

  it("goes through the proxy apt's configuration names", async () => {
    const p = pick('libcap2')
    const tunnels: string[] = []
    const sockets: Array<{destroy(): void}> = []
    const proxy = createServer((_req, res) => res.writeHead(405).end())
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url!)
      sockets.push(socket)
      const [host, port] = req.url!.split(':')
      const upstream = connect(Number(port), host!, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(socket)
        socket.pipe(upstream)
      })
      sockets.push(upstream)
      upstream.on('error', () => socket.destroy())
      socket.on('error', () => upstream.destroy())
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      const config = {apt: parseAptConf(`Acquire::http::Proxy "${proxyUrl}";`), env: {}}
      const result = await fetchPackages([p], {cache: new PackageCache(join(tmp, 'proxied')), proxy: config})
      expect(sha256Of(result.get('libcap2')!)).toBe(p.sha256)
      expect(tunnels).toEqual([`${new URL(p.repository.uri).hostname}:${new URL(p.repository.uri).port || 80}`])
    } finally {
      // The agent keeps its tunnel alive for reuse; end it so the proxy can close now.
      for (const socket of sockets) socket.destroy()
      await new Promise((r) => proxy.close(r))
    }
  })

  it('stops on abort, leaving no temp file', async () => {
    const kernel = pick(/^linux-image-6\.[0-9.]+-\d+-cloud-amd64$/)
    const dir = join(tmp, 'aborted')
    const controller = new AbortController()
    const reason = new Error('user pressed Ctrl-C')
    const pending = fetchPackages([kernel], {
      cache: new PackageCache(dir),
      signal: controller.signal,
      reporter: {status: (s) => /packages, [1-9]/.test(s) && controller.abort(reason), info() {}},
    })
    await expect(pending).rejects.toBe(reason)
    expect(walk(dir)).toEqual([])
  })

  it('recovers from a fetch killed mid-download: the rerun completes and the cache holds only verified objects', async () => {
    const kernel = pick(/^linux-image-6\.[0-9.]+-\d+-cloud-amd64$/)
    const dir = join(tmp, 'killed')
    // The child fetches through a local server that trickles the real file (~6 MiB/s), so a kill 300 ms
    // after the first bytes reliably lands mid-download however fast the mirror is.
    const trickle = createServer(async (req, res) => {
      const upstream = await fetch(`${kernel.repository.uri}${req.url}`)
      res.writeHead(upstream.status, {'content-length': upstream.headers.get('content-length') ?? undefined})
      try {
        for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r))
          await new Promise((r) => setTimeout(r, 10))
        }
        res.end()
      } catch {
        res.destroy()
      }
    })
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', r))
    const slowUri = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}`
    const script = join(tmp, 'fetch-child.mts')
    writeFileSync(
      script,
      `import {PackageCache} from ${JSON.stringify(join(root, 'src/packages/cache.ts'))}
import {fetchPackages} from ${JSON.stringify(join(root, 'src/packages/download.ts'))}
const [dir, json] = process.argv.slice(2)
await fetchPackages([JSON.parse(json)], {cache: new PackageCache(dir), reporter: {status: (s) => console.log(s), info() {}}})
console.log('DONE')
`,
    )
    const slowKernel = {...kernel, repository: {...kernel.repository, uri: slowUri}}
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, JSON.stringify(slowKernel)], {cwd: root, stdio: ['ignore', 'pipe', 'inherit']})
    let output = ''
    let tempSeen = false
    let killScheduled = false
    try {
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString()
          // The first status line with bytes received: the download is under way.
          if (/packages, [1-9]/.test(output) && !killScheduled) {
            killScheduled = true
            setTimeout(() => {
              tempSeen = walk(dir).some((f) => f.includes('.tmp-'))
              child.kill('SIGKILL')
            }, 300)
          }
        })
        child.on('exit', () => resolve())
      })
    } finally {
      trickle.closeAllConnections()
      await new Promise((r) => trickle.close(r))
    }
    expect(child.signalCode, `child output: ${output}`).toBe('SIGKILL')
    expect(output).not.toContain('DONE')
    expect(tempSeen).toBe(true)
    const leftovers = walk(dir)
    console.log(`after SIGKILL the cache held: ${leftovers.join(', ') || 'nothing'}`)
    expect(leftovers.some((f) => f.endsWith(kernel.sha256))).toBe(false)

    const infos: string[] = []
    const result = await fetchPackages([kernel], {cache: new PackageCache(dir), reporter: {status() {}, info: (s) => infos.push(s)}})
    console.log(`${kernel.name} (${(kernel.size / 1048576).toFixed(1)} MiB): ${infos.join('; ')}`)
    expect(sha256Of(result.get(kernel.name)!)).toBe(kernel.sha256)
    expect(expectOnlyVerifiedObjects(dir)).toEqual([`sha256/${kernel.sha256.slice(0, 2)}/${kernel.sha256}`])
  })
})
