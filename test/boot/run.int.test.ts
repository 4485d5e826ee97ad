import {createServer, type Server} from 'node:net'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {bootAndWait, resizeOverlay} from '../../src/boot/run.js'
import {run} from '../../src/exec/run.js'
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

describe('resizeOverlay (keel boot --disk-size, keel test\'s larger disk)', () => {
  async function overlayOf(bytes: number, name: string): Promise<string> {
    const image = join(work, `${name}.raw`)
    writeFileSync(image, Buffer.alloc(bytes))
    const overlay = join(work, `${name}.qcow2`)
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', overlay])
    return overlay
  }
  const virtualSize = async (f: string): Promise<number> => (JSON.parse((await run('qemu-img', ['info', '--output=json', f])).stdout) as {'virtual-size': number})['virtual-size']

  it('grows the overlay to exactly the size asked for; the image underneath keeps its size', async () => {
    const overlay = await overlayOf(4 << 20, 'grow')
    await resizeOverlay(overlay, {bytes: 64 << 20})
    expect(await virtualSize(overlay)).toBe(64 << 20)
    expect(await virtualSize(join(work, 'grow.raw'))).toBe(4 << 20)
  })

  it('grows the overlay by an amount over the image', async () => {
    const overlay = await overlayOf(4 << 20, 'by')
    await resizeOverlay(overlay, {growBytes: 16 << 20})
    expect(await virtualSize(overlay)).toBe(20 << 20)
    expect(await virtualSize(join(work, 'by.raw'))).toBe(4 << 20)
  })

  it('refuses a disk smaller than the image, naming the least size, and leaves the overlay as it was', async () => {
    const overlay = await overlayOf(8 << 20, 'shrink')
    const err = await failure(resizeOverlay(overlay, {bytes: 4 << 20}))
    expect(err.exit).toBe('usage')
    expect(err.message).toMatch(/cannot be smaller than the image \(8(\.0)? MiB\)/)
    expect(err.hint).toMatch(/at least 8MiB/)
    expect(await virtualSize(overlay)).toBe(8 << 20)
  })
})
