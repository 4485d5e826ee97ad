import {describe, expect, it} from 'vitest'
import {EXIT_CODES} from '../../src/core/exit-codes.js'
import {keel} from '../helpers/cli.js'

describe('keel CLI conventions', () => {
  it('lists the stable exit codes in --help', () => {
    const r = keel(['--help'])
    expect(r.status).toBe(0)
    for (const {code, meaning} of Object.values(EXIT_CODES)) expect(r.stdout).toContain(`${String(code).padStart(2)}  ${meaning}`)
    for (const topic of ['doctor', 'lock', 'rootfs', 'resolve']) expect(r.stdout).toMatch(new RegExp(`^\\s+${topic}\\s`, 'm'))
  })

  it('keel doctor --json prints only JSON on stdout, one entry per host tool', () => {
    const r = keel(['doctor', '--json'])
    const parsed = JSON.parse(r.stdout) as {ok: boolean; tools: Array<{tool: string; debianPackage: string; path: string | null}>; fix: string | null}
    expect(parsed.tools.map((t) => t.tool)).toEqual(expect.arrayContaining(['xz', 'gpgv', 'ldconfig', 'depmod']))
    expect(parsed.tools.find((t) => t.tool === 'gpgv')).toMatchObject({debianPackage: 'gpgv'})
    // On a machine prepared by scripts/setup nothing is missing; the fix line is derived from what is.
    expect(parsed.fix === null).toBe(parsed.ok)
  })

  it('an unknown flag is a usage error (exit 2) without a stack trace', () => {
    const r = keel(['doctor', '--no-such-flag'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^error: Nonexistent flag: --no-such-flag/m)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout).toBe('')
  })

  it('a recipe with mistakes gets every diagnostic at once, located, exit 3, nothing on stdout', () => {
    const r = keel(['lock', 'test/fixtures/recipes/bad-keys.yaml'])
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain("test/fixtures/recipes/bad-keys.yaml:3:1: error: unknown key 'pakages' at the top level")
    expect(r.stderr).toContain("test/fixtures/recipes/bad-keys.yaml:6:5: error: unknown key 'enabel' in 'units'")
    expect(r.stderr).toContain('2 errors generated.')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
