import {copyFileSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runRollback} from '../../../src/boot/checks/rollback.js'
import {runTamper} from '../../../src/boot/checks/tamper.js'
import type {CheckOutcome} from '../../../src/boot/checks/types.js'
import {buildImage} from '../../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../../src/packages/cache.js'
import {loadRecipe} from '../../../src/recipe/load.js'
import {repoRoot} from '../../helpers/cli.js'

// keel test's checks 5 and 6 on a real `keel build recipes/base.yaml`: each boots its own working copy of the
// image three times in QEMU (KVM when it works, else TCG), with the firmware's variables kept between boots.
// Both run at once: under TCG each boot takes 1.5–4 minutes on a busy 2-core machine.

const work = mkdtempSync(join(tmpdir(), 'keel-ab-test-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

let image: string

beforeAll(async () => {
  copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
  const recipe = loadRecipe(join(work, 'base.yaml')).recipe
  const manifest = await buildImage({recipe, platforms: ['qemu'], outDir: join(work, 'image'), cache: new PackageCache(defaultCacheDir())})
  image = join(work, 'image', manifest.artifacts.find((a) => a.format === 'qcow2')!.path)
}, 1_200_000)

function show(name: string, o: CheckOutcome): void {
  console.log(`${name}: ${o.status} — ${o.detail}\n  ${Object.entries(o.facts ?? {}).map(([k, v]) => `${k}=${v}`).join('\n  ')}`)
}

describe.concurrent('A/B slots on a built image', () => {
  it('check 5: a flipped byte in USR-A → A is refused, marked bad, and B boots', {timeout: 2_400_000}, async () => {
    const dir = join(work, 'tamper')
    const o = await runTamper({image, work: dir, kvm: 'auto', timeoutS: 900})
    show('tamper', o)
    expect(o.facts?.['boot2-ended']).toBe('exited')
    expect(o.facts?.['boot2-fallback']).toMatch(/keel-slot-fallback: .*marked it bad \(keel-a\+0\.conf\)/)
    expect(o.facts?.['entries-after-boot2']?.split(' ')).toEqual(['keel-a+0.conf', 'keel-b.conf'])
    expect(o.facts?.['boot3-entry']).toBe('keel-b.conf')
    expect(o.facts?.['boot3-usr-data']).toBe(o.facts?.['b-usr-partuuid'])
    expect(o.status).toBe('pass')
  })

  it('check 6: B with one try fails its health check → A boots next and B is not tried again; a healthy B is blessed', {timeout: 2_400_000}, async () => {
    const dir = join(work, 'rollback')
    const o = await runRollback({image, work: dir, kvm: 'auto', timeoutS: 900})
    show('rollback', o)
    expect(o.facts?.['entries-installed']).toBe('keel-a.conf keel-b+1.conf')
    expect(o.facts?.['boot2-entry']).toBe('keel-b+1.conf')
    expect(o.facts?.['boot2-health']).toBe('failed')
    expect(o.facts?.['boot2-bless']).not.toBe('active')
    expect(o.facts?.['entries-after-boot2']).toBe('keel-a.conf keel-b+0-1.conf')
    expect(o.facts?.['boot3-entry']).toBe('keel-a.conf')
    expect(o.facts?.['entries-after-boot3']).toBe('keel-a.conf keel-b+0-1.conf')
    // Reinstalled with a healthy command line, B is tried and blessed: the counter is gone.
    expect(o.facts?.['boot4-entry']).toBe('keel-b+1.conf')
    expect(o.facts?.['boot4-bless']).toBe('active')
    expect(o.facts?.['entries-after-boot4']).toBe('keel-a.conf keel-b.conf')
    expect(o.status).toBe('pass')
  })
})
