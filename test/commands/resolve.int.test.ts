import {describe, expect, it} from 'vitest'
import {keel} from '../helpers/cli.js'

// keel resolve through the CLI; that the closure equals apt's answer is proven on the library in
// test/packages/resolve-apt.int.test.ts — here: the output contract (text and --json, sorted, same content).
describe('keel resolve', () => {
  it('prints the closure as sorted "name version" lines, and the same as JSON with --json', () => {
    const text = keel(['resolve', '--suite', 'bookworm', '--arch', 'amd64', 'nginx-light'])
    expect(text.status, text.stderr).toBe(0)
    const lines = text.stdout.trim().split('\n')
    const names = lines.map((l) => l.split(' ')[0]!)
    expect(names).toEqual([...names].sort())
    expect(names).toEqual(expect.arrayContaining(['nginx-light', 'nginx-common', 'libc6']))
    expect(lines.every((l) => /^[a-z0-9][a-z0-9+.-]+ \S+$/.test(l))).toBe(true)
    const json = keel(['resolve', '--suite', 'bookworm', '--arch', 'amd64', '--json', 'nginx-light'])
    expect(json.status, json.stderr).toBe(0)
    expect((JSON.parse(json.stdout) as Array<{name: string; version: string}>).map((p) => `${p.name} ${p.version}`)).toEqual(lines)
  }, 120_000)
})
