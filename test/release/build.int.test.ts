import {spawn} from 'node:child_process'
import {cpSync, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {BuildManifest} from '../../src/build/manifest.js'
import {run} from '../../src/exec/run.js'
import type {ReleaseJson, StreamJson} from '../../src/release/model.js'
import {serveTree} from '../../src/release/serve.js'
import {generateSigningKey} from '../../src/release/sign.js'
import {httpSource} from '../../src/release/source.js'
import {verifyTree} from '../../src/release/verify.js'
import {keel, keelBin, repoRoot} from '../helpers/cli.js'
import {GpgOracle, sha256Of} from './oracle.js'

/**
 * A real `keel build` (hundreds of MiB) through publish, verify over http, and what an updater would do with
 * the payload: download it by the stream file, check its digest, decompress it and have veritysetup check the
 * slot image against the signed root hash.
 */

const work = mkdtempSync(join(tmpdir(), 'keel-release-build-'))
const build = join(work, 'build')
const tree = join(work, 'tree')
let manifest: BuildManifest
let publicKey: string
let fingerprint: string

beforeAll(async () => {
  // A copy of the recipes: resolving again (when the checked-in lockfile trails the recipe) must not touch the repo.
  cpSync(join(repoRoot, 'recipes'), join(work, 'recipes'), {recursive: true})
  // Asynchronously: a build takes minutes, and a blocked worker misses vitest's own RPC deadlines.
  const status = await new Promise<{code: number | null; stderr: string}>((resolve) => {
    const child = spawn(keelBin, ['build', join(work, 'recipes/base.yaml'), '-o', build, '--platform', 'qemu', '--update-lock'], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-3000)))
    child.on('close', (code) => resolve({code, stderr}))
  })
  if (status.code !== 0) throw new Error(`keel build failed (${status.code}):\n${status.stderr}`)
  manifest = JSON.parse(readFileSync(join(build, 'manifest.json'), 'utf8')) as BuildManifest
  const key = await generateSigningKey({name: 'keel build release test', email: 'release@keel.invalid'})
  publicKey = key.publicKey
  fingerprint = key.fingerprint
  writeFileSync(join(work, 'key.asc'), key.privateKey)
  writeFileSync(join(work, 'key.pub.asc'), key.publicKey)
})

afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('a real keel build, released', () => {
  it('publishes by hard link, every signature good for gpg, the update payload described from slot A', async () => {
    const p = keel(['release', 'publish', build, '--channel', 'alpha', '--to', tree, '--sign-key', join(work, 'key.asc'), '--json'])
    expect(p.status, p.stderr).toBe(0)
    const {path} = JSON.parse(p.stdout) as {path: string}
    const dir = join(tree, path)
    const gpg = await GpgOracle.withKey(publicKey)
    const payload = manifest.artifacts.find((a) => a.platform === 'update')!
    expect(payload).toBeDefined()
    for (const a of manifest.artifacts) {
      expect(statSync(join(dir, a.path)).ino).toBe(statSync(join(build, a.path)).ino)
      expect(await gpg.verify(join(dir, `${a.path}.sig`), join(dir, a.path))).toBe(fingerprint)
    }
    expect(await gpg.verify(join(dir, 'SHA256SUMS.sig'), join(dir, 'SHA256SUMS'))).toBe(fingerprint)
    await run('sha256sum', ['--strict', '-c', 'SHA256SUMS'], {cwd: dir})
    const release = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8')) as ReleaseJson
    // `compression` is the payload's (zstd); the slot's own filesystem compression is the build manifest's.
    const {rootHash, filesystem, dataSize, hashSize} = manifest.slots.A!
    expect(release.update).toEqual({
      name: payload.path, compression: 'zstd', sha256: payload.sha256, size: payload.size, uncompressed: payload.uncompressed,
      rootHash, filesystem, dataSize, hashSize,
    })
    expect(readFileSync(join(dir, 'packages.txt'), 'utf8').trimEnd().split('\n')).toHaveLength(manifest.packages.length)
  })

  it('an updater fetches the payload the signed stream names and veritysetup accepts the slot it holds', async () => {
    const server = await serveTree(tree, 0)
    try {
      const report = await verifyTree(httpSource(server.url), {publicKeyArmored: publicKey})
      expect(report.releases[0]!.bytes).toBeGreaterThan(100 << 20)
      const stream = (await (await fetch(new URL('streams/alpha.json', server.url))).json()) as StreamJson
      const formats = stream.architectures.amd64!.artifacts.update!.formats
      const entry = Object.values(formats)[0]!.payload!
      const downloaded = join(work, 'payload.zst')
      const res = await fetch(new URL(entry.location, server.url))
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(downloaded))
      expect(sha256Of(downloaded)).toBe(entry.sha256)
      await run('zstd', ['-q', '-d', '-f', downloaded, '-o', join(work, 'payload')])
      expect(statSync(join(work, 'payload')).size).toBe(entry.dataSize! + entry.hashSize!)
      const v = await run('veritysetup', ['verify', join(work, 'payload'), join(work, 'payload'), entry.rootHash!, `--hash-offset=${entry.dataSize}`])
      expect(v.exitCode).toBe(0)
    } finally {
      await server.close()
    }
  })
})
