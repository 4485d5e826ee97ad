import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {keel, repoRoot} from '../helpers/cli.js'

// End to end, as users run it: keel lock + keel rootfs on recipes/base.yaml through ./bin/keel, as root and as
// an unprivileged uid with its own cache, in different directories; the two tars must be byte-identical, and
// the tree must run its own binaries.
const NOBODY = 65534
let work: string
let rootTar: string
let rootResult: {tar: {path: string; sha256: string; size: number; entries: number}; packages: number; lockfile: {path: string; action: string}}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

function tarList(path: string): string[] {
  const r = spawnSync('tar', ['--numeric-owner', '-tvf', path], {encoding: 'utf8', maxBuffer: 1 << 28})
  expect(r.status).toBe(0)
  return r.stdout.trim().split('\n')
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keel-rootfs-e2e-'))
  chmodSync(work, 0o755)
  mkdirSync(join(work, 'as-root'))
  copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'as-root/base.yaml'))
})

afterAll(() => {
  if (work) rmSync(work, {recursive: true, force: true})
})

describe('keel rootfs recipes/base.yaml', () => {
  it('locks and builds a tar as root', () => {
    rootTar = join(work, 'as-root/out/rootfs.tar')
    const r = keel(['rootfs', join(work, 'as-root/base.yaml'), '-o', rootTar, '--json'])
    expect(r.status, r.stderr).toBe(0)
    rootResult = JSON.parse(r.stdout)
    expect(rootResult.lockfile).toEqual({path: join(work, 'as-root/base.lock.json'), action: 'created'})
    expect(rootResult.tar.sha256).toBe(sha256(rootTar))
    expect(rootResult.packages).toBeGreaterThan(100)
    console.log(`rootfs: ${rootResult.packages} packages, ${rootResult.tar.entries} entries, ${(rootResult.tar.size / 2 ** 20).toFixed(0)} MiB`)
  }, 600_000)

  it('gives a byte-identical tar as another user, in another directory, with its own cache', () => {
    const userDir = join(work, 'as-nobody')
    mkdirSync(userDir)
    copyFileSync(join(work, 'as-root/base.yaml'), join(userDir, 'base.yaml'))
    copyFileSync(join(work, 'as-root/base.lock.json'), join(userDir, 'base.lock.json'))
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, userDir])
    const env = {PATH: process.env.PATH, HOME: userDir, XDG_CACHE_HOME: join(userDir, 'cache'), CI: 'true'}
    const out = join(userDir, 'rootfs.tar')
    const r = keel(['rootfs', join(userDir, 'base.yaml'), '-o', out, '--json'], {asUid: NOBODY, env, cwd: userDir})
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).lockfile.action).toBe('used')
    expect(sha256(out)).toBe(rootResult.tar.sha256)
  }, 600_000)

  it('holds the image the recipe describes: merged /usr, no package manager, os-release, recorded owners', () => {
    const listing = tarList(rootTar)
    const paths = listing.map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\.\//, ''))
    expect(paths).toContain('bin -> usr/bin')
    expect(paths.some((p) => p.startsWith('usr/bin/dpkg') || p.startsWith('usr/bin/apt'))).toBe(false)
    expect(paths.some((p) => p.startsWith('usr/share/doc/') && !p.endsWith('/'))).toBe(false)
    // setuid root binaries keep their mode and owner from the package, though no chown ever ran
    expect(listing.find((l) => / (\.\/)?usr\/bin\/sudo$/.test(l))).toMatch(/^-rwsr-xr-x 0\/0 /)
    // every entry carries the same timestamp
    expect(new Set(listing.map((l) => l.split(/\s+/).slice(3, 5).join(' '))).size).toBe(1)
  })

  it('unpacks into a tree that runs its own binaries', () => {
    const tree = join(work, 'tree')
    mkdirSync(tree)
    const x = spawnSync('tar', ['--numeric-owner', '-xpf', rootTar, '-C', tree], {encoding: 'utf8'})
    expect(x.status, x.stderr).toBe(0)
    const systemctl = spawnSync('chroot', [tree, '/usr/bin/systemctl', '--version'], {encoding: 'utf8'})
    expect(systemctl.status, systemctl.stderr).toBe(0)
    expect(systemctl.stdout).toMatch(/^systemd 252 /)
    const containerd = spawnSync('chroot', [tree, '/usr/bin/containerd', '--version'], {encoding: 'utf8'})
    expect(containerd.status, containerd.stderr).toBe(0)
    expect(containerd.stdout).toMatch(/^containerd /)
    const osRelease = readFileSync(join(tree, 'usr/lib/os-release'), 'utf8')
    expect(osRelease).toMatch(/^ID="?keel"?$/m)
    const passwd = readFileSync(join(tree, 'etc/passwd'), 'utf8')
    expect(passwd).toMatch(/^core:x:500:500:/m)
    expect(passwd).toMatch(/^sshd:/m)
  })

  it('refuses a stale lockfile, and updates it when told', () => {
    const recipe = join(work, 'as-root/base.yaml')
    writeFileSync(recipe, readFileSync(recipe, 'utf8').replace('  - procps\n', '  - procps\n  - less\n'))
    const stale = keel(['rootfs', recipe, '-o', join(work, 'stale.tar')])
    expect(stale.status).toBe(8)
    expect(stale.stderr).toMatch(/lockfile .*base\.lock\.json is stale/)
    expect(stale.stdout).toBe('')
    const updated = keel(['lock', recipe, '--json'])
    expect(updated.status, updated.stderr).toBe(0)
    expect(JSON.parse(updated.stdout)).toMatchObject({changed: true})
    const lock = JSON.parse(readFileSync(join(work, 'as-root/base.lock.json'), 'utf8')) as {packages: Array<{name: string}>}
    expect(lock.packages.map((p) => p.name)).toContain('less')
  }, 300_000)
})
