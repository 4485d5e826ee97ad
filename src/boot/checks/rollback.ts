import {entryState, parseEntryFileName} from '../entries.js'
import {copySlot} from '../slot-install-io.js'
import {AbSession, FAIL_HEALTH_ARG, HEALTH_UNIT} from './ab-session.js'
import {verdict} from './facts.js'
import type {Check, CheckContext, CheckOutcome} from './types.js'

/**
 * Check 6, rollback: slot B is installed as a new release with one try (keel-b+1.conf) whose health check
 * fails (its entry carries FAIL_HEALTH_ARG, on which a test unit fails, so systemd-boot-check-no-failures
 * fails and systemd-bless-boot never blesses it). The next boot must come back on A, and B must not be
 * tried again (its entry stays at +0-1: systemd-boot renames an entry each time it boots it).
 *
 * Boots, on one working copy: (1) first boot of A (Ignition installs the report and health units); then B
 * is installed with one try; (2) B boots, spends its try, fails its health check; (3) A boots. Then the
 * other half of "marked good only after a healthy boot": B is installed again with one try and a healthy
 * command line; (4) B boots and systemd-bless-boot makes its entry keel-b.conf.
 */
export async function runRollback(ctx: Pick<CheckContext, 'image' | 'work' | 'kvm' | 'timeoutS'>): Promise<CheckOutcome> {
  const s = await AbSession.create(ctx, 'rollback')
  const first = await s.boot()
  if (!first.reported) return {status: 'fail', detail: `the first boot (slot A) did not report: ${first.ended} after ${first.seconds} s`}
  const b = await copySlot(s.disk, {from: 'A', to: 'B', tries: 1, extraArgs: [FAIL_HEALTH_ARG]})
  const entriesBefore = await s.entries()
  const trial = await s.boot()
  const entriesAfterTrial = await s.entries()
  const back = await s.boot()
  const entriesAfter = await s.entries()
  await copySlot(s.disk, {from: 'A', to: 'B', tries: 1})
  const healthy = await s.boot()
  const entriesAfterHealthy = await s.entries()
  const bState = (names: string[]) => names.filter((n) => parseEntryFileName(n)?.slot === 'B').map((n) => `${n}:${entryState(n)}`).join(' ')
  const facts = {
    'entries-installed': entriesBefore.join(' '),
    'boot2-entry': trial.facts.entry ?? '',
    'boot2-usr-data': trial.facts['usr-data'] ?? '',
    'boot2-health': trial.facts.health ?? '',
    'boot2-bless': trial.facts.bless ?? '',
    'boot2-failed': trial.facts.failed ?? '',
    'entries-after-boot2': entriesAfterTrial.join(' '),
    'boot3-entry': back.facts.entry ?? '',
    'entries-after-boot3': entriesAfter.join(' '),
    'boot4-entry': healthy.facts.entry ?? '',
    'boot4-bless': healthy.facts.bless ?? '',
    'entries-after-boot4': entriesAfterHealthy.join(' '),
    boots: s.log.join('; '),
  }
  return verdict(
    [
      {what: 'B installed with one try', ok: entriesBefore.includes('keel-b+1.conf'), saw: entriesBefore.join(' ')},
      {what: 'the trial boot came up on B', ok: trial.reported && trial.facts.entry === 'keel-b+1.conf' && trial.facts['usr-data'] === b.partitions.usr.guid, saw: `${trial.facts.entry ?? '(no report)'} ${trial.facts['usr-data'] ?? ''}`},
      {what: "B's health check failed", ok: (trial.facts.failed ?? '').includes(HEALTH_UNIT) && trial.facts.bless !== 'active', saw: `failed: ${trial.facts.failed ?? ''}; bless: ${trial.facts.bless ?? ''}`},
      {what: 'B left with no tries', ok: bState(entriesAfterTrial) === 'keel-b+0-1.conf:bad', saw: bState(entriesAfterTrial), want: 'keel-b+0-1.conf:bad'},
      {what: 'the next boot came back on A', ok: back.reported && (back.facts.entry ?? '').startsWith('keel-a'), saw: back.facts.entry ?? `(no report: ${back.ended})`},
      {what: 'B not tried again', ok: bState(entriesAfter) === 'keel-b+0-1.conf:bad', saw: bState(entriesAfter), want: 'keel-b+0-1.conf:bad'},
      {what: 'a healthy B, tried once, is blessed', ok: healthy.facts.entry === 'keel-b+1.conf' && healthy.facts.bless === 'active' && bState(entriesAfterHealthy) === 'keel-b.conf:good', saw: `${healthy.facts.entry ?? '(no report)'} bless ${healthy.facts.bless ?? ''}, ${bState(entriesAfterHealthy)}`},
    ],
    `B tried once and not blessed (${trial.seconds} s), A booted next (${back.seconds} s), B left at +0-1; reinstalled healthy, B was blessed (${healthy.seconds} s)`,
    facts,
  )
}

export const rollbackCheck: Check = {
  id: 6,
  name: 'rollback',
  title: 'Rollback: slot B with one try fails its health check → the next boot is slot A, B is not tried again',
  needs: 'own-boot',
  needsDisk: true,
  run: (ctx) => runRollback(ctx),
}
