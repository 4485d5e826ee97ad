import {Listr, ListrLogger, ProcessOutput} from 'listr2'
import type {Reporter} from '../core/progress.js'

export type ProgressMode = 'tty' | 'plain'

/** listr2 on an interactive terminal; plain lines in CI, when piped, or with --verbose. */
export function progressMode(verbose: boolean): ProgressMode {
  return !verbose && process.stderr.isTTY && !process.env.CI ? 'tty' : 'plain'
}

/**
 * Runs named steps one after another, showing progress on stderr only (stdout carries data).
 */
export class Steps {
  constructor(private readonly mode: ProgressMode) {}

  async step<T>(title: string, fn: (report: Reporter) => Promise<T>): Promise<T> {
    return this.mode === 'tty' ? this.withListr(title, fn) : this.withLines(title, fn)
  }

  private async withListr<T>(title: string, fn: (report: Reporter) => Promise<T>): Promise<T> {
    let result!: T
    const list = new Listr(
      [
        {
          title,
          task: async (_ctx, task) => {
            const started = Date.now()
            result = await fn({
              status: (text) => {
                task.output = text
              },
              info: (text) => {
                task.output = text
              },
            })
            task.title = `${title} (${seconds(Date.now() - started)})`
          },
          rendererOptions: {outputBar: 1},
        },
      ],
      {
        renderer: 'default',
        // listr2 draws on stdout by default; stdout is reserved for data.
        rendererOptions: {logger: new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})},
        exitOnError: true,
      },
    )
    await list.run()
    return result
  }

  private async withLines<T>(title: string, fn: (report: Reporter) => Promise<T>): Promise<T> {
    const started = Date.now()
    let lastStatus = 0
    process.stderr.write(`==> ${title}\n`)
    const result = await fn({
      // Status lines are throttled in plain mode: CI logs want a heartbeat, not a flood.
      status: (text) => {
        const now = Date.now()
        if (now - lastStatus >= 2000) {
          lastStatus = now
          process.stderr.write(`    ${text}\n`)
        }
      },
      info: (text) => process.stderr.write(`    ${text}\n`),
    })
    process.stderr.write(`    done in ${seconds(Date.now() - started)}\n`)
    return result
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}
