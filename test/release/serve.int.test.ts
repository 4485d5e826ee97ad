import {mkdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {publishRelease} from '../../src/release/publish.js'
import {type RunningServer, serveTree} from '../../src/release/serve.js'
import {generateSigningKey, loadSigningKey} from '../../src/release/sign.js'
import {httpSource} from '../../src/release/source.js'
import {verifyTree} from '../../src/release/verify.js'
import {makeFakeBuild} from './fake-build.js'

let work: string
let tree: string
let server: RunningServer
let publicKey: string

/** A raw request: node's http client sends the path as given, without the URL normalisation fetch does. */
function get(path: string, method = 'GET'): Promise<{status: number; body: string; headers: Record<string, unknown>}> {
  const {hostname, port} = new URL(server.url)
  return new Promise((resolve, reject) => {
    const req = request({host: hostname, port, path, method}, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d))
      res.on('end', () => resolve({status: res.statusCode!, body, headers: res.headers}))
    })
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keel-serve-'))
  const made = await generateSigningKey({name: 'keel serve test', email: 'release@keel.invalid'})
  publicKey = made.publicKey
  makeFakeBuild(join(work, 'b'), {seed: 'served'})
  tree = join(work, 'tree')
  await publishRelease(join(work, 'b'), tree, {key: await loadSigningKey(made.privateKey, 'k'), channel: 'alpha', arch: 'amd64'})
  mkdirSync(join(work, 'outside'))
  writeFileSync(join(work, 'outside/secret'), 'secret')
  symlinkSync('../outside', join(tree, 'escape'))
  server = await serveTree(tree, 0)
})

afterAll(async () => {
  await server?.close()
})

describe('keel release serve', () => {
  it('serves the tree so that verify over http passes, through the symlinks inside the tree', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const report = await verifyTree(httpSource(server.url), {publicKeyArmored: publicKey})
    expect(report.current).toEqual([{channel: 'alpha', arch: 'amd64', version: '4527.0.0'}])
    expect(report.location).toBe(server.url)
    const current = await get('/alpha/amd64/current/version.txt')
    expect(current.status).toBe(200)
    expect(current.body).toContain('KEEL_VERSION=4527.0.0\n')
    const head = await get('/releases.json', 'HEAD')
    expect(head.headers['content-type']).toBe('application/json')
    expect((await get('/releases.json', 'DELETE')).status).toBe(405)
  })

  it('serves nothing outside the tree, no hidden names, no listings', async () => {
    for (const path of ['/../outside/secret', '/%2e%2e/outside/secret', '/alpha/../../outside/secret', '/escape/secret', '/.meta/1/releases.json', '/.lock', '/alpha/amd64/', '/', '/etc/passwd', '/%00']) {
      expect((await get(path)).status, path).toBe(404)
    }
  })

  it('a tampered artifact is caught over http too', async () => {
    const file = join(tree, 'alpha/amd64/4527.0.0/keel-0.1.0-usr.zst')
    rmSync(file)
    writeFileSync(file, 'tampered payload')
    const err = await verifyTree(httpSource(server.url), {publicKeyArmored: publicKey}).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect((err as KeelError).exit).toBe('integrity')
    expect((err as KeelError).message).toContain('keel-0.1.0-usr.zst')
  })

  it('an unreachable server is a network error', async () => {
    const err = await verifyTree(httpSource('http://127.0.0.1:9/'), {}).then(() => undefined, (e: unknown) => e)
    expect((err as KeelError).exit).toBe('network')
  })
})
