import {describe, expect, it} from 'vitest'
import {checkFacts, renderTable, renderTap, summarize, type TestReport} from '../../../src/boot/checks/report.js'
import type {CheckResult} from '../../../src/boot/checks/types.js'

const checks: CheckResult[] = [
  {id: 1, name: 'ignition', title: 'Ignition ran', status: 'pass', detail: 'core logs in', seconds: 2.34},
  {id: 3, name: 'system-running', title: 'system running', status: 'fail', detail: 'system is degraded — failed units: a.service', seconds: 12},
  {id: 5, name: 'tamper', title: 'tamper # verity', status: 'skip', detail: 'not on this image', seconds: 0},
]
const report: TestReport = {
  image: '/tmp/keel.qcow2',
  boot: {accel: 'tcg', secondsToMarker: 61.2, secondsToSsh: 0.8, kvmProbe: {usable: false, reason: 'no OVMF output', seconds: 10.1}},
  kvmProbe: {usable: false, reason: 'no OVMF output', seconds: 10.1},
  checks,
  summary: summarize(checks),
  seconds: 95.5,
}

describe('checkFacts', () => {
  it('gives one check\'s facts by name, and nothing for a check without facts or not in the report', () => {
    const withFacts: TestReport = {...report, checks: [{...checks[0]!, facts: {user: 'core:/home/core'}}, checks[1]!]}
    expect(checkFacts(withFacts, 'ignition')).toEqual({user: 'core:/home/core'})
    expect(checkFacts(withFacts, 'system-running')).toEqual({})
    expect(checkFacts(withFacts, 'containerd')).toEqual({})
  })
})

describe('keel test report rendering', () => {
  it('counts results', () => {
    expect(report.summary).toEqual({passed: 1, failed: 1, skipped: 1})
  })

  it('renders an aligned table with the boot times and a summary', () => {
    expect(renderTable(report)).toBe(
      [
        'ID  CHECK           RESULT    TIME  DETAIL',
        ' 1  ignition        PASS     2.3 s  core logs in',
        ' 3  system-running  FAIL    12.0 s  system is degraded — failed units: a.service',
        ' 5  tamper          SKIP     0.0 s  not on this image',
        '',
        'boot: TCG, ready marker after 61.2 s, ssh 0.8 s later (KVM probe: not usable after 10.1 s — no OVMF output)',
        '3 checks: 1 passed, 1 failed, 1 skipped in 95.5 s',
      ].join('\n'),
    )
  })

  it('renders TAP 13: sequential numbers, not ok with a YAML block, SKIP directive, escaped #', () => {
    expect(renderTap(report)).toBe(
      [
        'TAP version 13',
        '1..3',
        'ok 1 - ignition (check 1): Ignition ran',
        '  ---',
        '  detail: "core logs in"',
        '  seconds: 2.34',
        '  ...',
        'not ok 2 - system-running (check 3): system running',
        '  ---',
        '  detail: "system is degraded — failed units: a.service"',
        '  seconds: 12',
        '  ...',
        'ok 3 - tamper (check 5): tamper \\# verity # SKIP not on this image',
        '# boot: TCG, ready marker after 61.2 s, ssh 0.8 s later (KVM probe: not usable after 10.1 s — no OVMF output)',
        '# 3 checks: 1 passed, 1 failed, 1 skipped in 95.5 s',
      ].join('\n'),
    )
  })
})
