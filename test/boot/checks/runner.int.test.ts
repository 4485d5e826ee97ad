import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {freePort, makeSshKey, sshArgs} from '../../../src/boot/checks/guest.js'
import {runTests} from '../../../src/boot/checks/runner.js'
import type {Check, CheckResult} from '../../../src/boot/checks/types.js'
import {KeelError} from '../../../src/core/errors.js'
import {PackageCache} from '../../../src/packages/cache.js'

// The runner without a guest: own-boot checks that boot nothing, so ordering, timing, the scratch directory
// and the error-to-failure rule are seen without QEMU. ssh-keygen is real (the key every run makes).
const work = mkdtempSync(join(tmpdir(), 'keel-runner-test-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('the keel test runner', () => {
  it('runs each check once in id order, turns a thrown error into a failure, keeps skips, and cleans up', async () => {
    const scratch: string[] = []
    const check = (id: number, name: string, run: Check['run']): Check => ({id, name, title: `title ${name}`, needs: 'own-boot', run})
    const checks: Check[] = [
      check(9, 'throws', async () => {
        throw new KeelError('the tampered boot did not fail', 'bootFailed')
      }),
      check(5, 'passes', async (ctx) => {
        scratch.push(ctx.work)
        writeFileSync(join(ctx.work, 'x'), 'scratch')
        expect(ctx.guest).toBeUndefined()
        expect(typeof ctx.startGuest).toBe('function')
        return {status: 'pass', detail: 'fine', facts: {a: '1'}}
      }),
      check(6, 'skips', async () => ({status: 'skip', detail: 'not for this image'})),
    ]
    const seen: CheckResult[] = []
    const report = await runTests({image: join(work, 'none.raw'), checks, kvm: 'off', timeoutS: 10, cache: new PackageCache(join(work, 'cache')), onResult: (r) => seen.push(r)})
    expect(report.checks.map((c) => [c.id, c.name, c.status, c.detail])).toEqual([
      [5, 'passes', 'pass', 'fine'],
      [6, 'skips', 'skip', 'not for this image'],
      [9, 'throws', 'fail', 'the tampered boot did not fail'],
    ])
    expect(report.checks[0]!.facts).toEqual({a: '1'})
    expect(seen).toEqual(report.checks)
    expect(report.summary).toEqual({passed: 1, failed: 1, skipped: 1})
    expect(report.boot).toBeUndefined()
    for (const c of report.checks) expect(c.seconds).toBeGreaterThanOrEqual(0)
    expect(scratch).toHaveLength(1)
    expect(existsSync(scratch[0]!)).toBe(false)
  })
})

describe('the keel test runner on a live medium (no disk)', () => {
  it('reports the checks that need a disk as skipped, in run order, and runs the others', async () => {
    let ran = 0
    const check = (id: number, name: string, needsDisk: boolean): Check => ({id, name, title: name, needs: 'own-boot', needsDisk, run: async () => (ran++, {status: 'pass', detail: 'ran'})})
    const live = {medium: async (): Promise<never> => {
      throw new Error('no boot expected: these checks boot nothing themselves')
    }}
    const report = await runTests({image: join(work, 'keel.vmlinuz'), checks: [check(6, 'rollback-like', true), check(10, 'diskless', false), check(5, 'tamper-like', true)], live, kvm: 'off', timeoutS: 10, cache: new PackageCache(join(work, 'cache'))})
    expect(report.checks.map((c) => [c.id, c.status, c.detail])).toEqual([
      [5, 'skip', 'needs a disk: a live medium boots without one'],
      [6, 'skip', 'needs a disk: a live medium boots without one'],
      [10, 'pass', 'ran'],
    ])
    expect(ran).toBe(1)
    expect(report.summary).toEqual({passed: 1, failed: 0, skipped: 2})
  })
})

describe('the guest plumbing', () => {
  it('makes an Ed25519 key pair ssh-keygen itself can read back', async () => {
    const key = await makeSshKey(work)
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ keel-test$/)
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', key.privateKey], {encoding: 'utf8'})
    expect(fingerprint).toMatch(/^256 SHA256:\S+ keel-test \(ED25519\)$/m)
    expect(readFileSync(`${key.privateKey}.pub`, 'utf8').trim()).toBe(key.publicKey)
  })

  it('ssh options: only the run key, no host key kept, core at the forwarded port', async () => {
    const port = await freePort()
    expect(port).toBeGreaterThan(1023)
    const args = sshArgs(port, '/k/id')
    expect(args.slice(-1)).toEqual(['core@127.0.0.1'])
    expect(args.join(' ')).toContain(`-F /dev/null -i /k/id -p ${port} -o IdentitiesOnly=yes`)
    expect(args.join(' ')).toContain('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null')
    // ssh itself accepts the options: -G prints the resolved configuration and exits.
    const resolved = execFileSync('ssh', ['-G', ...args], {encoding: 'utf8'})
    expect(resolved).toContain(`port ${port}\n`)
    expect(resolved).toContain('user core\n')
    expect(resolved).toContain('identitiesonly yes\n')
    expect(resolved).toContain('userknownhostsfile /dev/null\n')
  })
})
