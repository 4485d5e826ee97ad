import {Command, Flags, Errors} from '@oclif/core'
import {type Diagnostic, formatDiagnostics} from '../core/diagnostics.js'
import {KeelError} from '../core/errors.js'
import {exitCode, type ExitName} from '../core/exit-codes.js'
import {setCommandLogger} from '../exec/run.js'
import {progressMode, Steps} from './progress.js'

/**
 * Every keel command: shared flags, typed result, one error policy.
 * - stdout carries the result only: JSON with --json, text otherwise.
 * - stderr carries progress and diagnostics.
 * - KeelError → its message and stable exit code; anything else → one line and a --verbose hint.
 */
export abstract class KeelCommand<T> extends Command {
  static override baseFlags = {
    json: Flags.boolean({description: 'print the result as JSON on stdout (nothing else goes there)', default: false}),
    verbose: Flags.boolean({char: 'v', description: 'plain progress lines, every command run, stack traces', default: false}),
  }

  protected verbose = false
  protected json = false
  protected steps!: Steps

  /** Do the work and return the typed result; flags are parsed by the subclass with this.parse(). */
  protected abstract execute(): Promise<T>

  /** Human-readable stdout for the result (without --json). */
  protected abstract renderText(result: T): string

  /**
   * A result that is printed whole but still means failure (a test check failed, a disk has problems)
   * names its exit code here; the default is success.
   */
  protected resultExit(_result: T): ExitName | undefined {
    return undefined
  }

  async run(): Promise<T | undefined> {
    const argv = this.argv
    this.json = argv.includes('--json')
    this.verbose = argv.includes('--verbose') || argv.includes('-v')
    this.steps = new Steps(progressMode(this.verbose))
    if (this.verbose) setCommandLogger((cmd) => process.stderr.write(`$ ${cmd.join(' ')}\n`))
    try {
      const result = await this.execute()
      const text = this.json ? `${JSON.stringify(result, null, 2)}\n` : this.renderText(result)
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
      const failed = this.resultExit(result)
      if (failed) process.exitCode = exitCode(failed)
      return result
    } catch (err) {
      process.exitCode = this.report(err)
      return undefined
    }
  }

  /** Print warnings (or any non-fatal diagnostics) on stderr; stdout stays data only. */
  protected printDiagnostics(list: readonly Diagnostic[]): void {
    if (list.length) process.stderr.write(`${formatDiagnostics(list)}\n`)
  }

  /** Run a loader that returns warnings alongside its result, print the warnings, return the result. */
  protected loadWithWarnings<R extends {diagnostics: Diagnostic[]}>(load: () => R): R {
    const loaded = load()
    this.printDiagnostics(loaded.diagnostics)
    return loaded
  }

  private report(err: unknown): number {
    if (err instanceof KeelError) {
      process.stderr.write(`${err.render()}\n`)
      if (this.verbose && err.stack) process.stderr.write(`${err.stack}\n`)
      return err.exitCode
    }
    if (err instanceof Errors.CLIError) {
      // Flag and argument parsing errors from oclif.
      process.stderr.write(`error: ${(err as Error).message}\nhint: see keel ${this.id?.replace(/:/g, ' ') ?? ''} --help\n`)
      return 2
    }
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(`internal error: ${message.split('\n')[0]}\n`)
    if (this.verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
    else process.stderr.write('hint: rerun with --verbose for details\n')
    return 1
  }
}
