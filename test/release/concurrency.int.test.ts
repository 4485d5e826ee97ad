import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {publishRelease} from '../../src/release/publish.js'
import {generateSigningKey, loadSigningKey, type SigningKey} from '../../src/release/sign.js'
import {dirSource} from '../../src/release/source.js'
import {verifyTree} from '../../src/release/verify.js'
import {keelBin} from '../helpers/cli.js'
import {makeFakeBuild} from './fake-build.js'

let work: string
let key: SigningKey
let keyFile: string
let publicKey: string

function keelAsync(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(keelBin, args, {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('close', (status) => resolve({status, stdout, stderr}))
  })
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keel-concurrent-'))
  const made = await generateSigningKey({name: 'keel concurrency test', email: 'release@keel.invalid'})
  key = await loadSigningKey(made.privateKey, 'test key')
  publicKey = made.publicKey
  keyFile = join(work, 'key.asc')
  writeFileSync(keyFile, made.privateKey)
  for (const seed of ['one', 'two', 'three']) makeFakeBuild(join(work, seed), {seed})
})

describe('publishes at the same time', () => {
  it('three CLI publishes into one channel at once all succeed, in some order, with distinct versions', async () => {
    const tree = join(work, 'tree')
    const publish = (build: string) => keelAsync(['release', 'publish', join(work, build), '--channel', 'alpha', '--to', tree, '--sign-key', keyFile, '--json'])
    const results = await Promise.all([publish('one'), publish('two'), publish('two')])
    for (const r of results) expect(r.status, r.stderr).toBe(0)
    const out = results.map((r) => JSON.parse(r.stdout) as {version: string; published: boolean})
    // The two publishes of build 'two' got one version: whichever came second found the same bytes there.
    expect(out[1]!.version).toBe(out[2]!.version)
    expect(out.filter((o) => o.published).length).toBe(2)
    expect(new Set(out.map((o) => o.version))).toEqual(new Set(['4527.0.0', '4527.0.1']))
    const report = await verifyTree(dirSource(tree), {publicKeyArmored: publicKey})
    expect(report.releases.map((r) => r.path)).toEqual(['alpha/amd64/4527.0.0', 'alpha/amd64/4527.0.1'])
    expect(JSON.parse(readFileSync(join(tree, 'releases.json'), 'utf8')).generation).toBe(2)
  })

  it('a publish that finds a live lock and may not wait is refused; a dead owner\'s lock is taken over', async () => {
    const tree = join(work, 'locked')
    await publishRelease(join(work, 'one'), tree, {key, channel: 'alpha', arch: 'amd64'})
    writeFileSync(join(tree, '.lock'), `${process.pid}\n`) // held by this (live) test process
    const refused = await keelAsync(['release', 'publish', join(work, 'three'), '--channel', 'alpha', '--to', tree, '--sign-key', keyFile, '--wait', '0'])
    expect(refused.status).toBe(13)
    expect(refused.stderr).toContain(`is locked by another publish (pid ${process.pid})`)
    const dead = spawnSync('true').pid!
    writeFileSync(join(tree, '.lock'), `${dead}\n`)
    const taken = await keelAsync(['release', 'publish', join(work, 'three'), '--channel', 'alpha', '--to', tree, '--sign-key', keyFile, '--wait', '0', '--json'])
    expect(taken.status, taken.stderr).toBe(0)
    expect(JSON.parse(taken.stdout).version).toBe('4527.0.1')
    await verifyTree(dirSource(tree), {publicKeyArmored: publicKey})
  })
})
