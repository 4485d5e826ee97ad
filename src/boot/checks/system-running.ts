import {rootScriptCheck} from './facts.js'
import type {CheckOutcome} from './types.js'

/**
 * Check 3: the system reaches 'running' — every unit started, none failed. `systemctl is-system-running
 * --wait` blocks while the boot is still starting; `timeout` bounds it. On 'degraded' the detail names the
 * failed units (systemctl --failed), which is what someone fixing the image needs first.
 */

export const WAIT_SECONDS = 180

export const SYSTEM_RUNNING_SCRIPT = `state=$(timeout ${WAIT_SECONDS} systemctl is-system-running --wait 2>&1)
echo "state=$state"
if [ "$state" != running ]; then
  systemctl --failed --plain --no-legend --no-pager | sed 's/^/failed: /'
  systemctl list-jobs --plain --no-legend --no-pager | sed 's/^/job: /'
fi
`

/** The first word of each `systemctl --failed --plain` row is the unit name. */
export function systemRunningVerdict(stdout: string): CheckOutcome {
  const lines = stdout.split('\n')
  const state = (lines.find((l) => l.startsWith('state=')) ?? 'state=').slice('state='.length).trim()
  const failed = lines.filter((l) => l.startsWith('failed: ')).map((l) => l.slice('failed: '.length).trim().split(/\s+/)[0]!).filter(Boolean)
  const jobs = lines.filter((l) => l.startsWith('job: ')).map((l) => l.slice('job: '.length).trim().split(/\s+/).slice(1, 3).join(' '))
  const facts: Record<string, string> = {state, 'failed-units': failed.join(' ')}
  if (state === 'running') return {status: 'pass', detail: 'running, no failed units', facts}
  const why = [
    failed.length ? `failed units: ${failed.join(', ')}` : '',
    jobs.length ? `jobs still queued: ${jobs.join(', ')}` : '',
    state === '' ? `no answer within ${WAIT_SECONDS} s` : '',
  ].filter(Boolean)
  return {status: 'fail', detail: `system is ${state || 'not up'}${why.length ? ` — ${why.join('; ')}` : ''}`, facts}
}

export const systemRunningCheck = rootScriptCheck(
  {id: 3, name: 'system-running', title: 'systemctl is-system-running reaches running (no failed units)'},
  SYSTEM_RUNNING_SCRIPT,
  systemRunningVerdict,
  {timeoutS: WAIT_SECONDS + 30},
)
