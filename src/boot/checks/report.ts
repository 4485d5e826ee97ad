import type {KvmProbe} from '../run.js'
import type {BootTiming, CheckResult} from './types.js'

/**
 * What `keel test` reports (data), and its two text forms (pure): an aligned table for people and TAP for
 * CI harnesses. The JSON form is the TestReport itself.
 */

export interface SharedBootReport extends BootTiming {
  /** Seconds from the marker until the first ssh command succeeded. */
  secondsToSsh: number
}

export interface TestReport {
  image: string
  /** The boot the shared-boot checks ran on (absent when none was selected). */
  boot?: SharedBootReport
  /** KVM probe result, when a probe ran (also without a shared boot). */
  kvmProbe?: KvmProbe
  checks: CheckResult[]
  summary: {passed: number; failed: number; skipped: number}
  /** Wall time of the whole run. */
  seconds: number
}

export function summarize(results: readonly CheckResult[]): TestReport['summary'] {
  return {
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    skipped: results.filter((r) => r.status === 'skip').length,
  }
}

/** What one check read in the guest (its facts), by check name; empty when it did not run or read nothing. */
export function checkFacts(report: TestReport, name: string): Record<string, string> {
  return report.checks.find((c) => c.name === name)?.facts ?? {}
}

/** One line for CI logs: accelerator, seconds to the marker and to ssh, why not KVM. */
export function bootLine(report: TestReport): string {
  const b = report.boot
  const probe = report.kvmProbe
  const kvm = probe ? (probe.usable ? ` (KVM probe: usable, ${probe.seconds} s)` : ` (KVM probe: not usable after ${probe.seconds} s — ${probe.reason})`) : ''
  if (!b) return `boot: no shared boot${kvm}`
  return `boot: ${b.accel.toUpperCase()}, ready marker after ${b.secondsToMarker} s, ssh ${b.secondsToSsh} s later${kvm}`
}

function summaryLine(report: TestReport): string {
  const {passed, failed, skipped} = report.summary
  return `${report.checks.length} checks: ${passed} passed, ${failed} failed, ${skipped} skipped in ${report.seconds} s`
}

export function renderTable(report: TestReport): string {
  const rows = report.checks.map((c) => [String(c.id), c.name, c.status.toUpperCase(), `${c.seconds.toFixed(1)} s`, c.detail])
  const header = ['ID', 'CHECK', 'RESULT', 'TIME', 'DETAIL']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : i === 0 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line), '', bootLine(report), summaryLine(report)].join('\n')
}

/** TAP version 13: test points numbered 1..N in run order; the description names the check and its id. */
export function renderTap(report: TestReport): string {
  const out = ['TAP version 13', `1..${report.checks.length}`]
  report.checks.forEach((c, i) => {
    const description = `- ${c.name} (check ${c.id}): ${c.title}`.replace(/#/g, '\\#')
    if (c.status === 'skip') {
      out.push(`ok ${i + 1} ${description} # SKIP ${c.detail.replace(/\n/g, ' ')}`)
      return
    }
    out.push(`${c.status === 'pass' ? 'ok' : 'not ok'} ${i + 1} ${description}`)
    // YAML diagnostics block: the detail and the time, for people reading the log.
    out.push('  ---', `  detail: ${JSON.stringify(c.detail)}`, `  seconds: ${c.seconds}`, '  ...')
  })
  out.push(`# ${bootLine(report)}`, `# ${summaryLine(report)}`)
  return out.join('\n')
}
