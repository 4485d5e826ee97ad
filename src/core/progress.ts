/**
 * How stages report progress without knowing how it is shown. The CLI supplies a listr2-backed reporter on
 * a TTY and a plain line printer in CI or with --verbose; tests pass `silentReporter`.
 */
export interface Reporter {
  /** A short status line for the running step (bytes fetched, package being unpacked...). */
  status(text: string): void
  /** A line worth keeping in the log (a warning, a decision taken). */
  info(text: string): void
}

export const silentReporter: Reporter = {status() {}, info() {}}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}
