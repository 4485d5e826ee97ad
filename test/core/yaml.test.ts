import {describe, expect, it} from 'vitest'
import {parseYaml, pointerToPath} from '../../src/core/yaml.js'

describe('parseYaml positions', () => {
  const text = 'a:\n  b: [1, two]\n  "c/d": {e: x}\nlist:\n  - k: v\n'
  const {value, positions, diagnostics} = parseYaml('f.yaml', text)

  it('parses the value', () => {
    expect(diagnostics).toEqual([])
    expect(value).toEqual({a: {b: [1, 'two'], 'c/d': {e: 'x'}}, list: [{k: 'v'}]})
  })

  it('locates values and keys by path', () => {
    expect(positions.value(['a', 'b', 1])).toMatchObject({line: 2, col: 10, lineText: '  b: [1, two]', length: 3})
    expect(positions.keyOf(['a', 'b'])).toMatchObject({line: 2, col: 3})
    expect(positions.value(['list', 0, 'k'])).toMatchObject({line: 5, col: 8})
  })

  it('falls back to the nearest located ancestor for paths that do not exist', () => {
    expect(positions.value(['a', 'b', 7])).toMatchObject({line: 2, col: 6})
  })

  it('maps ajv instance paths, including escaped slashes', () => {
    expect(pointerToPath('/a/c~1d/e')).toEqual(['a', 'c/d', 'e'])
    expect(positions.value(pointerToPath('/a/c~1d/e'))).toMatchObject({line: 3, col: 14})
    expect(pointerToPath('')).toEqual([])
  })

  it('reports duplicate keys and syntax errors as located diagnostics', () => {
    const dup = parseYaml('d.yaml', 'x: 1\nx: 2\n')
    expect(dup.diagnostics).toHaveLength(1)
    expect(dup.diagnostics[0]!.location).toMatchObject({line: 2, col: 1})
    expect(dup.value).toBeUndefined()
  })
})
