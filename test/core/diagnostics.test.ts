import {describe, expect, it} from 'vitest'
import {error, formatDiagnostics, warning} from '../../src/core/diagnostics.js'
import {SourceText} from '../../src/core/source.js'

describe('diagnostics', () => {
  const src = new SourceText('r.yaml', 'first\n\tsecond line\nthird')

  it('locates offsets as 1-based line and column', () => {
    expect(src.locate(0)).toMatchObject({line: 1, col: 1, lineText: 'first'})
    expect(src.locate(7)).toMatchObject({line: 2, col: 2, lineText: '\tsecond line'})
    expect(src.locate(999)).toMatchObject({line: 3, col: 6})
    expect(src.lineAt(3)).toMatchObject({line: 3, col: 1, lineText: 'third'})
  })

  it('renders errors and warnings sorted by position, with carets, notes and a summary', () => {
    const out = formatDiagnostics([
      warning('late', src.locate(13)),
      error('early', src.locate(7, 6), [{message: 'because of this', location: src.locate(0, 5)}]),
    ])
    expect(out).toBe(
      [
        'r.yaml:2:2: error: early',
        '   second line',
        '   ^~~~~~',
        'r.yaml:1:1: note: because of this',
        '  first',
        '  ^~~~~',
        'r.yaml:2:8: warning: late',
        '   second line',
        '         ^',
        '1 error and 1 warning generated.',
      ].join('\n'),
    )
  })

  it('renders a diagnostic without a location as a bare line', () => {
    expect(formatDiagnostics([error('no place')])).toBe('error: no place\n1 error generated.')
  })
})
