import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {exitCode} from '../../src/core/exit-codes.js'
import {keel} from '../helpers/cli.js'

// keel boot --marker with real QEMU on a disk with nothing to boot: OVMF's boot manager reports on the serial
// console that the virtio disk (planQemu puts it at PCI slot 3) has no boot loader.
const work = mkdtempSync(join(tmpdir(), 'keel-boot-cli-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))
const blank = join(work, 'blank.raw')
writeFileSync(blank, Buffer.alloc(1 << 20))
const FIRMWARE_LINE = 'BdsDxe: failed to load Boot0002 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0): Not Found'

describe('keel boot --marker', () => {
  it('succeeds when the line appears, and says which accelerator ran', () => {
    const r = keel(['boot', blank, '--kvm', 'off', '--marker', FIRMWARE_LINE, '--timeout', '60', '--ssh-port', '2297', '-q', '--json'])
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout) as {accel: string; ended: string; secondsToMarker: number; ssh: string}
    expect(out).toMatchObject({accel: 'tcg', ended: 'marker', ssh: 'ssh -p 2297 core@127.0.0.1'})
    expect(out.secondsToMarker).toBeGreaterThan(0)
    expect(r.stderr).toContain('booting')
  })

  it('fails with the console tail when it does not come in time', () => {
    // Long enough for the firmware's banner to be in the tail even when other boots share the cores.
    const r = keel(['boot', blank, '--kvm', 'off', '--marker', 'NEVER', '--timeout', '40', '--ssh-port', '2297', '-q'])
    expect(r.status).toBe(exitCode('bootFailed'))
    expect(r.stderr).toMatch(/no 'NEVER' on the console within 40 s \(tcg\)/)
    expect(r.stderr).toContain('BdsDxe')
  })
})
