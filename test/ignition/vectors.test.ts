import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import type {Diagnostic} from '../../src/core/diagnostics.js'
import {validate} from '../../src/ignition/index.js'
import {fixtures} from './helpers.js'

interface Vector {
  source: string
  test: string
  config: string
  expected: Array<{kind: 'error' | 'warning' | 'info'; message: string; line: number}>
}

/**
 * coreos-cloudinit's own validator tests (config/validate/*_test.go). Each expected entry must be matched by
 * a keel diagnostic on the same line with the same kind and, unless listed in REWORDED, the same message.
 * keel reports more in places; every extra diagnostic must match one of BETTER, which says why.
 */
const vectors = JSON.parse(readFileSync(`${fixtures}cloud-config/cloudinit-validate-vectors.json`, 'utf8')) as Vector[]

const BETTER: Array<[RegExp, string]> = [
  [/^deprecated key "(etcd|fleet)"/, 'issue 4: etcd 0.4 and fleet get a warning that they are retired (the vectors predate those tags)'],
  [/^write_files entry has no path/, 'these vectors are fragments; a file without a path cannot be written (upstream failed at boot)'],
  [/^unit has no name/, 'fragments again: a nameless unit cannot become an Ignition unit, so keel says it is skipped'],
  [/^invalid unit name "stop"/, 'Ignition rejects unit names without a type suffix; upstream would have run `systemctl start stop`'],
  [/is on a tmpfs/, 'issue 4: writes into /run and /tmp do not survive Ignition, so they are warned about'],
  [/^unrecognized key "unknown"/, 'the vector ran checkValidity alone; the full validator (checkStructure) reports this key too'],
  [/^invalid value custom$/, 'the full validator also checks encoding against its pattern (File.Encoding has a `valid` tag)'],
  [/^Map keys must be unique$/, 'the YAML parser also notes that its error recovery read the same key twice'],
  [/^unsupported Ignition config: no ignition.version/, 'ignitionVersion 0/1 is an Ignition spec 1 config: upstream passed it on, keel reads only 3.x'],
]

/** Vectors whose message keel words differently (same line, same or stronger kind), and why. */
const REWORDED: Record<number, string> = {
  58: "info → warning: the write_files under coreos is ignored, which is worth a warning, and the message says where it belongs",
  59: 'same as 58, for the hyphenated spelling',
  61: 'parser message from the yaml library instead of libyaml',
  62: 'parser message from the yaml library instead of libyaml',
}

/** Vectors where keel finds nothing although upstream did, and why that is right. */
const ACCEPTED: Record<number, string> = {
  60: 'a lone tab is separation whitespace in YAML 1.2 (and an empty document); libyaml rejected it',
}

function run(v: Vector): Diagnostic[] {
  // The validator's rule tests ran on bodies; TestValidate ran on whole files (header included).
  const whole = v.test === 'TestValidate'
  const r = validate(whole ? v.config : `#cloud-config\n${v.config}`, 'vector.yaml')
  return r.diagnostics.map((d) => ({...d, location: d.location && {...d.location, line: d.location.line - (whole ? 0 : 1)}}))
}

describe("coreos-cloudinit's validator vectors", () => {
  it('has all 73 vectors', () => expect(vectors).toHaveLength(73))

  it.each(vectors.map((v, i) => [i, v.test, v] as const))('#%i %s', (i, _name, v) => {
    const ours = run(v)
    const used = new Set<Diagnostic>()
    for (const e of v.expected) {
      if (ACCEPTED[i]) continue
      const kind = e.kind === 'info' ? 'warning' : e.kind
      const hit = ours.find((d) => !used.has(d) && d.location?.line === e.line && d.severity === kind && (REWORDED[i] !== undefined || d.message === e.message))
      expect(hit, `expected ${e.line}:${e.kind}: ${e.message}; got ${ours.map((d) => `${d.location?.line}:${d.severity}: ${d.message}`).join(' | ')}`).toBeDefined()
      used.add(hit!)
    }
    for (const d of ours.filter((x) => !used.has(x))) {
      expect(BETTER.some(([re]) => re.test(d.message)), `unexplained extra diagnostic ${d.location?.line}:${d.severity}: ${d.message}`).toBe(true)
    }
  })

  it('matches most vectors exactly (same diagnostics, nothing more)', () => {
    const exact = vectors.filter((v, i) => {
      if (ACCEPTED[i] || REWORDED[i]) return false
      const ours = run(v).map((d) => `${d.location?.line}:${d.severity}:${d.message}`).sort()
      return JSON.stringify(ours) === JSON.stringify(v.expected.map((e) => `${e.line}:${e.kind}:${e.message}`).sort())
    }).length
    // Of 73 vectors, 4 are reworded and 1 accepted; 41 match exactly; the rest match every expected
    // diagnostic and add only ones listed in BETTER. The count is pinned so a regression shows.
    expect(exact).toBe(EXACT)
  })
})

const EXACT = 41
