import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {exitCode} from '../../src/core/exit-codes.js'
import {keel} from '../helpers/cli.js'

// The command's error paths (a real boot is test/boot/boot.boot.test.ts): they fail before QEMU starts.
const work = mkdtempSync(join(tmpdir(), 'keel-boot-cmd-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('keel boot', () => {
  it('a missing image is an input error', () => {
    const r = keel(['boot', join(work, 'missing.img'), '--kvm', 'off', '--timeout', '5'])
    expect(r.status).toBe(exitCode('input'))
    expect(r.stderr).toMatch(/cannot read image .*missing\.img/)
  })

  it('a missing Ignition config is an input error', () => {
    const image = join(work, 'disk.raw')
    writeFileSync(image, Buffer.alloc(4096))
    const r = keel(['boot', image, '--ignition', join(work, 'nope.ign'), '--kvm', 'off', '--timeout', '5'])
    expect(r.status).toBe(exitCode('input'))
    expect(r.stderr).toMatch(/cannot read Ignition config/)
  })

  it('an invalid cloud-config is reported with its location before anything boots', () => {
    const cc = join(work, 'cc.yaml')
    writeFileSync(cc, '#cloud-config\nwrite_files:\n  - path: /etc/x\n    permissions: "999"\n')
    const r = keel(['boot', join(work, 'disk.raw'), '--config', cc, '--kvm', 'off', '--timeout', '5'])
    expect(r.status).toBe(exitCode('input'))
    expect(r.stderr).toMatch(/cc\.yaml:4:\d+: error: invalid value 999/)
  })

  it('--ignition and --config exclude each other; --kvm takes auto, on or off', () => {
    expect(keel(['boot', 'x.img', '--ignition', 'a.ign', '--config', 'b.yaml']).status).toBe(exitCode('usage'))
    expect(keel(['boot', 'x.img', '--kvm', 'maybe']).status).toBe(exitCode('usage'))
  })

  it('live artifacts: --append is for PXE kernels, an ISO takes no --ignition, a PXE kernel needs its manifest', () => {
    const iso = join(work, 'keel-0.1.0-iso.iso')
    writeFileSync(iso, Buffer.alloc(4096))
    const disk = join(work, 'disk.raw')
    writeFileSync(disk, Buffer.alloc(4096))
    const ign = join(work, 'c.ign')
    writeFileSync(ign, '{"ignition":{"version":"3.3.0"}}')
    const appended = keel(['boot', disk, '--append', 'ignition.config.url=http://x/c.ign', '--kvm', 'off', '--timeout', '5'])
    expect(appended.status).toBe(exitCode('usage'))
    expect(appended.stderr).toMatch(/--append adds kernel arguments to a PXE boot only/)
    const isoIgn = keel(['boot', iso, '--ignition', ign, '--kvm', 'off', '--timeout', '5'])
    expect(isoIgn.status).toBe(exitCode('usage'))
    expect(isoIgn.stderr).toMatch(/baked in at build time/)
    const kernel = join(work, 'keel-0.1.0-pxe.vmlinuz')
    writeFileSync(kernel, Buffer.alloc(4096))
    const pxe = keel(['boot', kernel, '--kvm', 'off', '--timeout', '5'])
    expect(pxe.status).toBe(exitCode('input'))
    expect(pxe.stderr).toMatch(/manifest\.json/)
  })
})
