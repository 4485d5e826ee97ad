import {createServer, type Server} from 'node:net'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {bootAndWait} from '../../src/boot/run.js'
import {KeelError} from '../../src/core/errors.js'

// bootAndWait with real QEMU and OVMF, on disks that cannot boot: the failure paths, in seconds.
const work = mkdtempSync(join(tmpdir(), 'keel-run-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))
const blank = join(work, 'blank.raw')
writeFileSync(blank, Buffer.alloc(1 << 20))

async function failure(p: Promise<unknown>): Promise<KeelError> {
  try {
    await p
  } catch (err) {
    if (err instanceof KeelError) return err
    throw err
  }
  throw new Error('expected a KeelError')
}

describe('bootAndWait', () => {
  it('a marker that never comes ends at the timeout with the console tail (OVMF finds nothing to boot)', async () => {
    // OVMF reaches its boot manager in ~2 s on a quiet machine, ~20 s when the cores are busy with other boots.
    const err = await failure(bootAndWait({image: blank, kvm: 'off', timeoutS: 40, marker: 'NEVER-PRINTED'}))
    expect(err.exit).toBe('bootFailed')
    expect(err.message).toMatch(/no 'NEVER-PRINTED' on the console within 40 s \(tcg\)/)
    // the firmware's boot manager ran and said so on the serial console
    expect(err.message).toMatch(/BdsDxe/)
  })

  it('QEMU failing to start (the ssh port is taken) is a tool failure with its message, not a finished boot', async () => {
    const server: Server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    try {
      const err = await failure(bootAndWait({image: blank, kvm: 'off', timeoutS: 30, sshPort: port}))
      expect(err.exit).toBe('toolFailed')
      expect(err.message).toContain(`Could not set up host forwarding rule 'tcp:127.0.0.1:${port}-:22'`)
    } finally {
      server.close()
    }
  })

  it('keeps the console log where asked', async () => {
    const log = join(work, 'console.log')
    // The firmware's banner is the marker: the run ends as soon as it is there, however slow the machine.
    const r = await bootAndWait({image: blank, kvm: 'off', timeoutS: 120, marker: /BdsDxe/, consoleLog: log})
    expect(r.ended).toBe('marker')
    expect(r.consoleLog).toBe(log)
    expect(r.lines.some((l) => l.includes('BdsDxe'))).toBe(true)
  })
})
