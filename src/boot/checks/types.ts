import type {Reporter} from '../../core/progress.js'
import type {PackageCache} from '../../packages/cache.js'
import type {Accel} from '../qemu.js'
import type {KvmMode, KvmProbe} from '../run.js'
import type {TestFixture} from './fixture.js'

/**
 * The contract between `keel test` and its checks. A check is data plus one function: the runner decides
 * when it runs (on the shared boot, or alone with boots of its own), times it, and turns a thrown error into
 * a failure, so a check only says what it saw.
 */

export type CheckStatus = 'pass' | 'fail' | 'skip'

/** What a check returns: the verdict and one or a few lines saying what was seen (shown in the table/TAP). */
export interface CheckOutcome {
  status: CheckStatus
  detail: string
  /** What was read in the guest, by name (e.g. usr-source → /dev/mapper/usr): for --json and for tests. */
  facts?: Record<string, string>
}

export interface CheckResult extends CheckOutcome {
  id: number
  name: string
  title: string
  /** Wall time of the check's run(), boots of its own included. */
  seconds: number
}

/** One command run in the guest. */
export interface GuestCommandResult {
  code: number
  stdout: string
  stderr: string
}

export interface GuestCommandOptions {
  /** Bytes for the command's stdin (e.g. a file to copy in: `cat > /tmp/x`). */
  input?: string | Uint8Array
  /** Give up after this long (default 120 s); a timeout is an error, not an exit code. */
  timeoutS?: number
}

/** How a guest came up: what the test report shows as boot time. */
export interface BootTiming {
  accel: Accel
  kvmProbe?: KvmProbe
  /** Seconds from QEMU's start to the ready marker on the test channel. */
  secondsToMarker: number
}

/** A booted guest the checks talk to over ssh, as `core` with the run's key. */
export interface Guest {
  /**
   * Run a shell command line in the guest as core (prefix `sudo` for root; core has passwordless sudo).
   * Resolves with the exit code whatever it is; rejects only when ssh itself fails or the timeout passes.
   */
  sh(command: string, opts?: GuestCommandOptions): Promise<GuestCommandResult>
  /** What the generated Ignition config asked for (user, key, file, marker unit). */
  fixture: TestFixture
  timing: BootTiming
  /** Console lines so far (kernel and systemd output; for diagnostics, never for verdicts). */
  consoleLines(): string[]
  /** Lines the guest wrote to its test channel (/dev/ttyS1) so far. */
  channelLines(): string[]
  /** Power the guest off (QEMU is killed) and remove its run directory. Safe to call twice. */
  stop(): Promise<void>
}

export interface GuestBootOptions {
  /** Another disk to boot (e.g. a tampered copy); default: the image under test. */
  image?: string
  /** Overrides the run's timeout for this boot. */
  timeoutS?: number
}

export interface CheckContext {
  /** The image under test (absolute path). */
  image: string
  /** A scratch directory on the host for this check alone, removed after the run. */
  work: string
  cache: PackageCache
  reporter: Reporter
  kvm: KvmMode
  /** Seconds a boot may take to reach its marker. */
  timeoutS: number
  /** The shared boot: set for checks that need 'shared-boot', undefined for 'own-boot' checks. */
  guest?: Guest
  /**
   * Boot the image (or `opts.image`) once more with a fresh test config and wait for its ready marker.
   * Rejects with a KeelError 'bootFailed' (console tail in the message) when it does not come up: a check
   * that expects a failing boot catches that. The runner stops every guest a check started when it returns.
   */
  startGuest(opts?: GuestBootOptions): Promise<Guest>
}

export interface Check {
  /** The number in the list (1-4 keel's own, 5-6 tamper and rollback, 7+ extras). Unique. */
  id: number
  /** Short stable name for --checks and the JSON (kebab-case). Unique. */
  name: string
  title: string
  /**
   * 'shared-boot': runs against the one boot every such check shares (ctx.guest), in id order, before any
   * own-boot check. 'own-boot': runs after the shared guest is stopped and boots what it needs itself.
   */
  needs: 'shared-boot' | 'own-boot'
  /**
   * The check reads or changes the disk (its partitions, slots or ESP). On a live medium (PXE), which boots
   * with no disk, it is reported as skipped, never as passed.
   */
  needsDisk?: boolean
  run(ctx: CheckContext): Promise<CheckOutcome>
}
