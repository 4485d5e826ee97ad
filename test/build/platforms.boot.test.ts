import {copyFileSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {testFixture, testIgnitionConfig, type TestFixture} from '../../src/boot/checks/fixture.js'
import {makeSshKey, type SshKey} from '../../src/boot/checks/guest.js'
import {selectChecks} from '../../src/boot/checks/registry.js'
import {checkFacts, type TestReport} from '../../src/boot/checks/report.js'
import {runTests} from '../../src/boot/checks/runner.js'
import type {BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {prepareBuildConfig} from '../../src/platforms/baked-config.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {repoRoot} from '../helpers/cli.js'
import {checkOutcomes} from '../helpers/report.js'

// `keel build --platform qemu,metal --config`: one build, two disks, each booted and checked by keel test's
// own checks 1 (Ignition) and 2 (verity /usr). The build bakes keel test's config for a known key in; the qemu
// qcow2 is then booted with a fresh config through fw_cfg (which must win: its nonce is new), the metal raw
// image with nothing but what is baked into it (metal reads no fw_cfg).

const work = mkdtempSync(join(tmpdir(), 'keel-platforms-boot-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))
const cache = new PackageCache(defaultCacheDir())

function expectPassed(report: TestReport): void {
  expect(checkOutcomes(report)).toEqual([
    ['ignition', 'pass', ''],
    ['verity-usr', 'pass', ''],
  ])
}

describe('keel build --platform qemu,metal --config, booted and checked', () => {
  let dir: string
  let manifest: BuildManifest
  let key: SshKey
  let baked: TestFixture
  const disk = (platform: 'qemu' | 'metal') => join(dir, manifest.artifacts.find((a) => a.platform === platform && a.format === {qemu: 'qcow2', metal: 'raw'}[platform])!.path)

  beforeAll(async () => {
    copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
    const recipe = loadRecipe(join(work, 'base.yaml')).recipe
    key = await makeSshKey(work)
    baked = testFixture('ba6ed0000000c0f1', key.publicKey)
    const {config, diagnostics} = prepareBuildConfig(JSON.stringify(testIgnitionConfig(baked)), 'baked.ign')
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    dir = join(work, 'out')
    manifest = await buildImage({recipe, platforms: ['qemu', 'metal'], outDir: dir, cache, updateLock: true, config})
  }, 3_600_000)

  it('qemu: the qcow2 boots with a fresh config from fw_cfg over the baked one; /usr is the verity erofs, read-only', {timeout: 1_200_000}, async () => {
    const report = await runTests({image: disk('qemu'), checks: selectChecks('1,2'), kvm: 'auto', timeoutS: 900, cache, key, consoleLog: join(work, 'qemu-console.log')})
    console.log(`qemu: ${report.boot?.accel} to the marker in ${report.boot?.secondsToMarker} s`)
    expectPassed(report)
    expect(checkFacts(report, 'ignition')).toMatchObject({platform: 'qemu', initrd: 'keel-init'})
    expect(checkFacts(report, 'verity-usr')['usr-fstype']).toBe('erofs')
  })

  it('metal: the raw image boots with the baked config alone; /usr is the verity erofs, read-only', {timeout: 1_200_000}, async () => {
    const report = await runTests({image: disk('metal'), checks: selectChecks('1,2'), kvm: 'auto', timeoutS: 900, cache, key, baked, consoleLog: join(work, 'metal-console.log')})
    console.log(`metal: ${report.boot?.accel} to the marker in ${report.boot?.secondsToMarker} s`)
    expectPassed(report)
    expect(checkFacts(report, 'ignition')).toMatchObject({platform: 'metal', initrd: 'keel-init'})
    expect(checkFacts(report, 'verity-usr')['usr-fstype']).toBe('erofs')
  })
})
