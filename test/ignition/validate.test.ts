import {describe, expect, it} from 'vitest'
import {detectKind, translate, validate} from '../../src/ignition/index.js'
import {brief} from './helpers.js'

describe('what a user-data file is (detected from its first line, as coreos-cloudinit did)', () => {
  it.each([
    ['#cloud-config\nhostname: a\n', 'cloud-config'],
    ['#cloud-config   \r\nhostname: a\n', 'cloud-config'],
    ['\uFEFF#cloud-config\n', 'cloud-config'],
    ['#!/bin/bash\necho hi\n', 'script'],
    ['{"ignition": {"version": "3.3.0"}}', 'ignition'],
    ['{"ignitionVersion": 1}', 'ignition'],
    ['{"ignition": {"version": "3.3.0"},', 'ignition'],
    ['{}', 'unknown'],
    ['# cloud-config\n', 'unknown'],
    ['hostname: a\n', 'unknown'],
    ['', 'unknown'],
  ])('%j is %s', (text, kind) => expect(detectKind(text)).toBe(kind))

  it('validate accepts a script (nothing to check), translate refuses it with a reason', () => {
    expect(validate('#!/bin/sh\ntrue\n', 's').diagnostics).toEqual([])
    expect(brief(translate('#!/bin/sh\ntrue\n', 's').diagnostics)).toEqual(['1:error: a "#!" user-data script has no Ignition equivalent; run it from a oneshot unit instead'])
  })

  it('broken JSON Ignition gets located syntax errors, not the header error', () => {
    const r = validate('{\n  "ignition": {"version": "3.3.0"},\n  "storage": {\n}\n', 'x.ign')
    expect(r.kind).toBe('ignition')
    expect(r.diagnostics.every((d) => d.severity === 'error' && (d.location?.line ?? 0) >= 1)).toBe(true)
    expect(r.diagnostics.some((d) => /must be "#cloud-config"/.test(d.message))).toBe(false)
  })

  it('an Ignition config given to translate comes back unchanged when valid', () => {
    const text = '{"ignition": {"version": "3.2.0"}, "passwd": {"users": [{"name": "core"}]}}'
    expect(translate(text, 'x.ign').config).toEqual(JSON.parse(text))
  })
})
