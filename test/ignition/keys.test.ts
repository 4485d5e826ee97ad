import {describe, expect, it} from 'vitest'
import {sortDiagnostics} from '../../src/core/diagnostics.js'
import {type IgnitionConfig, SPEC_VERSIONS, translate} from '../../src/ignition/index.js'
import {brief, cc} from './helpers.js'
import {KEY_CASES} from './key-cases.js'

describe('cloud-config keys → Ignition (one case per key)', () => {
  for (const k of KEY_CASES) {
    it(k.key, () => {
      const r = translate(k.input, 'user-data', k.opts)
      const diags = sortDiagnostics(r.diagnostics)
      if (k.translates === false) expect(r.config).toBeUndefined()
      else expect(r.config, brief(diags).join('\n')).toBeDefined()
      k.check(r.config as IgnitionConfig | undefined, brief(diags), diags)
    })
  }

  it('--spec selects the version written; the same content is valid in every 3.x spec', () => {
    for (const spec of SPEC_VERSIONS) {
      const r = translate(cc('hostname: a\n'), 'f', {spec})
      expect((r.config as IgnitionConfig).ignition).toEqual({version: spec})
    }
  })

  it('the output is deterministic (same input, same bytes)', () => {
    const input = KEY_CASES.map((k) => k.input).find((t) => t.includes('abc abc'))!
    expect(JSON.stringify(translate(input, 'f').config)).toBe(JSON.stringify(translate(input, 'f').config))
  })
})
