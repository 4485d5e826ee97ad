import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {Diagnostic} from '../../src/core/diagnostics.js'
import {checkIgnition, translate, validate} from '../../src/ignition/index.js'
import {keel} from '../helpers/cli.js'
import {corpusFiles, ignitionExamples} from './helpers.js'

/** A small deterministic PRNG (mulberry32), so every run feeds the same damaged inputs. */
function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const YAML_NOISE = [':', '-', ' ', '\t', '\n', '"', "'", '{', '}', '[', ']', '!!binary ', '&a', '*a', '#', '|', '>', '$private_ipv4', '\\', '%', '\u0000', '\uFFFD']

function mutate(text: string, rand: () => number): string {
  let out = text
  const edits = 1 + Math.floor(rand() * 6)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (out.length + 1))
    const op = rand()
    if (op < 0.4) out = out.slice(0, at) + YAML_NOISE[Math.floor(rand() * YAML_NOISE.length)] + out.slice(at)
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rand() * 20))
    else out = out.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x80)) + out.slice(at + 1)
  }
  return out
}

function damagedInputs(): Array<{name: string; text: string}> {
  const rand = prng(20261121)
  const out: Array<{name: string; text: string}> = []
  const sources = [...corpusFiles(), ...ignitionExamples()]
  for (const {name, text} of sources) {
    for (const frac of [0.1, 0.33, 0.5, 0.77, 0.95]) out.push({name: `${name}@trunc${frac}`, text: text.slice(0, Math.floor(text.length * frac))})
    for (let i = 0; i < 8; i++) out.push({name: `${name}@mut${i}`, text: mutate(text, rand)})
  }
  for (let i = 0; i < 20; i++) {
    const bytes = Buffer.from(Array.from({length: 1 + Math.floor(rand() * 3000)}, () => Math.floor(rand() * 256)))
    out.push({name: `binary${i}`, text: (i % 2 ? '#cloud-config\n' : '') + bytes.toString('latin1')})
  }
  out.push({name: 'alias-bomb', text: `#cloud-config\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`})
  out.push({name: 'deep', text: `#cloud-config\nhostname: ${'['.repeat(5000)}`})
  return out
}

function wellFormed(d: Diagnostic): boolean {
  return d.message.length > 0 && (!d.location || (d.location.line >= 1 && d.location.col >= 1))
}

describe('no input makes keel crash', () => {
  const inputs = damagedInputs()

  it('truncated, mutated and binary corpus files give diagnostics, never an exception (library, bulk)', () => {
    expect(inputs.length).toBeGreaterThan(550)
    let failed = 0
    for (const {name, text} of inputs) {
      const r = translate(text, name)
      const v = validate(text, name)
      expect(r.diagnostics.every(wellFormed), name).toBe(true)
      expect(v.diagnostics.every(wellFormed), name).toBe(true)
      if (r.config) {
        // Whatever survives the damage still translates to a config that passes our own checks.
        expect(checkIgnition('out.ign', JSON.stringify(r.config)).diagnostics.filter((d) => d.severity === 'error'), name).toEqual([])
      } else {
        expect(r.diagnostics.some((d) => d.severity === 'error'), name).toBe(true)
        failed++
      }
    }
    expect(failed).toBeGreaterThan(100)
  })

  it('keys named like Object properties (__proto__, constructor) stay data: unknown keys, no effect', () => {
    const r = translate('#cloud-config\n__proto__:\n  hostname: evil\nusers:\n  - name: a\n    constructor: 1\n', 'x')
    expect(r.config).toEqual({ignition: {version: '3.3.0'}, passwd: {users: [{name: 'a'}]}})
    expect(r.diagnostics.map((d) => d.message)).toEqual(['unrecognized key "__proto__"', 'unrecognized key "constructor"'])
  })

  it('the CLI answers a sample with a clean diagnostic and exit code 0 or 3, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-robust-'))
    const sample = inputs.filter((_x, i) => i % 97 === 0).slice(0, 3)
    for (const [i, {name, text}] of sample.entries()) {
      const path = join(dir, `input-${i}.yaml`)
      writeFileSync(path, text, 'latin1')
      const r = keel(['config', 'translate', path])
      expect([0, 3], `${name}: ${r.stderr}`).toContain(r.status)
      expect(r.stderr, name).not.toMatch(/\n\s+at |internal error/)
      if (r.status === 3) {
        expect(r.stdout, name).toBe('')
        expect(r.stderr, name).toMatch(/:\d+:\d+: error: /)
      } else expect(JSON.parse(r.stdout).ignition.version, name).toBe('3.3.0')
    }
  })
})
