import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {generateSigningKey} from '../../src/release/sign.js'
import {keel, keelBin} from '../helpers/cli.js'
import {makeFakeBuild} from '../release/fake-build.js'

let dir: string
let priv: string
let pub: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-release-cli-'))
  makeFakeBuild(join(dir, 'build'), {seed: 'cli'})
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('keel release', () => {
  it('keygen writes a private key only its owner can read and a public key, and never overwrites', () => {
    const r = keel(['release', 'keygen', '-o', join(dir, 'keys'), '--json'])
    expect(r.status, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.fingerprint).toMatch(/^[0-9A-F]{40}$/)
    priv = out.privateKey
    pub = out.publicKey
    expect(statSync(priv).mode & 0o777).toBe(0o600)
    expect(readFileSync(priv, 'utf8')).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/)
    expect(readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/)
    const again = keel(['release', 'keygen', '-o', join(dir, 'keys')])
    expect(again.status).toBe(2)
    expect(again.stderr).toContain('refusing to overwrite a key')
  })

  it('publish, verify and promote with --json; text output names the version', () => {
    const tree = join(dir, 'tree')
    const p = keel(['release', 'publish', join(dir, 'build'), '--channel', 'alpha', '--to', tree, '--sign-key', priv, '--json'])
    expect(p.status, p.stderr).toBe(0)
    expect(JSON.parse(p.stdout)).toMatchObject({channel: 'alpha', arch: 'amd64', version: '4527.0.0', path: 'alpha/amd64/4527.0.0', published: true})
    const v = keel(['release', 'verify', tree, '--key', pub, '--json'])
    expect(v.status, v.stderr).toBe(0)
    expect(JSON.parse(v.stdout)).toMatchObject({keySource: 'given', current: [{channel: 'alpha', arch: 'amd64', version: '4527.0.0'}]})
    const pr = keel(['release', 'promote', '4527.0.0', '--from', 'alpha', '--to', 'stable', '--releases', tree, '--sign-key', priv])
    expect(pr.status, pr.stderr).toBe(0)
    expect(pr.stdout).toBe('promoted from alpha 4527.0.0 to stable 4527.2.0 (amd64) at stable/amd64/4527.2.0\n')
    const vt = keel(['release', 'verify', tree])
    expect(vt.status, vt.stderr).toBe(0)
    expect(vt.stdout).toMatch(/^ok: 2 releases, \d+ signatures and \d+ bytes verified with key [0-9A-F]{40} \(the tree's own key\)\n {2}alpha\/amd64: 4527\.0\.0\n {2}stable\/amd64: 4527\.2\.0\n$/)
  })

  it('exit codes: no key is usage, an expired key or a bad build is input, tampering is integrity', async () => {
    const tree = join(dir, 'tree')
    const noKey = keel(['release', 'publish', join(dir, 'build'), '--channel', 'alpha', '--to', join(dir, 'nokey')], {env: {...process.env, KEEL_SIGN_KEY: ''}})
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toContain('a signing key is needed')
    const old = await generateSigningKey({name: 'old', email: 'old@keel.invalid', date: new Date(Date.now() - 5 * 86400_000), expiresInSeconds: 86400})
    writeFileSync(join(dir, 'old.asc'), old.privateKey)
    const expired = keel(['release', 'publish', join(dir, 'build'), '--channel', 'alpha', '--to', join(dir, 'expired'), '--sign-key', join(dir, 'old.asc')])
    expect(expired.status).toBe(3)
    expect(expired.stderr).toMatch(/^error: signing key .*old\.asc \([0-9A-F]{40}\) expired on /)
    expect(existsSync(join(dir, 'expired'))).toBe(false)
    const notBuild = keel(['release', 'publish', dir, '--channel', 'alpha', '--to', join(dir, 'x'), '--sign-key', priv])
    expect(notBuild.status).toBe(3)
    expect(notBuild.stderr).toContain('not a keel build directory')
    const badChannel = keel(['release', 'publish', join(dir, 'build'), '--channel', 'nightly', '--to', tree, '--sign-key', priv])
    expect(badChannel.status).toBe(2)
    const file = join(tree, 'stable/amd64/4527.2.0/keel-0.1.0-qemu.qcow2')
    rmSync(file)
    writeFileSync(file, 'not the image')
    const tampered = keel(['release', 'verify', tree, '--key', pub])
    expect(tampered.status).toBe(7)
    expect(tampered.stderr).toContain('error: stable/amd64/4527.2.0/keel-0.1.0-qemu.qcow2')
    expect(tampered.stdout).toBe('')
  })

  it('serve prints its URL and verify accepts it', async () => {
    const tree = join(dir, 'served')
    expect(keel(['release', 'publish', join(dir, 'build'), '--channel', 'beta', '--to', tree, '--sign-key', priv]).status).toBe(0)
    const child = spawn(keelBin, ['release', 'serve', tree, '--port', '0', '--json'], {stdio: ['ignore', 'pipe', 'pipe']})
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (d: Buffer) => {
          out += d
          if (out.includes('}')) resolve(out)
        })
        child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)))
      })
      const {url} = JSON.parse(first) as {url: string}
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      const v = await new Promise<{status: number | null; stdout: string}>((resolve) => {
        const verify = spawn(keelBin, ['release', 'verify', url, '--key', pub, '--json'], {stdio: ['ignore', 'pipe', 'inherit']})
        let stdout = ''
        verify.stdout.on('data', (d: Buffer) => (stdout += d))
        verify.on('close', (status) => resolve({status, stdout}))
      })
      expect(v.status).toBe(0)
      expect(JSON.parse(v.stdout)).toMatchObject({location: url, current: [{channel: 'beta', arch: 'amd64', version: '4527.1.0'}]})
    } finally {
      child.kill('SIGTERM')
    }
  })
})
