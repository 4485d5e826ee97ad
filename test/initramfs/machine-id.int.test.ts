import {execFileSync} from 'node:child_process'
import {lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {planInitrd} from '../../src/initramfs/plan.js'
import {IGNITION_PRESET, MACHINE_ID_SCRIPT, MACHINE_ID_UNIT, machineIdOps} from '../../src/initramfs/machine-id.js'

// The initrd's first-boot script run for real, with the host's systemctl and systemd-machine-id-setup (the
// same systemd 252 the initrd carries) against a scratch root laid out as /sysroot is at that point.

const work = mkdtempSync(join(tmpdir(), 'keel-machine-id-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const script = (machineIdOps().find((o) => o.op === 'write' && o.path === MACHINE_ID_SCRIPT) as {content: string}).content

function put(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), {recursive: true})
  writeFileSync(join(root, path), content)
}

const service = (wantedBy = 'multi-user.target'): string => `[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=${wantedBy}\n`

function sysroot(name: string, machineId: string, preset?: string): string {
  const root = join(work, name)
  put(root, 'usr/lib/systemd/system/app.service', service())
  put(root, 'usr/lib/systemd/system/was-on.service', service())
  put(root, 'usr/lib/systemd/system/worker@.service', service())
  put(root, 'usr/lib/systemd/system/untouched.service', service())
  // The image's presets as the units fix-up writes them: untouched.service stays as the build left it.
  put(root, 'usr/lib/systemd/system-preset/99-keel-default.preset', 'disable *\n')
  mkdirSync(join(root, 'etc/systemd/system/multi-user.target.wants'), {recursive: true})
  symlinkSync('/usr/lib/systemd/system/was-on.service', join(root, 'etc/systemd/system/multi-user.target.wants/was-on.service'))
  symlinkSync('/usr/lib/systemd/system/untouched.service', join(root, 'etc/systemd/system/multi-user.target.wants/untouched.service'))
  put(root, 'etc/machine-id', machineId)
  if (preset !== undefined) put(root, IGNITION_PRESET, preset)
  return root
}

function runScript(root: string): string {
  const path = join(work, 'machine-id.sh')
  writeFileSync(path, script, {mode: 0o755})
  return execFileSync('bash', [path], {env: {PATH: process.env.PATH, KEEL_SYSROOT: root}, encoding: 'utf8'})
}

// The links are absolute (/usr/lib/...): look at the link itself, not at what it names on the host.
const wants = (root: string, unit: string): boolean => lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants', unit), {throwIfNoEntry: false})?.isSymbolicLink() === true

describe('keel-machine-id (initrd): Ignition\'s presets and the machine ID before the switch to ROOT', () => {
  it('applies exactly the units Ignition named, in full mode, and commits a new machine ID', () => {
    // What Ignition 2.14's files stage writes for enabled: true / enabled: false and a templated unit.
    const root = sysroot('first', 'uninitialized\n', 'enable app.service\ndisable was-on.service\nenable worker@.service a b\n')
    const out = runScript(root)
    expect(out).toContain('applying Ignition\'s presets: app.service was-on.service worker@a.service worker@b.service')
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/app.service'))).toBe('/usr/lib/systemd/system/app.service')
    expect(wants(root, 'was-on.service')).toBe(false)
    expect(wants(root, 'worker@a.service') && wants(root, 'worker@b.service')).toBe(true)
    // Units Ignition did not name keep the build's state (the walk PID 1 would have done is not repeated).
    expect(wants(root, 'untouched.service')).toBe(true)
    expect(readFileSync(join(root, 'etc/machine-id'), 'utf8')).toMatch(/^[0-9a-f]{32}\n$/)
  })

  it('without Ignition presets only the ID is committed; an ID that exists is kept', () => {
    const fresh = sysroot('no-preset', 'uninitialized\n')
    runScript(fresh)
    expect(readFileSync(join(fresh, 'etc/machine-id'), 'utf8')).toMatch(/^[0-9a-f]{32}\n$/)
    const known = sysroot('known', '0123456789abcdef0123456789abcdef\n', 'enable app.service\n')
    runScript(known)
    expect(readFileSync(join(known, 'etc/machine-id'), 'utf8')).toBe('0123456789abcdef0123456789abcdef\n')
    expect(wants(known, 'app.service')).toBe(true)
  })

  it('a preset that cannot be applied leaves the ID uninitialized, so ROOT\'s systemd does its own first-boot walk', () => {
    const root = sysroot('bad', 'uninitialized\n', 'enable missing.service\n')
    expect(() => runScript(root)).toThrow()
    expect(readFileSync(join(root, 'etc/machine-id'), 'utf8')).toBe('uninitialized\n')
  })

  it('is wanted by initrd.target, after Ignition\'s files stage and the /sysroot mounts', () => {
    const ops = planInitrd({osRelease: {id: 'keel', name: 'keel', version: '1'}, loadModules: []})
    expect(ops).toEqual(expect.arrayContaining(machineIdOps()))
    expect(ops).toContainEqual({op: 'symlink', path: `usr/lib/systemd/system/initrd.target.wants/${MACHINE_ID_UNIT}`, target: `../${MACHINE_ID_UNIT}`})
    const unit = (ops.find((o) => o.op === 'write' && o.path === `usr/lib/systemd/system/${MACHINE_ID_UNIT}`) as {content: string}).content
    expect(unit).toMatch(/^After=sysroot.mount sysroot-usr.mount ignition-files.service$/m)
    expect(unit).toMatch(/^Before=initrd.target$/m)
  })
})
