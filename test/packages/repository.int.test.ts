import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {PackageCache} from '../../src/packages/cache.js'
import {loadUniverse} from '../../src/packages/repository.js'
import {hostRepositorySources} from '../../src/packages/sources.js'

const tmp = mkdtempSync(join(tmpdir(), 'keel-repo-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('loadUniverse against the host mirror', () => {
  const cache = new PackageCache(join(tmp, 'cache'))

  it('loads bookworm + updates + security main amd64, verified', async () => {
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
    expect(universe.releases.map((r) => r.suite)).toEqual(['bookworm', 'bookworm-updates', 'bookworm-security'])
    for (const r of universe.releases) expect(r.inReleaseSha256).toMatch(/^[0-9a-f]{64}$/)

    const warmStart = Date.now()
    const warm = await loadUniverse(sources, {architecture: 'amd64', cache, offline: true})
    console.log(`warm offline loadUniverse: ${Date.now() - warmStart} ms`)
    expect(warm.packages.length).toBe(universe.packages.length)
  })

  it('offline with an empty cache fails with a network error naming the missing InRelease', async () => {
    const sources = await hostRepositorySources()
    const empty = new PackageCache(join(tmp, 'empty'))
    const err = await loadUniverse(sources, {architecture: 'amd64', cache: empty, offline: true}).catch((e) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect(err.exit).toBe('network')
    expect(err.message).toMatch(/InRelease is not in the cache/)
  })
})
