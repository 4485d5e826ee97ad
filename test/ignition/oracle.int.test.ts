import {describe, expect, it} from 'vitest'
import {SPEC_VERSIONS, translate} from '../../src/ignition/index.js'
import {CORPUS_OUTCOME} from './corpus.test.js'
import {corpusFiles, ignitionExamples, ignitionValidate} from './helpers.js'
import {KEY_CASES} from './key-cases.js'

/** Debian's ignition-validate (package ignition) is the judge of every config keel writes. */
describe('ignition-validate accepts every translated output', () => {
  it('the output of every key case, silently (no warning either)', async () => {
    const outputs = KEY_CASES.filter((k) => k.translates !== false).map((k) => ({key: k.key, config: translate(k.input, 'f', k.opts).config}))
    expect(outputs).toHaveLength(KEY_CASES.length - 7)
    for (const {key, config} of outputs) {
      expect(config, key).toBeDefined()
      expect(await ignitionValidate(config), key).toEqual({exitCode: 0, output: ''})
    }
  })

  it('the output of every translatable corpus file, in every supported spec', async () => {
    let checked = 0
    for (const {name, text} of corpusFiles()) {
      if (CORPUS_OUTCOME[name] !== 'ok') continue
      for (const spec of SPEC_VERSIONS) {
        const config = translate(text, name, {spec}).config
        expect(await ignitionValidate(config), `${name} (${spec})`).toEqual({exitCode: 0, output: ''})
        checked++
      }
    }
    expect(checked).toBe(22 * SPEC_VERSIONS.length)
  })

  it('agrees with keel about the Ignition examples (both accept them)', async () => {
    for (const {name, text} of ignitionExamples()) {
      expect((await ignitionValidate(JSON.parse(text))).exitCode, name).toBe(0)
    }
  })

  it('and rejects what keel rejects: a config with a relative path', async () => {
    const bad = {ignition: {version: '3.3.0'}, storage: {files: [{path: 'etc/x'}]}}
    expect((await ignitionValidate(bad)).exitCode).toBe(1)
  })
})
