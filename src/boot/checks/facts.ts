import type {TestFixture} from './fixture.js'
import type {Check, CheckOutcome} from './types.js'

/**
 * The checks' common shape (pure): a script run in the guest prints `name=value` lines, they are parsed
 * into facts, and a list of expectations over the facts gives the verdict.
 */

/** Shell prelude for check scripts: `fact NAME VALUE` prints one fact line (newlines in VALUE become spaces). */
export const FACT_PRELUDE = `fact() { printf '%s=%s\\n' "$1" "$(printf '%s' "$2" | tr '\\n' ' ' | sed 's/ *$//')"; }\n`

/** `name=value` lines → facts; other lines are ignored, a repeated name keeps its last value. */
export function parseFacts(stdout: string): Record<string, string> {
  const facts: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const m = /^([a-z][a-z0-9-]*)=(.*)$/.exec(line)
    if (m) facts[m[1]!] = m[2]!.trim()
  }
  return facts
}

export interface Expectation {
  /** What is being checked, as the detail names it (e.g. '/usr source'). */
  what: string
  ok: boolean
  /** What was seen, shown when the expectation fails. */
  saw: string
  /** What was wanted, shown when the expectation fails. */
  want?: string
}

/** Pass when every expectation holds (detail: `summary`); otherwise fail, naming each one that did not. */
export function verdict(expectations: readonly Expectation[], summary: string, facts?: Record<string, string>): CheckOutcome {
  const failed = expectations.filter((e) => !e.ok)
  if (failed.length === 0) return {status: 'pass', detail: summary, facts}
  const detail = failed.map((e) => `${e.what}: ${e.saw === '' ? '(nothing)' : `'${e.saw}'`}${e.want !== undefined ? `, want '${e.want}'` : ''}`).join('; ')
  return {status: 'fail', detail, facts}
}

/** An expectation that a fact equals a value. */
export function equals(facts: Record<string, string>, name: string, want: string, what = name): Expectation {
  const saw = facts[name] ?? ''
  return {what, ok: saw === want, saw, want}
}

/**
 * The common check: on the shared boot, run one script as root in the guest (`sudo bash -s`, the script on
 * stdin) and judge what it printed. `script` may depend on the run's fixture (its nonce, user, file).
 */
export function rootScriptCheck(
  meta: Pick<Check, 'id' | 'name' | 'title' | 'needsDisk'>,
  script: string | ((fixture: TestFixture) => string),
  judge: (stdout: string, fixture: TestFixture) => CheckOutcome,
  options: {timeoutS?: number} = {},
): Check {
  return {
    ...meta,
    needs: 'shared-boot',
    async run({guest}) {
      const input = typeof script === 'string' ? script : script(guest!.fixture)
      const r = await guest!.sh('sudo bash -s', {input, ...(options.timeoutS ? {timeoutS: options.timeoutS} : {})})
      return judge(r.stdout, guest!.fixture)
    },
  }
}
