import {type Diagnostic, formatDiagnostics} from './diagnostics.js'
import {type ExitName, exitCode} from './exit-codes.js'

/**
 * An expected failure: the CLI prints `message` (no stack) and exits with the named code.
 * Anything that is not a KeelError is a bug and is reported as internal.
 */
export class KeelError extends Error {
  constructor(
    message: string,
    readonly exit: ExitName,
    readonly hint?: string,
  ) {
    super(message)
    this.name = 'KeelError'
  }

  get exitCode(): number {
    return exitCode(this.exit)
  }

  /** What the user sees on stderr. */
  render(): string {
    return this.hint ? `error: ${this.message}\nhint: ${this.hint}` : `error: ${this.message}`
  }
}

/** Several located problems in user input, reported together. */
export class DiagnosticsError extends KeelError {
  constructor(
    readonly diagnostics: Diagnostic[],
    exit: ExitName = 'input',
  ) {
    super(diagnostics.find((d) => d.severity === 'error')?.message ?? 'invalid input', exit)
    this.name = 'DiagnosticsError'
  }

  override render(): string {
    return formatDiagnostics(this.diagnostics)
  }
}

export class MissingToolError extends KeelError {
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
  ) {
    super(`required tool '${tool}' was not found`, 'missingTool', `install it with: apt-get install ${debianPackage}`)
    this.name = 'MissingToolError'
  }
}

export class ToolFailedError extends KeelError {
  constructor(
    readonly argv: string[],
    readonly code: number | undefined,
    readonly stderrTail: string,
    readonly signal?: string,
  ) {
    const status = signal ? `was killed by ${signal}` : `exited with ${code}`
    super(`command ${status}: ${argv.map(quoteArg).join(' ')}${stderrTail ? `\n${indent(stderrTail)}` : ''}`, 'toolFailed')
    this.name = 'ToolFailedError'
  }
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n')
}
