import {accessSync, constants, copyFileSync, existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {StringDecoder} from 'node:string_decoder'
import {join, resolve as resolvePath} from 'node:path'
import {KeelError, ToolFailedError} from '../core/errors.js'
import {formatBytes, type Reporter, silentReporter} from '../core/progress.js'
import {run, spawnFilter} from '../exec/run.js'
import {consoleTail, failureIn, LineSplitter, lineMatches} from './console.js'
import {type Accel, type BootMedium, imageFormat, OVMF_CODE, OVMF_VARS, overlayArgs, planQemu} from './qemu.js'

/**
 * Booting an image under QEMU and watching its serial console: the thin I/O around planQemu. Every run gets
 * its own directory (overlay, firmware variables, console log) that is removed afterwards unless the caller
 * asked to keep the console log somewhere.
 */

export type KvmMode = 'auto' | 'on' | 'off'

export interface KvmProbe {
  usable: boolean
  /** Why: the device is missing, QEMU failed (its message), or the firmware came up. */
  reason: string
  seconds: number
}

/** OVMF's boot manager prints this on the serial port within seconds of starting, before any disk is read. */
const FIRMWARE_ALIVE = /BdsDxe|UEFI Interactive Shell|Shell>/

/**
 * Whether KVM really runs OVMF here. /dev/kvm existing proves nothing (a paravirtual KVM accepts the
 * device open and then fails on the first MSR or emulation exit, see boot.md), so this boots the firmware
 * alone under KVM and waits for its first serial output.
 */
export async function probeKvm(opts: {timeoutS?: number} = {}): Promise<KvmProbe> {
  // Real KVM shows the firmware in about a second; a paravirtual one stops at once with an internal error
  // and QEMU then waits paused, so the timeout is what ends a failing probe.
  const timeoutS = opts.timeoutS ?? 10
  const started = performance.now()
  const elapsed = (): number => Math.round((performance.now() - started) / 100) / 10
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
  } catch {
    return {usable: false, reason: '/dev/kvm is missing or not accessible', seconds: elapsed()}
  }
  const dir = mkdtempSync(join(tmpdir(), 'keel-kvm-probe-'))
  try {
    const vars = join(dir, 'vars.fd')
    copyFileSync(OVMF_VARS, vars)
    const log = join(dir, 'serial.log')
    const argv = [
      '-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-smp', '1', '-m', '256',
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
      '-nographic', '-monitor', 'none', '-serial', `file:${log}`, '-net', 'none', '-no-reboot',
    ]
    const outcome = await watchQemu(argv, log, {marker: FIRMWARE_ALIVE, timeoutS, failFast: false})
    if (outcome.kind === 'marker') return {usable: true, reason: 'OVMF started under KVM', seconds: elapsed()}
    if (outcome.kind === 'exited') return {usable: false, reason: `QEMU with KVM exited: ${outcome.message}`, seconds: elapsed()}
    return {usable: false, reason: `OVMF printed nothing under KVM within ${timeoutS} s (a paravirtual KVM stops with an internal error)`, seconds: elapsed()}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

let probed: Promise<KvmProbe> | undefined

/** Pick the accelerator for a run: 'on' insists on KVM (and fails if the probe does), 'off' is TCG. Probed once per process. */
export async function chooseAccel(mode: KvmMode, reporter: Reporter = silentReporter): Promise<{accel: Accel; probe?: KvmProbe}> {
  if (mode === 'off') return {accel: 'tcg'}
  probed ??= probeKvm()
  const probe = await probed
  reporter.info(`KVM probe: ${probe.usable ? 'usable' : 'not usable'} (${probe.reason}, ${probe.seconds} s)`)
  if (probe.usable) return {accel: 'kvm', probe}
  if (mode === 'on') throw new KeelError(`KVM was required but does not work here: ${probe.reason}`, 'bootFailed', 'use --kvm auto or --kvm off to boot under TCG')
  return {accel: 'tcg', probe}
}

type WatchOutcome =
  | {kind: 'marker'; seconds: number; line: string}
  | {kind: 'failure'; seconds: number; line: string}
  | {kind: 'timeout'; seconds: number}
  | {kind: 'exited'; seconds: number; message: string; ok: boolean}

interface WatchOptions {
  marker?: string | RegExp
  timeoutS: number
  /** Stop at the first console line that means the boot failed (emergency mode, panic). */
  failFast: boolean
  /** Every console line as it arrives. */
  onLine?: (line: string) => void
  /** The test channel's log (second serial port), watched for the marker too. */
  channelLog?: string
  /** Leave QEMU running when the marker is seen: the outcome then carries `live` to follow and stop it. */
  keepRunning?: boolean
}

/** A QEMU left running after its marker (watchQemu with keepRunning). */
interface LiveQemu {
  /** Read what the console and the channel logged since (appended to the outcome's lines). */
  poll(): void
  /** Kill QEMU and wait for it to go. */
  stop(): Promise<void>
}

/** Follows a log file QEMU appends to: new text since the last read, decoded as UTF-8 across reads, as lines. */
class LogFollower {
  private offset = 0
  private readonly splitter = new LineSplitter()
  // UTF-8 (systemd's '…'), decoded across read boundaries.
  private readonly decoder = new StringDecoder('utf8')
  private readonly buf = Buffer.alloc(1 << 16)
  readonly lines: string[] = []

  constructor(private readonly path: string) {}

  /** Lines completed since the last call (also appended to `lines`). */
  poll(): string[] {
    let fd: number
    try {
      fd = openSync(this.path, 'r')
    } catch {
      return []
    }
    let text = ''
    try {
      for (;;) {
        const n = readSync(fd, this.buf, 0, this.buf.length, this.offset)
        if (n <= 0) break
        this.offset += n
        text += this.decoder.write(this.buf.subarray(0, n))
      }
    } finally {
      closeSync(fd)
    }
    const fresh = this.splitter.push(text)
    this.lines.push(...fresh)
    return fresh
  }

  /** Keep the unfinished last line too (a prompt such as 'login: ' never gets its newline). */
  finish(): void {
    this.poll()
    const tail = this.splitter.pending()
    if (tail) this.lines.push(tail)
  }
}

/**
 * Start QEMU, follow its serial console (and the test channel, when there is one), stop at the marker (on
 * either), a failure line on the console, the timeout or QEMU's exit.
 */
async function watchQemu(argv: string[], log: string, opts: WatchOptions): Promise<WatchOutcome & {lines: string[]; channel: string[]; live?: LiveQemu}> {
  const started = performance.now()
  const seconds = (): number => Math.round((performance.now() - started) / 100) / 10
  const qemu = spawnFilter('qemu-system-x86_64', argv)
  qemu.stdin.end()
  qemu.stdout.resume()
  let exited: string | undefined
  let exitedOk = false
  qemu.done.then(
    () => {
      exitedOk = true
      exited = 'exited with 0'
    },
    (err: unknown) => (exited = err instanceof ToolFailedError ? err.stderrTail || err.message : String(err)),
  )
  const serial = new LogFollower(log)
  const channel = opts.channelLog ? new LogFollower(opts.channelLog) : undefined
  const collected = (): {lines: string[]; channel: string[]} => ({lines: serial.lines, channel: channel?.lines ?? []})
  const stop = async (): Promise<void> => {
    qemu.kill()
    await qemu.done.catch(() => undefined)
  }
  let kept = false
  const atMarker = (line: string): WatchOutcome & {lines: string[]; channel: string[]; live?: LiveQemu} => {
    kept = opts.keepRunning === true
    const live = kept ? {poll: () => void (serial.poll(), channel?.poll()), stop} : undefined
    return {kind: 'marker', seconds: seconds(), line, ...collected(), ...(live ? {live} : {})}
  }
  try {
    for (;;) {
      for (const line of channel?.poll() ?? []) {
        if (opts.marker && lineMatches(line, opts.marker)) return atMarker(line)
      }
      for (const line of serial.poll()) {
        opts.onLine?.(line)
        if (opts.marker && lineMatches(line, opts.marker)) return atMarker(line)
        if (opts.failFast && failureIn(line)) return {kind: 'failure', seconds: seconds(), line, ...collected()}
      }
      if (exited !== undefined) {
        serial.finish()
        channel?.finish()
        return {kind: 'exited', seconds: seconds(), message: exited, ok: exitedOk, ...collected()}
      }
      if (seconds() >= opts.timeoutS) return {kind: 'timeout', seconds: seconds(), ...collected()}
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    if (!kept) await stop()
  }
}

export interface BootOptions {
  /** The disk image (booted on a throwaway overlay); ignored when `medium` is given. */
  image?: string
  /** Boot with no disk: a kernel + initrd (PXE) or an ISO as a CD (live systems). */
  medium?: BootMedium
  ignition?: string
  kvm: KvmMode
  memoryMiB?: number
  cpus?: number
  sshPort?: number
  /** Keep the console log here (else it lives in the run directory and is removed). */
  consoleLog?: string
  timeoutS: number
  /** Stop once a console line equals this string (or matches this RegExp); without it, run to the timeout or QEMU's exit. */
  marker?: string | RegExp
  /** Each console line as it arrives (keel boot shows the console with it). */
  onLine?: (line: string) => void
  /**
   * Give the guest a second serial port, /dev/ttyS1, logged apart from the console: check scripts write
   * their results there (and may print the marker there) without interleaving with kernel or systemd lines.
   */
  channel?: boolean
  /**
   * The throwaway overlay's size, when it should be larger than the image, as a disk in a cloud or a server is
   * larger than the image written to it (ROOT grows into the rest on the first boot): `keel boot --disk-size`
   * gives an absolute size, `keel test` a growth.
   */
  diskSize?: DiskSize
  reporter?: Reporter
}

export interface BootResult {
  accel: Accel
  kvmProbe?: KvmProbe
  /** Seconds from QEMU's start to the marker line (undefined when no marker was given). */
  secondsToMarker?: number
  /** How the run ended. */
  ended: 'marker' | 'timeout' | 'exited'
  seconds: number
  consoleLog?: string
  /** The console as lines (escapes removed). */
  lines: string[]
  /** What the guest wrote to /dev/ttyS1, as lines (empty without `channel`). */
  channel: string[]
  argv: string[]
}

/**
 * Boot the image on a fresh overlay and wait for the marker. Fails with the console's last lines when the
 * boot reaches emergency mode or a kernel panic, or (with a marker) when the timeout passes first.
 */
export async function bootAndWait(opts: BootOptions): Promise<BootResult> {
  const {live: _live, ...result} = await boot(opts, false)
  return result
}

/** A guest left running after its marker (bootAndKeep). */
export interface RunningBoot extends BootResult {
  /** The console so far: read again from the log on each call. */
  consoleLines(): string[]
  /** The test channel so far (empty without `channel`). */
  channelLines(): string[]
  /** Power the guest off (QEMU is killed) and remove the run directory. Safe to call more than once. */
  stop(): Promise<void>
}

/**
 * Like bootAndWait, but QEMU keeps running after the marker: for checks that log in (ssh) once the guest is
 * up. The caller must stop() it; until then the overlay and the logs stay in the run directory.
 */
export async function bootAndKeep(opts: BootOptions & {marker: string | RegExp}): Promise<RunningBoot> {
  const {live, ...result} = await boot(opts, true)
  let stopped: Promise<void> | undefined
  return {
    ...result,
    consoleLines: () => {
      live!.poll()
      return result.lines
    },
    channelLines: () => {
      live!.poll()
      return result.channel
    },
    stop: () => (stopped ??= live!.stop().finally(() => rmSync(live!.runDir, {recursive: true, force: true}))),
  }
}

async function boot(opts: BootOptions, keepRunning: boolean): Promise<BootResult & {live?: LiveQemu & {runDir: string}}> {
  const reporter = opts.reporter ?? silentReporter
  const medium = opts.medium
  const files = medium ? ('cdrom' in medium ? [medium.cdrom] : [medium.kernel, medium.initrd]) : [opts.image ?? '']
  for (const file of files) {
    try {
      if (!statSync(file).isFile()) throw new Error('not a file')
    } catch {
      throw new KeelError(`cannot read image ${file}`, 'input')
    }
  }
  const image = resolvePath(files[0]!)
  const head = Buffer.alloc(4)
  const fd = openSync(image, 'r')
  readSync(fd, head, 0, 4, 0)
  closeSync(fd)
  if (opts.ignition) {
    try {
      statSync(opts.ignition)
    } catch {
      throw new KeelError(`cannot read Ignition config ${opts.ignition}`, 'input')
    }
  }
  const {accel, probe} = await chooseAccel(opts.kvm, reporter)
  const runDir = mkdtempSync(join(tmpdir(), 'keel-boot-'))
  let live: (LiveQemu & {runDir: string}) | undefined
  try {
    const consoleLog = opts.consoleLog ? resolvePath(opts.consoleLog) : join(runDir, 'console.log')
    rmSync(consoleLog, {force: true})
    const plan = planQemu({
      runDir,
      accel,
      memoryMiB: opts.memoryMiB ?? 2048,
      cpus: opts.cpus ?? 2,
      sshPort: opts.sshPort,
      ignition: opts.ignition ? resolvePath(opts.ignition) : undefined,
      serial: {file: consoleLog},
      channel: opts.channel ? {file: join(runDir, 'channel.log')} : undefined,
      medium,
    })
    copyFileSync(OVMF_VARS, plan.files.vars)
    if (!medium) {
      await run('qemu-img', overlayArgs(image, imageFormat(head), plan.files.overlay))
      if (opts.diskSize) await resizeOverlay(plan.files.overlay, opts.diskSize)
    }
    reporter.info(`booting ${files.join(' + ')} under ${accel.toUpperCase()}`)
    const outcome = await watchQemu(plan.argv, consoleLog, {
      marker: opts.marker,
      timeoutS: opts.timeoutS,
      failFast: true,
      onLine: opts.onLine,
      channelLog: opts.channel ? join(runDir, 'channel.log') : undefined,
      keepRunning,
    })
    if (outcome.live) live = {...outcome.live, runDir}
    const keptLog = opts.consoleLog ? consoleLog : undefined
    if (outcome.kind === 'exited' && !outcome.ok) {
      throw new KeelError(`QEMU failed after ${outcome.seconds} s (${accel}): ${outcome.message.trim()}`, 'toolFailed')
    }
    if (outcome.kind === 'failure') {
      throw new KeelError(`the boot failed after ${outcome.seconds} s (${accel}): ${outcome.line.trim()}\n${consoleTail(outcome.lines)}`, 'bootFailed')
    }
    if (opts.marker && outcome.kind !== 'marker') {
      const why = outcome.kind === 'timeout' ? `no '${String(opts.marker)}' on the console within ${opts.timeoutS} s` : `QEMU ${outcome.message} before '${String(opts.marker)}'`
      throw new KeelError(`${why} (${accel})\n${consoleTail(outcome.lines)}`, 'bootFailed', keptLog ? `full console: ${keptLog}` : 'keep the console with --console-log FILE')
    }
    return {
      accel,
      kvmProbe: probe,
      secondsToMarker: outcome.kind === 'marker' ? outcome.seconds : undefined,
      ended: outcome.kind === 'marker' ? 'marker' : outcome.kind === 'timeout' ? 'timeout' : 'exited',
      seconds: outcome.seconds,
      consoleLog: keptLog,
      lines: outcome.lines,
      channel: outcome.channel,
      argv: plan.argv,
      ...(live ? {live} : {}),
    }
  } finally {
    // A guest left running owns its run directory until stop(); anything else is done with it now.
    if (!live) rmSync(runDir, {recursive: true, force: true})
  }
}

export interface InPlaceBootOptions {
  /**
   * Kept across boots, owned by the caller: the OVMF variable store (systemd-boot's EFI variables —
   * LoaderEntryDefault, the random seed — must survive a reboot like NVRAM does) and each boot's logs.
   */
  sessionDir: string
  /** A raw working copy of a disk, booted as is: the guest's writes (ESP renames, ROOT) stay in it. */
  disk: string
  ignition?: string
  kvm: KvmMode
  timeoutS: number
  /** Stop at this line on the console or the test channel; without it, run until the guest reboots or powers off. */
  marker?: string | RegExp
  /** Stop at emergency-mode or panic lines (default). False watches a boot that is meant to fail and reboot. */
  failFast?: boolean
  reporter?: Reporter
}

export interface InPlaceBootResult {
  accel: Accel
  /** 1 for the session's first boot, then 2, 3... (also in the log names). */
  boot: number
  /** marker: the line was seen; exited: the guest rebooted or powered off (QEMU runs with -no-reboot); timeout. */
  ended: 'marker' | 'exited' | 'timeout' | 'failure'
  seconds: number
  /** The failure line, with ended 'failure'. */
  failureLine?: string
  lines: string[]
  channel: string[]
  consoleLog: string
}

/**
 * One boot of a disk that lives on across boots: unlike bootAndWait there is no overlay and no fresh firmware
 * state, so what one boot leaves behind (a boot counter spent, an entry marked bad, EFI variables) is what the
 * next boot starts from. A guest reboot ends the run (QEMU exits), so the caller can inspect or edit the disk
 * between boots and then call this again with the same session directory.
 */
export async function bootInPlace(opts: InPlaceBootOptions): Promise<InPlaceBootResult> {
  const reporter = opts.reporter ?? silentReporter
  const disk = resolvePath(opts.disk)
  const head = Buffer.alloc(4)
  try {
    const fd = openSync(disk, 'r')
    readSync(fd, head, 0, 4, 0)
    closeSync(fd)
  } catch {
    throw new KeelError(`cannot read disk ${opts.disk}`, 'input')
  }
  const {accel} = await chooseAccel(opts.kvm, reporter)
  const dir = resolvePath(opts.sessionDir)
  let boot = 1
  while (existsSync(join(dir, `console-${boot}.log`))) boot++
  const consoleLog = join(dir, `console-${boot}.log`)
  const channelLog = join(dir, `channel-${boot}.log`)
  const plan = planQemu({
    runDir: dir,
    accel,
    memoryMiB: 2048,
    cpus: 2,
    ignition: opts.ignition ? resolvePath(opts.ignition) : undefined,
    serial: {file: consoleLog},
    channel: {file: channelLog},
    disk: {file: disk, format: imageFormat(head)},
  })
  if (!existsSync(plan.files.vars)) copyFileSync(OVMF_VARS, plan.files.vars)
  reporter.info(`boot ${boot} of ${opts.disk} under ${accel.toUpperCase()}`)
  const outcome = await watchQemu(plan.argv, consoleLog, {marker: opts.marker, timeoutS: opts.timeoutS, failFast: opts.failFast ?? true, channelLog})
  if (outcome.kind === 'exited' && !outcome.ok) throw new KeelError(`QEMU failed after ${outcome.seconds} s (${accel}): ${outcome.message.trim()}`, 'toolFailed')
  return {
    accel,
    boot,
    ended: outcome.kind,
    seconds: outcome.seconds,
    ...(outcome.kind === 'failure' ? {failureLine: outcome.line} : {}),
    lines: outcome.lines,
    channel: outcome.channel,
    consoleLog,
  }
}

/** A disk's size: exactly this many bytes, or this many bytes more than the image. */
export type DiskSize = {bytes: number} | {growBytes: number}

/** Grow a fresh overlay to a size or by an amount; never shrink it (that would cut off ROOT and the backup GPT). */
export async function resizeOverlay(overlay: string, size: DiskSize): Promise<void> {
  const info = JSON.parse((await run('qemu-img', ['info', '--output=json', overlay])).stdout) as {'virtual-size': number}
  const imageBytes = info['virtual-size']
  const bytes = 'bytes' in size ? size.bytes : imageBytes + size.growBytes
  if (bytes < imageBytes) {
    throw new KeelError(`the disk cannot be smaller than the image (${formatBytes(imageBytes)})`, 'usage', `give a size of at least ${Math.ceil(imageBytes / 2 ** 20)}MiB`)
  }
  if (bytes > imageBytes) await run('qemu-img', ['resize', '-q', overlay, String(bytes)])
}
