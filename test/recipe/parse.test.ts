import {describe, expect, it} from 'vitest'
import {formatDiagnostics} from '../../src/core/diagnostics.js'
import {USR_FILESYSTEMS} from '../../src/fsimage/usr.js'
import {parseRecipeFile} from '../../src/recipe/parse.js'

describe('parseRecipeFile', () => {
  it('types a valid recipe and keeps the line of each package', () => {
    const text = ['image:', '  name: demo', 'packages:', '  - bash', '  - curl=7.88.1-10+deb12u5', 'files:', '  - path: /etc/x', '    mode: 0o600', '    content: hi', ''].join('\n')
    const {layer, diagnostics} = parseRecipeFile('demo.yaml', text)
    expect(diagnostics).toEqual([])
    expect(layer!.image).toEqual({name: 'demo'})
    expect(layer!.packages.map((p) => [p.name, p.version, p.location?.line, p.location?.col])).toEqual([
      ['bash', undefined, 4, 5],
      ['curl', '7.88.1-10+deb12u5', 5, 5],
    ])
    expect(layer!.files[0]).toMatchObject({path: '/etc/x', mode: 0o600, uid: 0, gid: 0, content: 'hi'})
  })

  it('accepts an octal string mode', () => {
    const {layer} = parseRecipeFile('m.yaml', "files:\n  - path: /etc/s\n    mode: '0440'\n    content: x\n")
    expect(layer!.files[0]!.mode).toBe(0o440)
  })

  it('reports every unknown key at once, each at its own line and column', () => {
    const text = ['imag:', '  name: x', 'packages:', '  - bash', 'units:', '  enabel: [ssh.service]', ''].join('\n')
    const {layer, diagnostics} = parseRecipeFile('bad.yaml', text)
    expect(layer).toBeUndefined()
    const located = diagnostics.map((d) => `${d.location?.line}:${d.location?.col} ${d.message}`)
    expect(located).toEqual(["1:1 unknown key 'imag' at the top level", "6:3 unknown key 'enabel' in 'units'"])
  })

  it('renders diagnostics as FILE:LINE:COL with the source line and a caret', () => {
    const {diagnostics} = parseRecipeFile('bad.yaml', 'packages:\n  - Not_A_Package\n')
    expect(formatDiagnostics(diagnostics)).toBe(
      [
        "bad.yaml:2:5: error: 'packages[0]' has an invalid value (expected to match ^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$)",
        '    - Not_A_Package',
        '      ^~~~~~~~~~~~~',
        '1 error generated.',
      ].join('\n'),
    )
  })

  it('reports YAML syntax errors located, not thrown', () => {
    const {layer, diagnostics} = parseRecipeFile('syntax.yaml', 'packages:\n  - bash\n  bad: [\n')
    expect(layer).toBeUndefined()
    expect(diagnostics.length).toBeGreaterThan(0)
    expect(diagnostics.every((d) => d.severity === 'error' && d.location?.file === 'syntax.yaml')).toBe(true)
    expect(diagnostics[0]!.location!.line).toBeGreaterThanOrEqual(3)
  })

  it('rejects a file with both content and source, and wrong types', () => {
    const text = 'files:\n  - path: /etc/a\n    content: x\n    source: a.txt\nkernel:\n  cmdline: console\n'
    const {diagnostics} = parseRecipeFile('f.yaml', text)
    expect(diagnostics.map((d) => `${d.location?.line} ${d.message}`)).toEqual(["6 'cmdline' must be an array"])
    const {diagnostics: d2} = parseRecipeFile('f.yaml', 'files:\n  - path: /etc/a\n    content: x\n    source: a.txt\n')
    expect(d2.map((d) => `${d.location?.line} ${d.message}`)).toEqual(["2 file '/etc/a' needs exactly one of 'content' or 'source'"])
  })

  it('types a usr: section and keeps where each value was written', () => {
    const {layer, diagnostics} = parseRecipeFile('u.yaml', 'packages: [bash]\nusr:\n  filesystem: squashfs\n  compression: "zstd,19"\n')
    expect(diagnostics).toEqual([])
    expect(layer!.usr).toMatchObject({filesystem: 'squashfs', compression: 'zstd,19'})
    expect([layer!.usr.locations?.filesystem?.line, layer!.usr.locations?.filesystem?.col]).toEqual([3, 15])
    expect([layer!.usr.locations?.compression?.line, layer!.usr.locations?.compression?.col]).toEqual([4, 16])
    expect(parseRecipeFile('n.yaml', 'packages: [bash]\n').layer!.usr).toEqual({locations: {filesystem: undefined, compression: undefined}})
  })

  it('refuses a /usr filesystem that is not a read-only one from the registry, with a caret under it', () => {
    const {layer, diagnostics} = parseRecipeFile('u.yaml', 'usr:\n  filesystem: ext4\n  level: 3\n')
    expect(layer).toBeUndefined()
    expect(formatDiagnostics(diagnostics)).toBe(
      [
        `u.yaml:2:15: error: 'filesystem' must be one of: ${USR_FILESYSTEMS.join(', ')}`,
        '    filesystem: ext4',
        '                ^~~~',
        "u.yaml:3:3: error: unknown key 'level' in 'usr'",
        '    level: 3',
        '    ^~~~~',
        '2 errors generated.',
      ].join('\n'),
    )
  })

  it('warns about a package listed twice', () => {
    const {diagnostics} = parseRecipeFile('w.yaml', 'packages: [bash, bash]\n')
    expect(diagnostics).toHaveLength(1)
    expect(diagnostics[0]).toMatchObject({severity: 'warning', message: "package 'bash' is listed twice"})
  })
})
