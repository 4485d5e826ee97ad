import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {keel} from '../helpers/cli.js'

// Bad input through the real CLI: a clear located error, a stable exit code, nothing on stdout, nothing
// half-written beside the recipe.
let work: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keel-lock-errors-'))
})
afterAll(() => rmSync(work, {recursive: true, force: true}))

function recipe(name: string, lines: string[]): string {
  const path = join(work, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

/** A TCP port on loopback that nothing listens on (opened, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('keel lock on bad input', () => {
  it('names every unknown package at its recipe line', () => {
    const path = recipe('unknown.yaml', ['packages:', '  - bash', '  - no-such-package-keel', '  - openssh-servr'])
    const r = keel(['lock', path])
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`${path}:3:5: error: unknown package 'no-such-package-keel'`)
    expect(r.stderr).toMatch(new RegExp(`${path}:4:5: error: unknown package 'openssh-servr'; did you mean 'openssh-server'\\?`))
    expect(r.stderr).toContain('      ^~~~~~~~~~~~~')
    expect(readdirSync(work).filter((f) => f.startsWith('unknown'))).toEqual(['unknown.yaml'])
  })

  it('shows the chain from the recipe line to the dependency that cannot be met', () => {
    // openssh-server depends on exactly its own version of openssh-client; pin the client to another version.
    const madison = spawnSync('apt-cache', ['madison', 'openssh-client'], {encoding: 'utf8'}).stdout
    const versions = [...new Set(madison.split('\n').map((l) => l.split('|')[1]?.trim()).filter(Boolean))] as string[]
    expect(versions.length, 'the archive carries several openssh-client versions (point release + updates)').toBeGreaterThan(1)
    const server = spawnSync('apt-cache', ['madison', 'openssh-server'], {encoding: 'utf8'}).stdout
    const serverVersions = server.split('\n').map((l) => l.split('|')[1]?.trim()).filter(Boolean)
    // apt's candidate is the highest version; pin the client to one that is not it.
    const sorted = [...versions].sort((a, b) => (spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0 ? 1 : -1))
    expect(serverVersions).toContain(sorted[0])
    const path = recipe('chain.yaml', [
      'distribution:',
      '  sources:',
      '    - suites: [bookworm, bookworm-updates, bookworm-security]',
      'packages:',
      '  - openssh-server',
      `  - openssh-client=${sorted[1]}`,
    ])
    const r = keel(['lock', path])
    expect(r.status).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(new RegExp(`${path}:5:5: error: .*openssh-server`))
    expect(r.stderr).toMatch(/note: .*openssh-client \(= [^)]+\)/)
    expect(readdirSync(work).some((f) => f.startsWith('chain.lock'))).toBe(false)
  }, 120_000)

  it('reports an unreachable mirror clearly and writes nothing', async () => {
    const port = await closedPort()
    const path = recipe('offline.yaml', ['packages: [bash]'])
    const cache = join(work, 'cache')
    const r = keel(['lock', path, '--mirror', `http://127.0.0.1:${port}/debian`], {env: {...process.env, XDG_CACHE_HOME: cache}})
    expect(r.status).toBe(6)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`http://127.0.0.1:${port}/debian/dists/bookworm/InRelease`)
    expect(r.stderr).toMatch(/ECONNREFUSED|refused/i)
    expect(readdirSync(work).some((f) => f.startsWith('offline.lock'))).toBe(false)
    // No partial download anywhere in the cache.
    const leftovers = spawnSync('find', [cache, '-type', 'f'], {encoding: 'utf8'}).stdout.trim()
    expect(leftovers).toBe('')
  }, 120_000)
})
