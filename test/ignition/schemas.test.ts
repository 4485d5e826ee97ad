import {readFileSync} from 'node:fs'
import {Ajv} from 'ajv'
import {describe, expect, it} from 'vitest'
import {checkIgnition, IGNITION_SPECS, SPEC_VERSIONS, validate} from '../../src/ignition/index.js'
import {brief, ignitionExamples} from './helpers.js'
import {expectedSchemaFiles, schemasDir} from './write-schemas.js'

describe('JSON Schemas under schemas/', () => {
  it('one Ignition schema per supported spec, plus cloud-config, identical to the typed registry', () => {
    const files = expectedSchemaFiles()
    expect(Object.keys(files).sort()).toEqual([
      'cloud-config.schema.json',
      'ignition-3.0.0.schema.json',
      'ignition-3.1.0.schema.json',
      'ignition-3.2.0.schema.json',
      'ignition-3.3.0.schema.json',
      'ignition-3.4.0-experimental.schema.json',
    ])
    for (const [name, text] of Object.entries(files)) expect(readFileSync(schemasDir + name, 'utf8'), `${name} is stale: run test/ignition/write-schemas.ts`).toBe(text)
    expect(IGNITION_SPECS.find((s) => s.version === '3.3.0')?.summary).toMatch(/default/)
  })

  it('the schema files compile with a plain ajv and accept what the spec docs show', () => {
    const ajv = new Ajv({strict: false, allowUnionTypes: true})
    const v33 = ajv.compile(JSON.parse(readFileSync(`${schemasDir}ignition-3.3.0.schema.json`, 'utf8')))
    expect(v33({ignition: {version: '3.3.0'}, kernelArguments: {shouldExist: ['quiet']}})).toBe(true)
    const v30 = ajv.compile(JSON.parse(readFileSync(`${schemasDir}ignition-3.0.0.schema.json`, 'utf8')))
    // kernelArguments arrived in 3.3.0; luks in 3.2.0.
    expect(v30({ignition: {version: '3.0.0'}, kernelArguments: {}})).toBe(false)
    expect(v30({ignition: {version: '3.0.0'}, storage: {luks: []}})).toBe(false)
    const cc = ajv.compile(JSON.parse(readFileSync(`${schemasDir}cloud-config.schema.json`, 'utf8')))
    expect(cc({hostname: 'a', coreos: {update: {reboot_strategy: 'off'}}})).toBe(true)
    expect(cc({coreos: {update: {reboot_strategy: 'best-effort'}}})).toBe(false)
  })
})

describe('Ignition input (keel config validate)', () => {
  it.each(ignitionExamples().map((e) => [e.name, e.text]))('accepts the example %s', (name, text) => {
    const r = validate(text, name)
    expect(r.kind).toBe('ignition')
    expect(brief(r.diagnostics)).toEqual([])
  })

  it('maps schema errors to line:col and reports unused keys as warnings', () => {
    const text = '{\n  "ignition": {"version": "3.3.0"},\n  "storage": {\n    "files": [{"path": "etc/x", "mode": "0644", "bogus": 1}]\n  }\n}\n'
    const r = checkIgnition('x.ign', text)
    expect(brief(r.diagnostics).sort()).toEqual([
      '4:error: path "etc/x" is not absolute',
      '4:error: storage.files[0].mode: must be integer,null',
      '4:warning: unused key bogus',
    ])
    const mode = r.diagnostics.find((d) => d.message.includes('mode'))!
    expect(mode.location?.col).toBe(41) // the opening quote of "0644"
  })

  it('rejects versions it does not support, naming the ones it does', () => {
    const r = checkIgnition('x.ign', '{"ignition": {"version": "2.2.0"}}')
    expect(brief(r.diagnostics)).toEqual([`1:error: unsupported Ignition config: version 2.2.0 (keel reads spec ${SPEC_VERSIONS.join(', ')})`])
  })

  it('finds what ignition-validate checks beyond the schema', () => {
    const text = JSON.stringify({
      ignition: {version: '3.3.0'},
      storage: {files: [{path: '/a/../b', contents: {source: 'data:,a b'}}, {path: '/c', overwrite: true}, {path: '/c'}]},
      systemd: {units: [{name: 'x.network'}, {name: 'y.service', dropins: [{name: 'z'}]}]},
    }, null, 1)
    const msgs = checkIgnition('x.ign', text).diagnostics.map((d) => d.message)
    expect(msgs).toEqual(expect.arrayContaining([
      'path "/a/../b" is not in its simplest form',
      'data URL: invalid data character (percent-encode it)',
      'overwrite must be false if source is unspecified',
      'duplicate entry for path /c',
      'invalid unit extension ".network" (networkd files go to storage.files under /etc/systemd/network)',
      'drop-in "z" must end in .conf',
    ]))
  })
})
