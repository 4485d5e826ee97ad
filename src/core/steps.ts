import {type Reporter, silentReporter} from './progress.js'

/** Runs one named step and shows its progress; the CLI passes its listr2/plain-line runner. */
export type StepRunner = <T>(title: string, fn: (report: Reporter) => Promise<T>) => Promise<T>

export const quietSteps: StepRunner = (_title, fn) => fn(silentReporter)

/**
 * A step runner that also records each step's wall time under a short name, for the build manifests.
 * Returns the runner and the timings it fills (in run order).
 */
export function timedSteps(step: StepRunner): {
  timed: <T>(name: string, title: string, fn: (report: Reporter) => Promise<T>) => Promise<T>
  timings: Record<string, number>
} {
  const timings: Record<string, number> = {}
  const timed = async <T>(name: string, title: string, fn: (report: Reporter) => Promise<T>): Promise<T> => {
    const started = performance.now()
    try {
      return await step(title, fn)
    } finally {
      timings[name] = Math.round(performance.now() - started)
    }
  }
  return {timed, timings}
}
