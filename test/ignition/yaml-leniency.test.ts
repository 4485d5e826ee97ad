import {describe, expect, it} from 'vitest'
import {translate} from '../../src/ignition/index.js'
import {repairUnderIndentedQuotes} from '../../src/ignition/yaml-leniency.js'
import {brief, cc, fileText} from './helpers.js'

describe('libyaml leniency: quoted strings continued left of their key', () => {
  const input = cc("write_files:\n  - path: /etc/motd\n    content: 'line one\n\n  line two\n'\n")

  it('is read as coreos-cloudinit read it, with a warning on the key line', () => {
    const r = translate(input, 'f')
    expect(fileText(r.config as never, '/etc/motd')).toBe('line one\nline two ')
    expect(brief(r.diagnostics)).toEqual([
      "4:warning: this quoted string continues at or left of its key's indentation; read as libyaml (coreos-cloudinit) did, but YAML parsers reject it: indent its lines",
    ])
  })

  it('only re-indents the continuation lines, keeping line numbers', () => {
    const r = repairUnderIndentedQuotes(input)!
    expect(r.keyLines).toEqual([3])
    expect(r.text.split('\n')).toHaveLength(input.split('\n').length)
    expect(r.text.split('\n').slice(4, 7)).toEqual(['      ', '      line two', "      '"])
  })

  it('leaves well-indented and single-line quoted strings alone', () => {
    expect(repairUnderIndentedQuotes(cc("a: 'x'\nb: \"y\n  z\"\n"))).toBeUndefined()
  })
})
