import type {TestReport} from '../../src/boot/checks/report.js'

/** [name, status, detail unless it passed] per check: a failing check's table shows why in the test's diff. */
export function checkOutcomes(report: TestReport): Array<[string, string, string]> {
  return report.checks.map((c) => [c.name, c.status, c.status === 'pass' ? '' : c.detail])
}
