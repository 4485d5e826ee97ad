import {execa, type ResultPromise} from 'execa'
import type {Readable, Writable} from 'node:stream'
import {ToolFailedError} from '../core/errors.js'
import {requireTool, TOOL_PATH, type ToolName} from './tools.js'

/**
 * The one place keel starts processes. Argument arrays only (no shell), a minimal environment, every
 * command echoed under --verbose, and failures reported with the command, exit code and stderr tail.
 */
export interface RunOptions {
  cwd?: string
  /**
   * Added to the minimal environment (PATH, LC_ALL, SOURCE_DATE_EPOCH when set); a variable given as
   * undefined is removed (some tools change behaviour when one is merely present).
   */
  env?: Record<string, string | undefined>
  input?: string | Uint8Array
  /** Exit codes that are not failures (default: only 0). */
  okExitCodes?: number[]
  timeoutMs?: number
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

type CommandLogger = (argv: string[]) => void
let logCommand: CommandLogger | undefined

/** The CLI installs a logger under --verbose; stages never print commands themselves. */
export function setCommandLogger(logger: CommandLogger | undefined): void {
  logCommand = logger
}

export function minimalEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {PATH: TOOL_PATH.join(':'), LC_ALL: 'C.UTF-8', TZ: 'UTC'}
  if (process.env.SOURCE_DATE_EPOCH) env.SOURCE_DATE_EPOCH = process.env.SOURCE_DATE_EPOCH
  if (process.env.HOME) env.HOME = process.env.HOME
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

const STDERR_TAIL_LINES = 20

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n')
}

/** Run a tool to completion, capturing its output as text. */
export async function run(tool: ToolName, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const file = requireTool(tool)
  const argv = [file, ...args]
  logCommand?.(argv)
  const result = await execa(file, args, {
    cwd: opts.cwd,
    env: minimalEnv(opts.env),
    extendEnv: false,
    input: opts.input,
    // No input means no stdin at all: a tool that would prompt (debconf frontends do) must not wait forever.
    ...(opts.input === undefined ? {stdin: 'ignore' as const} : {}),
    reject: false,
    stripFinalNewline: false,
    timeout: opts.timeoutMs,
  })
  const ok = [0, ...(opts.okExitCodes ?? [])]
  if (result.exitCode === undefined || !ok.includes(result.exitCode)) {
    throw new ToolFailedError(argv, result.exitCode, tail(String(result.stderr ?? '')), result.signal ?? undefined)
  }
  return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)}
}

export interface StreamingProcess {
  stdin: Writable
  stdout: Readable
  /** Resolves when the process exits successfully; rejects with ToolFailedError otherwise. */
  done: Promise<void>
  kill(): void
}

/**
 * Start a tool as a filter (e.g. `xz -dc`): the caller writes to stdin and reads stdout as a stream, so
 * large data never has to sit in memory whole.
 */
export function spawnFilter(tool: ToolName, args: string[], opts: Omit<RunOptions, 'input'> = {}): StreamingProcess {
  const file = requireTool(tool)
  const argv = [file, ...args]
  logCommand?.(argv)
  const child: ResultPromise = execa(file, args, {
    cwd: opts.cwd,
    env: minimalEnv(opts.env),
    extendEnv: false,
    reject: false,
    buffer: {stdout: false, stderr: true},
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const done = child.then((result) => {
    if (result.exitCode !== 0) {
      throw new ToolFailedError(argv, result.exitCode, tail(String(result.stderr ?? '')), result.signal ?? undefined)
    }
  })
  return {stdin: child.stdin!, stdout: child.stdout!, done, kill: () => child.kill()}
}

/**
 * First line a tool prints for its version, for the build manifest. Tools with no version flag (empty
 * versionArgs) are only reported present: running them could start a prompt or change something.
 */
export async function toolVersion(tool: ToolName, versionArgs: readonly string[]): Promise<string> {
  if (versionArgs.length === 0) return 'present (no version flag)'
  const r = await run(tool, [...versionArgs], {okExitCodes: [1, 2], timeoutMs: 10_000})
  return (r.stdout || r.stderr).split('\n').find((l) => l.trim())?.trim() ?? 'unknown'
}
