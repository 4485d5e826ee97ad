import {createHash} from 'node:crypto'
import {copyFileSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {testFixture, testIgnitionConfig, type TestFixture} from '../../src/boot/checks/fixture.js'
import {makeSshKey, type SshKey} from '../../src/boot/checks/guest.js'
import {selectChecks} from '../../src/boot/checks/registry.js'
import {checkFacts, type TestReport} from '../../src/boot/checks/report.js'
import {runTests} from '../../src/boot/checks/runner.js'
import {bootAndWait} from '../../src/boot/run.js'
import type {BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {prepareBuildConfig} from '../../src/platforms/baked-config.js'
import {type PxeMedium, pxeWithConfig} from '../../src/platforms/live-boot.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {repoRoot} from '../helpers/cli.js'
import {checkOutcomes} from '../helpers/report.js'

// keel build --platform pxe,iso --config, then both live outputs boot under QEMU with no disk at all: PXE by
// QEMU's direct kernel boot (-kernel/-initrd/-append, as a PXE loader hands them over), the ISO as a CD.
// Each is checked by keel test's own checks (runTests with a live target): PXE with a fresh config added to its
// initrd or fetched from ignition.config.url=, the ISO with keel test's config baked in at build time.

const work = mkdtempSync(join(tmpdir(), 'keel-live-boot-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const cache = new PackageCache(defaultCacheDir())

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** keel test's checks 1-3 passed on a system with no disk: /usr is the squashfs on two loop devices, / a tmpfs. */
function expectLiveSystem(report: TestReport): void {
  expect(checkOutcomes(report)).toEqual([
    ['ignition', 'pass', ''],
    ['verity-usr', 'pass', ''],
    ['system-running', 'pass', ''],
  ])
  const usr = checkFacts(report, 'verity-usr')
  expect(usr['usr-fstype']).toBe('squashfs')
  // dm-verity sits on the two loop devices holding the image and its hash tree.
  expect(usr['usr-devices']?.split(' ').sort()).toEqual(['(loop0)', '(loop1)'])
  expect(usr['root-fstype']).toBe('tmpfs')
  // keel's /init hands live media to systemd's initrd (its live units set up the loop devices).
  expect(checkFacts(report, 'ignition')).toMatchObject({platform: 'metal', initrd: 'systemd'})
}

describe('keel build --platform pxe,iso: live systems boot with no disk', () => {
  let key: SshKey
  let baked: TestFixture
  let dir: string
  let manifest: BuildManifest
  const artifact = (format: string) => manifest.artifacts.find((a) => a.format === format)!

  beforeAll(async () => {
    copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
    const recipe = loadRecipe(join(work, 'base.yaml')).recipe
    // The ISO can only carry keel test's config from the build: bake one in, for a key made here.
    key = await makeSshKey(work)
    baked = testFixture('b15c0000000000ed', key.publicKey)
    const {config} = prepareBuildConfig(JSON.stringify(testIgnitionConfig(baked)), 'live-checks.ign')
    dir = join(work, 'out')
    manifest = await buildImage({recipe, platforms: ['pxe', 'iso'], outDir: dir, cache, config})
  }, 1_200_000)

  it('publishes the PXE kernel and initrd, the ISO, and their live command line', () => {
    expect(manifest.artifacts.filter((a) => a.platform !== 'update').map((a) => [a.path, a.format])).toEqual([
      ['keel-0.1.0-pxe.vmlinuz', 'kernel'],
      ['keel-0.1.0-pxe.initrd', 'initramfs'],
      ['keel-0.1.0-iso.iso', 'iso'],
    ])
    for (const a of manifest.artifacts) expect(sha256(join(dir, a.path)), a.path).toBe(a.sha256)
    const pxe = manifest.kernel.cmdlines!.pxe!
    expect(pxe.split(' ')).toEqual(expect.arrayContaining(['root=tmpfs', 'mount.usrfstype=squashfs', 'systemd.verity_usr_data=/dev/loop0', 'ignition.platform.id=metal', 'ignition.firstboot']))
    expect(manifest.kernel.cmdlines!.iso).toBe(pxe)
    console.log(`live: pxe initrd ${(artifact('initramfs').size / 2 ** 20).toFixed(1)} MiB, iso ${(artifact('iso').size / 2 ** 20).toFixed(1)} MiB; build ${Object.entries(manifest.timings).filter(([k]) => k.startsWith('convert')).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ')}`)
  })

  const pxe = (): PxeMedium => ({kernel: join(dir, artifact('kernel').path), initrd: join(dir, artifact('initramfs').path), append: manifest.kernel.cmdlines!.pxe!})

  it('PXE: boots from the kernel and initrd alone (direct kernel boot) with keel test\'s config appended; checks 1-3 pass', {timeout: 1_000_000}, async () => {
    const live = {medium: (ignition: string) => pxeWithConfig(pxe(), ignition, work)}
    const report = await runTests({image: join(dir, artifact('kernel').path), live, checks: selectChecks('1,2,3'), kvm: 'auto', timeoutS: 900, cache, key, consoleLog: join(work, 'pxe-console.log')})
    console.log(`pxe: ${report.boot?.accel} to the marker in ${report.boot?.secondsToMarker} s`)
    expectLiveSystem(report)
  })

  it('keel test on a PXE kernel skips the checks that need a disk (reported as skipped, not passed)', {timeout: 1_000_000}, async () => {
    const live = {medium: (ignition: string) => pxeWithConfig(pxe(), ignition, work)}
    const report = await runTests({image: join(dir, artifact('kernel').path), live, checks: selectChecks('2,8,9,tamper'), kvm: 'auto', timeoutS: 900, cache, key})
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([['verity-usr', 'pass'], ['first-boot', 'skip'], ['root-growth', 'skip'], ['tamper', 'skip']])
    expect(report.summary).toEqual({passed: 1, failed: 0, skipped: 3})
  })

  it('ISO: boots from the CD through systemd-boot with the config baked in at build time; checks 1-3 pass', {timeout: 1_000_000}, async () => {
    const iso = join(dir, artifact('iso').path)
    const report = await runTests({image: iso, live: {medium: async () => ({cdrom: iso})}, baked, checks: selectChecks('1,2,3'), kvm: 'auto', timeoutS: 900, cache, key, consoleLog: join(work, 'iso-console.log')})
    console.log(`iso: ${report.boot?.accel} to the marker in ${report.boot?.secondsToMarker} s`)
    expectLiveSystem(report)
    // The nonce is the build's: this config can only have come from the ISO.
    expect(checkFacts(report, 'ignition')['file-sha256']).toBe(createHash('sha256').update(baked.file.content).digest('hex'))
  })

  it('ISO written to a USB stick: firmware finds the ESP in its GPT and starts the kernel from it', {timeout: 600_000}, async () => {
    // The ISO as a (virtio) disk on an overlay: no El Torito there, only the protective MBR, the GPT and the
    // ESP partition. Reaching the kernel is what differs from the CD boot; the rest is the same system.
    const boot = await bootAndWait({image: join(dir, artifact('iso').path), kvm: 'auto', timeoutS: 400, marker: /Linux version \d/, memoryMiB: 2048})
    console.log(`iso as a disk: ${boot.accel} to the kernel in ${boot.secondsToMarker} s`)
    expect(boot.ended).toBe('marker')
    expect(boot.lines.some((l) => /BdsDxe: starting .*Pci\(0x\w+,0x0\)/.test(l) && !l.includes('DVD'))).toBe(true)
  })

  it('PXE with ignition.config.url=: the initrd brings the network up and Ignition fetches the config over HTTP (before the baked one)', {timeout: 1_000_000}, async () => {
    let served = ''
    let requests = 0
    const server = createServer((req, res) => {
      requests++
      const ok = req.url === '/config.ign' && served !== ''
      res.writeHead(ok ? 200 : 404, {'content-type': 'application/json'}).end(ok ? readFileSync(served) : '')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      // QEMU's user network reaches the host's 127.0.0.1 as 10.0.2.2. keel test's fresh config is served, not
      // appended: only the fetch can bring its nonce in.
      const url = `http://10.0.2.2:${(server.address() as AddressInfo).port}/config.ign`
      const live = {medium: async (ignition: string) => ((served = ignition), {...pxe(), append: `${pxe().append} ignition.config.url=${url}`})}
      const report = await runTests({image: join(dir, artifact('kernel').path), live, checks: selectChecks('1,2'), kvm: 'auto', timeoutS: 900, cache, key, consoleLog: join(work, 'pxe-url-console.log')})
      console.log(`pxe (config URL): ${report.boot?.accel} to the marker in ${report.boot?.secondsToMarker} s`)
      expect(requests).toBeGreaterThan(0)
      expect(checkOutcomes(report)).toEqual([['ignition', 'pass', ''], ['verity-usr', 'pass', '']])
    } finally {
      server.close()
    }
  })
})
