import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {exitCode} from '../../src/core/exit-codes.js'
import {keel} from '../helpers/cli.js'

// keel test's command line without a bootable image (the full run is in test/build/build.boot.test.ts): check
// selection errors, and a disk that never boots — real QEMU under TCG, OVMF finds nothing to boot.
const work = mkdtempSync(join(tmpdir(), 'keel-test-cli-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))
const blank = join(work, 'blank.raw')
writeFileSync(blank, Buffer.alloc(1 << 20))

describe('keel test', () => {
  it('lists its checks in --help', () => {
    const r = keel(['test', '--help'])
    expect(r.status).toBe(0)
    for (const line of [/^\s+1 ignition\s+Ignition ran/m, /^\s+2 verity-usr\s+/m, /^\s+3 system-running\s+/m, /^\s+4 containerd\s+/m]) expect(r.stdout).toMatch(line)
  })

  it('refuses an unknown check before booting anything (usage), naming the known ones', () => {
    const r = keel(['test', blank, '--checks', '1,no-such-check'])
    expect(r.status).toBe(exitCode('usage'))
    expect(r.stderr).toContain('error: unknown check: no-such-check')
    expect(r.stderr).toMatch(/hint: known checks: 1 ignition, 2 verity-usr, 3 system-running, 4 containerd/)
    expect(r.stdout).toBe('')
  })

  it('fails with bootFailed when the image never reaches its ready marker, and prints no report', () => {
    // (OVMF's own lines may or may not be in the tail: under load it needs 20 s to print its first.)
    const r = keel(['test', blank, '--kvm', 'off', '--timeout', '15', '--checks', 'ignition'])
    expect(r.status).toBe(exitCode('bootFailed'))
    expect(r.stderr).toMatch(/error: no 'KEEL-TEST-READY [0-9a-f]{16}' on the console within 15 s \(tcg\)/)
    expect(r.stderr).toContain('hint: keep the console with --console-log FILE')
    expect(r.stdout).toBe('')
  })
})
