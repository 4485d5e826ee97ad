import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {exitCode} from '../../../src/core/exit-codes.js'
import {keel} from '../../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'keel-config-'))
const write = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

const good = write('good.yaml', '#cloud-config\nhostname: node-1\ncoreos:\n  units:\n    - name: app.service\n      command: start\n      content: "[Service]\\nExecStart=/bin/app $private_ipv4\\n"\n')
const bad = write('bad.yaml', '#cloud-config\nhostnme: x\ncoreos:\n  update:\n    reboot-strategy: best-effort\nwrite_files:\n  - path: /usr/lib/x\n')

describe('keel config translate', () => {
  it('prints the Ignition config on stdout and warnings on stderr, exit 0', () => {
    const r = keel(['config', 'translate', good])
    expect(r.status).toBe(0)
    const config = JSON.parse(r.stdout)
    expect(config.ignition.version).toBe('3.3.0')
    expect(config.systemd.units[0].contents).toBe('[Service]\nExecStart=/bin/app ${KEEL_PRIVATE_IPV4}\n')
    expect(r.stderr).toContain(`${good}:6:7: warning: command: start has no Ignition equivalent`)
    expect(r.stderr).toMatch(/\n\s+\^/)
  })

  it('reads stdin with -, substitutes --var, writes -o atomically, selects --spec', () => {
    const out = join(dir, 'out', 'config.ign')
    const r = keel(['config', 'translate', '-', '--var', 'private_ipv4=10.0.0.5', '--spec', '3.0.0', '-o', out], {input: readFileSync(good)})
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('')
    const config = JSON.parse(readFileSync(out, 'utf8'))
    expect(config.ignition.version).toBe('3.0.0')
    expect(config.systemd.units[0].contents).toBe('[Service]\nExecStart=/bin/app 10.0.0.5\n')
    expect(readdirSync(join(dir, 'out'))).toEqual(['config.ign'])
    expect(r.stderr).toContain('<stdin>:6:7: warning:')
  })

  it('reports every error at once, located, exit 3 (input), nothing on stdout', () => {
    const out = join(dir, 'never.ign')
    const r = keel(['config', 'translate', bad, '-o', out])
    expect(r.status).toBe(exitCode('input'))
    expect(r.stdout).toBe('')
    expect(existsSync(out)).toBe(false)
    expect(r.stderr).toContain(`${bad}:2:1: warning: unrecognized key "hostnme"`)
    expect(r.stderr).toContain(`${bad}:5:22: error: invalid value best-effort`)
    expect(r.stderr).toContain(`${bad}:7:11: error: file cannot be written to a read-only filesystem`)
    expect(r.stderr).toContain('2 errors and 1 warning generated.')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('--strict makes warnings and boot-time variables fatal; --json gives a machine-readable result', () => {
    const strict = keel(['config', 'translate', good, '--strict'])
    expect(strict.status).toBe(exitCode('input'))
    expect(strict.stdout).toBe('')
    expect(strict.stderr).toContain(`${good}:7:47: error: $private_ipv4 is not known at translate time (--strict)`)
    const json = keel(['config', 'translate', good, '--json'])
    expect(json.status).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({kind: 'cloud-config', output: null, warnings: 1, config: {ignition: {version: '3.3.0'}}})
  })

  it('rejects an unknown --var as a usage error (exit 2)', () => {
    const r = keel(['config', 'translate', good, '--var', 'private_ip=1'])
    expect(r.status).toBe(exitCode('usage'))
    expect(r.stderr).toContain('expected NAME=VALUE with NAME one of private_ipv4')
  })
})

describe('keel config validate', () => {
  it('accepts a cloud-config and an Ignition config (detected), rejects a file without header', () => {
    const ok = keel(['config', 'validate', good])
    expect(ok.status).toBe(0)
    expect(ok.stdout).toBe(`${good}: valid cloud-config (1 warning)\n`)
    const ign = write('x.ign', '{"ignition": {"version": "3.3.0"}}\n')
    expect(keel(['config', 'validate', ign]).stdout).toBe(`${ign}: valid ignition\n`)
    const noHeader = write('plain.yaml', 'hostname: x\n')
    const r = keel(['config', 'validate', noHeader])
    expect(r.status).toBe(exitCode('input'))
    expect(r.stderr).toContain(`${noHeader}:1:1: error: must be "#cloud-config" or begin with "#!"`)
    expect(r.stderr).toContain('note: add "#cloud-config" as the first line')
  })
})
