import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {KeelError, ToolFailedError} from '../../core/errors.js'
import {type Reporter, silentReporter} from '../../core/progress.js'
import {run} from '../../exec/run.js'
import type {BootMedium} from '../qemu.js'
import {bootAndKeep, type KvmMode} from '../run.js'
import {type TestFixture, testFixture, testIgnitionConfig} from './fixture.js'
import type {Guest, GuestCommandOptions, GuestCommandResult} from './types.js'

/**
 * A test guest: the image booted with the test Ignition config, left running after its ready marker, and
 * reached over ssh as core with the run's key (the thin I/O under the checks).
 */

export interface SshKey {
  privateKey: string
  publicKey: string
}

/** A throwaway Ed25519 key pair for one test run (no passphrase; it lives in the run's temp dir). */
export async function makeSshKey(dir: string): Promise<SshKey> {
  const privateKey = join(dir, 'id_ed25519')
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'keel-test', '-f', privateKey])
  return {privateKey, publicKey: readFileSync(`${privateKey}.pub`, 'utf8').trim()}
}

/**
 * ssh options for a guest on 127.0.0.1:port. The host key is new on every boot, so it is neither checked nor
 * remembered; the user's ssh config and agent are ignored so only the run's key is offered.
 */
export function sshArgs(port: number, privateKey: string): string[] {
  return [
    '-F', '/dev/null',
    '-i', privateKey,
    '-p', String(port),
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=10',
    'core@127.0.0.1',
  ]
}

/** ssh exits 255 for its own failures; every other code is the remote command's. */
const REMOTE_EXIT_CODES = Array.from({length: 254}, (_, i) => i + 1)

/** A free TCP port on 127.0.0.1 (asked of the kernel; QEMU binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))))
    })
  })
}

export interface StartGuestOptions {
  image: string
  /** The run's directory: the Ignition config is written here. */
  dir: string
  key: SshKey
  kvm: KvmMode
  memoryMiB?: number
  cpus?: number
  timeoutS: number
  consoleLog?: string
  reporter?: Reporter
  /** Boot a live medium (no disk) instead of `image`; see LiveTarget. */
  live?: LiveTarget
  /**
   * The image carries its test config from the build (`keel build --config`; an ISO can take no other, and
   * a metal image reads no fw_cfg): the fixture that config was made from. No config is handed to the guest
   * then, and `key` must be the one the fixture names.
   */
  baked?: TestFixture
}

/**
 * A guest with no disk: a PXE kernel or an ISO. How the run's Ignition config gets in depends on the medium
 * (a PXE initrd takes it as one more archive, or fetches it from ignition.config.url=), so the caller, who
 * knows the medium, makes it from the config file (an ISO, whose config is baked in, ignores it).
 */
export interface LiveTarget {
  medium(ignitionPath: string): Promise<BootMedium>
}

/** keel test boots on a disk this much larger than the image: ROOT must grow into it (check root-growth). */
export const TEST_DISK_GROWTH_MIB = 1024

let guestCount = 0

/** Boot the image with a fresh nonce and config, wait for the ready marker on the test channel and for ssh. */
export async function startGuest(opts: StartGuestOptions): Promise<Guest & {secondsToSsh: number}> {
  const reporter = opts.reporter ?? silentReporter
  const fixture = opts.baked ?? testFixture(randomBytes(8).toString('hex'), opts.key.publicKey)
  if (fixture.publicKey !== opts.key.publicKey.trim()) throw new KeelError('the baked test config names another SSH key than the run\'s', 'internal')
  const ignition = join(opts.dir, `config-${++guestCount}.ign`)
  writeFileSync(ignition, `${JSON.stringify(testIgnitionConfig(fixture))}\n`)
  const port = await freePort()
  const boot = await bootAndKeep({
    image: opts.image,
    medium: opts.live ? await opts.live.medium(ignition) : undefined,
    ignition: opts.baked || opts.live ? undefined : ignition,
    kvm: opts.kvm,
    memoryMiB: opts.memoryMiB,
    cpus: opts.cpus,
    sshPort: port,
    consoleLog: opts.consoleLog,
    timeoutS: opts.timeoutS,
    marker: fixture.marker,
    channel: true,
    diskSize: opts.live ? undefined : {growBytes: TEST_DISK_GROWTH_MIB * 2 ** 20},
    reporter,
  })
  const ssh = sshArgs(port, opts.key.privateKey)
  const sh = async (command: string, o: GuestCommandOptions = {}): Promise<GuestCommandResult> => {
    const r = await run('ssh', [...ssh, command], {input: o.input, okExitCodes: REMOTE_EXIT_CODES, timeoutMs: (o.timeoutS ?? 120) * 1000})
    return {code: r.exitCode, stdout: r.stdout, stderr: r.stderr}
  }
  const guest = {
    sh,
    fixture,
    timing: {accel: boot.accel, kvmProbe: boot.kvmProbe, secondsToMarker: boot.secondsToMarker!},
    consoleLines: boot.consoleLines,
    channelLines: boot.channelLines,
    stop: boot.stop,
    secondsToSsh: 0,
  }
  try {
    guest.secondsToSsh = await waitForSsh(sh, opts.timeoutS)
  } catch (err) {
    await boot.stop()
    throw err
  }
  reporter.info(`guest up under ${boot.accel.toUpperCase()}: marker after ${boot.secondsToMarker} s, ssh ${guest.secondsToSsh} s later (port ${port})`)
  return guest
}

/** The marker unit runs after sshd, but the forwarded port may need the guest's DHCP lease: retry briefly. */
async function waitForSsh(sh: Guest['sh'], timeoutS: number): Promise<number> {
  const started = performance.now()
  const elapsed = (): number => Math.round((performance.now() - started) / 100) / 10
  let last = ''
  while (elapsed() < Math.min(timeoutS, 120)) {
    try {
      const r = await sh('true', {timeoutS: 30})
      if (r.code === 0) return elapsed()
      last = `exit ${r.code}: ${r.stderr.trim()}`
    } catch (err) {
      last = err instanceof ToolFailedError ? err.stderrTail.trim() || err.message : String(err)
    }
    await new Promise((r) => setTimeout(r, 2000))
  }
  throw new KeelError(`the guest reached its ready marker but ssh as core did not work: ${last}`, 'bootFailed', 'check the Ignition user and key and sshd (keel boot --ssh-port P, then ssh -p P core@127.0.0.1)')
}
