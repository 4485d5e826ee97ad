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
})
