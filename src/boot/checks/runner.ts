import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve as resolvePath} from 'node:path'
import {KeelError} from '../../core/errors.js'
import {type Reporter, silentReporter} from '../../core/progress.js'
import type {PackageCache} from '../../packages/cache.js'
import {chooseAccel, type KvmMode} from '../run.js'
import {type LiveTarget, makeSshKey, type SshKey, startGuest} from './guest.js'
import {runOrder} from './registry.js'
import {summarize, type TestReport} from './report.js'
import type {TestFixture} from './fixture.js'
import type {Check, CheckContext, CheckResult, Guest, GuestBootOptions} from './types.js'

/**
 * keel test's runner: one shared boot for the shared-boot checks (in id order, over ssh), then each
 * own-boot check alone with the boots it starts itself. Each check is timed; an exception is its failure.
 */

export interface TestRunOptions {
  image: string
  checks: readonly Check[]
  kvm: KvmMode
  memoryMiB?: number
  cpus?: number
  /** Seconds each boot may take to its ready marker. */
  timeoutS: number
  /** Keep the shared boot's serial console here. */
  consoleLog?: string
  cache: PackageCache
  reporter?: Reporter
  /** Each result as soon as its check is done. */
  onResult?: (result: CheckResult) => void
  /** Boot this live medium instead of the disk `image` (which then only names the artifact in the report). */
  live?: LiveTarget
  /** The image carries its test config from the build (see StartGuestOptions.baked); `key` is then required. */
  baked?: TestFixture
  /** The run's SSH key (default: a new one). */
  key?: SshKey
}

function since(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10
}

export async function runTests(opts: TestRunOptions): Promise<TestReport> {
  const started = performance.now()
  const reporter = opts.reporter ?? silentReporter
  const image = resolvePath(opts.image)
  const dir = mkdtempSync(join(tmpdir(), 'keel-test-'))
  const results: CheckResult[] = []
  const report: TestReport = {image, checks: results, summary: {passed: 0, failed: 0, skipped: 0}, seconds: 0}
  const startedGuests: Guest[] = []
  try {
    const key = opts.key ?? (await makeSshKey(dir))
    const boot = (o: GuestBootOptions = {}, consoleLog?: string) =>
      startGuest({image: o.image ? resolvePath(o.image) : image, dir, key, kvm: opts.kvm, memoryMiB: opts.memoryMiB, cpus: opts.cpus, timeoutS: o.timeoutS ?? opts.timeoutS, consoleLog, reporter, ...(o.image ? {} : {live: opts.live, baked: opts.baked})})
    const ordered = runOrder(opts.checks).filter((check) => {
      if (!(opts.live && check.needsDisk)) return true
      const skipped: CheckResult = {id: check.id, name: check.name, title: check.title, status: 'skip', detail: 'needs a disk: a live medium boots without one', seconds: 0}
      results.push(skipped)
      opts.onResult?.(skipped)
      return false
    })
    const shared = ordered.filter((c) => c.needs === 'shared-boot')
    const own = ordered.filter((c) => c.needs === 'own-boot')
    let sharedGuest: Guest | undefined
    if (shared.length) {
      // A boot that does not come up is the run's failure (exit bootFailed, console tail), not N check failures.
      const g = await boot({}, opts.consoleLog)
      sharedGuest = g
      report.boot = {...g.timing, secondsToSsh: g.secondsToSsh}
      report.kvmProbe = g.timing.kvmProbe
    } else if (opts.kvm !== 'off') {
      report.kvmProbe = (await chooseAccel(opts.kvm, reporter)).probe
    }
    const runOne = async (check: Check, guest: Guest | undefined): Promise<void> => {
      const work = join(dir, `check-${check.id}`)
      mkdirSync(work, {recursive: true})
      const mine: Guest[] = []
      const ctx: CheckContext = {
        image,
        work,
        cache: opts.cache,
        reporter,
        kvm: opts.kvm,
        timeoutS: opts.timeoutS,
        guest,
        startGuest: async (o) => {
          const g = await boot(o)
          mine.push(g)
          startedGuests.push(g)
          return g
        },
      }
      const t = performance.now()
      let result: CheckResult
      try {
        const outcome = await check.run(ctx)
        result = {id: check.id, name: check.name, title: check.title, ...outcome, seconds: since(t)}
      } catch (err) {
        const message = err instanceof KeelError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err)
        result = {id: check.id, name: check.name, title: check.title, status: 'fail', detail: message, seconds: since(t)}
      } finally {
        for (const g of mine) await g.stop()
        rmSync(work, {recursive: true, force: true})
      }
      results.push(result)
      opts.onResult?.(result)
    }
    try {
      for (const check of shared) await runOne(check, sharedGuest)
    } finally {
      await sharedGuest?.stop()
    }
    for (const check of own) await runOne(check, undefined)
  } finally {
    for (const g of startedGuests) await g.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  // Skipped checks were recorded first; the report lists every check in run order.
  const position = new Map(runOrder(opts.checks).map((c, i) => [c.id, i]))
  results.sort((a, b) => position.get(a.id)! - position.get(b.id)!)
  report.summary = summarize(results)
  report.seconds = since(started)
  return report
}
