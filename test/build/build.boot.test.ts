import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CHECKS, runOrder} from '../../src/boot/checks/registry.js'
import {TEST_DISK_GROWTH_MIB} from '../../src/boot/checks/guest.js'
import {bootLine, checkFacts, type TestReport} from '../../src/boot/checks/report.js'
import type {BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {type CliResult, keelBin, repoRoot} from '../helpers/cli.js'

// keel build end to end, as the product runs it: recipes/base.yaml → qcow2 + manifest.json, twice (the bytes
// must be equal), then `keel test` on the result — the real CLI, one boot under QEMU (KVM when the probe says
// it works, else TCG) with its generated Ignition config; every check reads the guest over ssh, none reads
// the console. The facts the checks report are then held against what the build says it made.

const work = mkdtempSync(join(tmpdir(), 'keel-build-test-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** ./bin/keel without blocking the worker: a run of many minutes must not starve vitest's own messages. */
function keelAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(keelBin, args, {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

const qcow2Of = (m: BuildManifest) => m.artifacts.find((a) => a.platform === 'qemu' && a.format === 'qcow2')!

describe('keel build recipes/base.yaml --platform qemu', () => {
  const builds: Array<{dir: string; manifest: BuildManifest}> = []
  let report: TestReport
  const facts = (name: string): Record<string, string> => checkFacts(report, name)

  beforeAll(async () => {
    // The recipe is copied so its lockfiles land in the test's own directory.
    copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
    const recipe = loadRecipe(join(work, 'base.yaml')).recipe
    for (const name of ['first', 'second']) {
      const dir = join(work, name)
      const manifest = await buildImage({recipe, platforms: ['qemu'], outDir: dir, cache: new PackageCache(defaultCacheDir())})
      builds.push({dir, manifest})
    }
  }, 1_200_000)

  it('writes the qcow2 and a manifest that describes it', () => {
    const {dir, manifest} = builds[0]!
    expect(qcow2Of(manifest)).toBeDefined()
    for (const a of manifest.artifacts) expect(sha256(join(dir, a.path)), a.path).toBe(a.sha256)
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest)
    expect(manifest.slots.A!.rootHash).toMatch(/^[0-9a-f]{64}$/)
    expect(manifest.kernel.cmdline).toContain(`usrhash=${manifest.slots.A!.rootHash}`)
    expect(manifest.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['systemd', 'containerd', 'linux-image-cloud-amd64']))
    console.log(`build: ${Object.entries(manifest.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ')}`)
  })

  it('gives the same bytes when built again from the same recipe and lockfile', () => {
    const [a, b] = builds
    expect(b!.manifest.artifacts.map((x) => [x.path, x.sha256])).toEqual(a!.manifest.artifacts.map((x) => [x.path, x.sha256]))
    expect(sha256(join(b!.dir, qcow2Of(b!.manifest).path))).toBe(sha256(join(a!.dir, qcow2Of(a!.manifest).path)))
  })

  it('passes every keel test check', {timeout: 2_400_000}, async () => {
    const {dir, manifest} = builds[0]!
    const consoleLog = join(work, 'console.log')
    const r = await keelAsync(['test', join(dir, qcow2Of(manifest).path), '--json', '--console-log', consoleLog])
    if (r.status !== 0) console.log(r.stderr.split('\n').slice(-40).join('\n'))
    report = JSON.parse(r.stdout) as TestReport
    console.log(bootLine(report))
    for (const c of report.checks) console.log(`  ${c.status} ${c.id} ${c.name} ${c.seconds} s: ${c.detail}`)
    expect(report.checks.map((c) => c.name)).toEqual(runOrder(CHECKS).map((c) => c.name))
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.status}: ${c.detail}`)).toEqual([])
    expect(r.status).toBe(0)
    expect(['kvm', 'tcg']).toContain(report.boot!.accel)
    expect(report.boot!.secondsToMarker).toBeGreaterThan(0)
    // The serial console was kept and is the boot's own: the kernel booted the command line the ESP carried.
    const rootHash = manifest.slots.A!.rootHash
    expect(readFileSync(consoleLog, 'utf8')).toMatch(new RegExp(`Kernel command line:.*usrhash=${rootHash}`))
  })

  it('what the checks read in the guest is what the build made', () => {
    const rootHash = builds[0]!.manifest.slots.A!.rootHash
    expect(facts('verity-usr')).toMatchObject({'usr-source': '/dev/mapper/usr', 'usr-fstype': 'erofs', 'dm-target': 'verity', 'dm-root-hash': rootHash, 'cmdline-usrhash': rootHash})
    // keel's /init booted it (a fw_cfg config with no storage needs nothing of systemd's initrd).
    expect(facts('ignition')).toMatchObject({user: 'core:/home/core', 'file-mode': '640 root:root', 'unit-result': 'success', initrd: 'keel-init'})
    expect(facts('system-running')).toEqual({state: 'running', 'failed-units': ''})
    expect(facts('containerd')).toMatchObject({active: 'active', import: 'ok'})
    // base.yaml's sshd: the socket (one sshd per connection), not Debian's daemon; one Ed25519 host key, made
    // on the machine by keel-sshd-keygen.
    expect(facts('sshd')).toEqual({socket: 'active', service: 'inactive', keygen: 'success', 'host-keys': 'ssh_host_ed25519_key'})
    // keel test's disk is 1 GiB larger than the image: ROOT (the last partition) grew into it on the first boot.
    const growth = facts('root-growth')
    expect(growth).toMatchObject({'root-partition': 'vda7', unit: 'success active'})
    // images/layouts/qemu.yaml makes an 8 GiB disk; keel test adds TEST_DISK_GROWTH_MIB, and ROOT took it.
    expect(Number(growth['disk-sectors']) * 512).toBe(8 * 2 ** 30 + TEST_DISK_GROWTH_MIB * 2 ** 20)
    expect(Number(growth['root-bytes'])).toBeGreaterThan(TEST_DISK_GROWTH_MIB * 2 ** 20 + 2 * 2 ** 30)
    // The first boot ran the one-shot entry (with ignition.firstboot); once up, the default is the normal one.
    // /boot is the ESP, mounted on access by keel's static units (no gpt-auto generator in base.yaml).
    expect(facts('first-boot')).toMatchObject({'firstboot-arg': '1', 'esp-on-boot': '1', 'default-has-firstboot': '0'})
    expect(facts('first-boot')['default-entries']).toMatch(/^keel-a[+.]/)
  })

  it('A/B: the tamper and rollback checks saw the slot fall back and the counters move as designed', () => {
    // Check 5: a flipped byte in USR-A → the initrd marks A bad and reboots; B (a known-good copy) boots.
    const tamper = facts('tamper')
    expect(tamper['boot2-fallback']).toMatch(/keel-slot-fallback: .*marked it bad \(keel-a\+0\.conf\)/)
    expect(tamper['entries-after-boot2']?.split(' ')).toEqual(['keel-a+0.conf', 'keel-b.conf'])
    expect(tamper['boot3-entry']).toBe('keel-b.conf')
    expect(tamper['boot3-usr-data']).toBe(tamper['b-usr-partuuid'])
    // Check 6: B with one try fails its health check → not blessed, A boots next, B is not tried again;
    // reinstalled healthy, B is tried and blessed (the counter is gone).
    const rollback = facts('rollback')
    expect(rollback['entries-installed']).toBe('keel-a.conf keel-b+1.conf')
    expect(rollback['boot2-entry']).toBe('keel-b+1.conf')
    expect(rollback['boot2-health']).toBe('failed')
    expect(rollback['entries-after-boot2']).toBe('keel-a.conf keel-b+0-1.conf')
    expect(rollback['boot3-entry']).toBe('keel-a.conf')
    expect(rollback['entries-after-boot3']).toBe('keel-a.conf keel-b+0-1.conf')
    expect(rollback['boot4-entry']).toBe('keel-b+1.conf')
    expect(rollback['boot4-bless']).toBe('active')
    expect(rollback['entries-after-boot4']).toBe('keel-a.conf keel-b.conf')
  })
})
