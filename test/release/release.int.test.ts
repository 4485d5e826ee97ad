import {cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as openpgp from 'openpgp'
import {beforeAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {run} from '../../src/exec/run.js'
import {promoteRelease, publishRelease} from '../../src/release/publish.js'
import {generateSigningKey, loadSigningKey, type SigningKey} from '../../src/release/sign.js'
import {dirSource} from '../../src/release/source.js'
import {verifyTree} from '../../src/release/verify.js'
import {makeFakeBuild} from './fake-build.js'
import {GpgOracle, sha256Of} from './oracle.js'

let work: string
let key: SigningKey
let publicKey: string
let gpg: GpgOracle

async function rejection(p: Promise<unknown>): Promise<KeelError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof KeelError)) throw new Error(`expected a KeelError, got ${String(err)}`)
  return err
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keel-release-'))
  const made = await generateSigningKey({name: 'keel test releases', email: 'release@keel.invalid'})
  key = await loadSigningKey(made.privateKey, 'test key')
  publicKey = made.publicKey
  gpg = await GpgOracle.withKey(publicKey)
})

describe('publish → verify → promote → verify', () => {
  it('gpg accepts every signature and the promoted artifacts are the same bytes', async () => {
    const build = join(work, 'b1')
    const manifest = makeFakeBuild(build, {seed: 'one'})
    const tree = join(work, 'tree')
    const pub = await publishRelease(build, tree, {key, channel: 'alpha', arch: 'amd64'})
    expect(pub).toMatchObject({channel: 'alpha', version: '4527.0.0', path: 'alpha/amd64/4527.0.0', published: true})

    const v1 = await verifyTree(dirSource(tree), {publicKeyArmored: publicKey})
    expect(v1.current).toEqual([{channel: 'alpha', arch: 'amd64', version: '4527.0.0'}])
    expect(v1.signaturesChecked).toBe(1 + 3 + 1 + 1) // SHA256SUMS, three artifacts, stream, index

    const alphaDir = join(tree, 'alpha/amd64/4527.0.0')
    // The oracles: gpg for every signature, sha256sum -c for SHA256SUMS.
    for (const sig of readdirSync(alphaDir).filter((n) => n.endsWith('.sig'))) {
      expect(await gpg.verify(join(alphaDir, sig), join(alphaDir, sig.slice(0, -4)))).toBe(key.fingerprint)
    }
    for (const f of ['releases.json', 'streams/alpha.json']) expect(await gpg.verify(join(tree, `${f}.sig`), join(tree, f))).toBe(key.fingerprint)
    const check = await run('sha256sum', ['--strict', '-c', 'SHA256SUMS'], {cwd: alphaDir})
    expect(check.stdout.trim().split('\n').sort()).toEqual(
      ['keel-0.1.0-metal.img', 'keel-0.1.0-qemu.qcow2', 'keel-0.1.0-usr.zst', 'manifest.json', 'packages.txt', 'release.json', 'sbom.spdx.json', 'version.txt'].map((n) => `${n}: OK`),
    )
    for (const a of manifest.artifacts) expect(sha256Of(join(alphaDir, a.path))).toBe(a.sha256)

    const promoted = await promoteRelease(tree, {key, from: 'alpha', to: 'beta', version: '4527.0.0', arch: 'amd64'})
    expect(promoted).toMatchObject({channel: 'beta', version: '4527.1.0', promotedFrom: {channel: 'alpha', version: '4527.0.0'}, published: true})
    const v2 = await verifyTree(dirSource(tree), {publicKeyArmored: publicKey})
    expect(v2.current).toEqual([{channel: 'alpha', arch: 'amd64', version: '4527.0.0'}, {channel: 'beta', arch: 'amd64', version: '4527.1.0'}])

    const betaOnly = await verifyTree(dirSource(tree), {publicKeyArmored: publicKey, channel: 'beta'})
    expect(betaOnly.releases.map((r) => r.path)).toEqual(['beta/amd64/4527.1.0'])
    const notPublished = await rejection(promoteRelease(tree, {key, from: 'alpha', to: 'stable', version: '4527.0.9', arch: 'amd64'}))
    expect(notPublished.message).toBe('alpha has no published release 4527.0.9 for amd64 (alpha/amd64/4527.0.9)')

    const betaDir = join(tree, 'beta/amd64/4527.1.0')
    for (const a of manifest.artifacts) {
      expect(sha256Of(join(betaDir, a.path))).toBe(sha256Of(join(alphaDir, a.path)))
      expect(sha256Of(join(betaDir, a.path))).toBe(a.sha256)
      // Never a rebuild, not even a copy: the same inode.
      expect(statSync(join(betaDir, a.path)).ino).toBe(statSync(join(alphaDir, a.path)).ino)
      expect(await gpg.verify(join(betaDir, `${a.path}.sig`), join(betaDir, a.path))).toBe(key.fingerprint)
    }
    for (const f of ['beta/amd64/4527.1.0/SHA256SUMS', 'releases.json', 'streams/beta.json', 'streams/alpha.json']) {
      expect(await gpg.verify(join(tree, `${f}.sig`), join(tree, f))).toBe(key.fingerprint)
    }
    await run('sha256sum', ['--strict', '-c', 'SHA256SUMS'], {cwd: betaDir})
    const stream = JSON.parse(readFileSync(join(tree, 'streams/beta.json'), 'utf8'))
    const qemu = manifest.artifacts.find((a) => a.platform === 'qemu')!
    expect(stream.architectures.amd64.artifacts.qemu.formats.qcow2.disk).toEqual({
      location: 'beta/amd64/4527.1.0/keel-0.1.0-qemu.qcow2', signature: 'beta/amd64/4527.1.0/keel-0.1.0-qemu.qcow2.sig', sha256: qemu.sha256, size: qemu.size,
    })
    expect(readFileSync(join(tree, 'beta/amd64/current/version.txt'), 'utf8')).toContain('KEEL_VERSION=4527.1.0\n')

    // Same bytes again: nothing changes; other bytes under a taken version: refused.
    const before = readFileSync(join(tree, 'releases.json'), 'utf8')
    expect(await publishRelease(build, tree, {key, channel: 'alpha', arch: 'amd64'})).toMatchObject({version: '4527.0.0', published: false, operations: 0})
    expect(await promoteRelease(tree, {key, from: 'alpha', to: 'beta', version: '4527.0.0', arch: 'amd64'})).toMatchObject({version: '4527.1.0', published: false})
    expect(readFileSync(join(tree, 'releases.json'), 'utf8')).toBe(before)
    makeFakeBuild(join(work, 'b2'), {seed: 'two'})
    const taken = await rejection(publishRelease(join(work, 'b2'), tree, {key, channel: 'alpha', arch: 'amd64', version: '4527.0.0'}))
    expect(taken.exit).toBe('releaseConflict')
    expect(taken.message).toContain('immutable')
    expect(await publishRelease(join(work, 'b2'), tree, {key, channel: 'alpha', arch: 'amd64'})).toMatchObject({version: '4527.0.1', published: true})
    expect((await verifyTree(dirSource(tree), {publicKeyArmored: publicKey})).releases.map((r) => r.path)).toEqual([
      'alpha/amd64/4527.0.0', 'alpha/amd64/4527.0.1', 'beta/amd64/4527.1.0',
    ])
  })

  it('writes a shell-sourceable version.txt', async () => {
    const text = readFileSync(join(work, 'tree/alpha/amd64/4527.0.0/version.txt'), 'utf8')
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^KEEL_[A-Z_]+=[\w@%+=:,./-]+$/)
    expect(text).toContain('KEEL_BUILD=4527\nKEEL_BRANCH=0\nKEEL_PATCH=0\nKEEL_CHANNEL=alpha\n')
  })
})

describe('keel release verify catches tampering', () => {
  const fresh = async (name: string) => {
    const tree = join(work, name)
    makeFakeBuild(join(work, `${name}-build`), {seed: name})
    await publishRelease(join(work, `${name}-build`), tree, {key, channel: 'alpha', arch: 'amd64'})
    return {tree, dir: join(tree, 'alpha/amd64/4527.0.0')}
  }

  it('an artifact changed in place', async () => {
    const {tree, dir} = await fresh('t1')
    const file = join(dir, 'keel-0.1.0-metal.img')
    rmSync(file) // a new inode: the build directory's hard link keeps the original
    writeFileSync(file, 'raw disk t1\n'.repeat(499) + 'raw disk tX\n')
    const err = await rejection(verifyTree(dirSource(tree), {publicKeyArmored: publicKey}))
    expect(err.exit).toBe('integrity')
    expect(err.message).toContain('keel-0.1.0-metal.img')
    expect(await gpg.verify(`${file}.sig`, file)).toBeUndefined()
  })

  it('an artifact swapped together with a rewritten SHA256SUMS', async () => {
    const {tree, dir} = await fresh('t2')
    const file = join(dir, 'keel-0.1.0-qemu.qcow2')
    rmSync(file)
    writeFileSync(file, 'evil')
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?=  keel-0\.1\.0-qemu\.qcow2$)/m, sha256Of(file))
    writeFileSync(join(dir, 'SHA256SUMS'), sums)
    const err = await rejection(verifyTree(dirSource(tree), {publicKeyArmored: publicKey}))
    expect(err.exit).toBe('integrity')
    expect(err.message).toMatch(/SHA256SUMS: bad signature/)
  })

  it('a stream file edited to point elsewhere, and a signature by another key', async () => {
    const {tree} = await fresh('t3')
    const streamFile = join(tree, 'streams/alpha.json')
    const original = readFileSync(streamFile, 'utf8')
    writeFileSync(join(tree, '.meta/1/streams/alpha.json'), original.replace(/"sha256": "[0-9a-f]{64}"/, `"sha256": "${'0'.repeat(64)}"`))
    expect((await rejection(verifyTree(dirSource(tree), {publicKeyArmored: publicKey}))).message).toMatch(/streams\/alpha\.json: bad signature/)
    writeFileSync(join(tree, '.meta/1/streams/alpha.json'), original)
    const other = await generateSigningKey({name: 'someone else', email: 'x@keel.invalid'})
    const err = await rejection(verifyTree(dirSource(tree), {publicKeyArmored: other.publicKey}))
    expect(err.exit).toBe('integrity')
    expect(err.message).toContain('releases.json')
  })
})

describe('bad input is refused before anything is written', () => {
  it('a missing artifact, an altered artifact', async () => {
    const tree = join(work, 'untouched')
    const build = join(work, 'bad')
    const manifest = makeFakeBuild(build, {seed: 'bad'})
    rmSync(join(build, manifest.artifacts[0]!.path))
    const missing = await rejection(publishRelease(build, tree, {key, channel: 'alpha', arch: 'amd64'}))
    expect(missing.exit).toBe('input')
    expect(missing.message).toContain(`missing: ${manifest.artifacts[0]!.path}`)
    makeFakeBuild(build, {seed: 'bad'})
    writeFileSync(join(build, manifest.artifacts[1]!.path), 'altered')
    const altered = await rejection(publishRelease(build, tree, {key, channel: 'alpha', arch: 'amd64'}))
    expect(altered.exit).toBe('integrity')
    expect(altered.message).toContain(manifest.artifacts[1]!.path)
    expect(existsSync(tree)).toBe(false)
  })

  it('an expired key, a public key, and a key other than the tree\'s', async () => {
    const day = 86400
    const expired = await generateSigningKey({name: 'old', email: 'old@keel.invalid', date: new Date(Date.now() - 10 * day * 1000), expiresInSeconds: day})
    const err = await rejection(loadSigningKey(expired.privateKey, 'signing key old.asc'))
    expect(err.exit).toBe('input')
    expect(err.message).toMatch(/^signing key old\.asc \([0-9A-F]{40}\) expired on \d{4}-/)
    const pub = await rejection(loadSigningKey(publicKey, 'signing key pub.asc'))
    expect(pub.message).toBe('signing key pub.asc is a public key; signing needs the private key')

    const tree = join(work, 'keyed')
    cpSync(join(work, 'tree'), tree, {recursive: true, verbatimSymlinks: true})
    const other = await loadSigningKey((await generateSigningKey({name: 'other', email: 'o@keel.invalid'})).privateKey, 'other')
    const before = readFileSync(join(tree, 'releases.json'), 'utf8')
    makeFakeBuild(join(work, 'b3'), {seed: 'three'})
    const wrong = await rejection(publishRelease(join(work, 'b3'), tree, {key: other, channel: 'alpha', arch: 'amd64'}))
    expect(wrong.exit).toBe('input')
    expect(wrong.message).toBe(`the release tree is signed with key ${key.fingerprint}; the signing key given is ${other.fingerprint}`)
    expect(readFileSync(join(tree, 'releases.json'), 'utf8')).toBe(before)
    expect(readdirSync(join(tree, 'alpha/amd64')).sort()).toEqual(['4527.0.0', '4527.0.1', 'current'])
  })

  it('a passphrase-protected key: refused without the passphrase or with a wrong one, usable with it', async () => {
    const {privateKey} = await openpgp.generateKey({type: 'ecc', curve: 'ed25519Legacy', userIDs: [{name: 'locked'}], passphrase: 'correct horse', format: 'armored'})
    expect((await rejection(loadSigningKey(privateKey, 'k.asc'))).message).toMatch(/^k\.asc \([0-9A-F]{40}\) is protected by a passphrase$/)
    expect((await rejection(loadSigningKey(privateKey, 'k.asc', 'wrong'))).message).toMatch(/^the passphrase does not unlock k\.asc/)
    const unlocked = await loadSigningKey(privateKey, 'k.asc', 'correct horse')
    expect(unlocked.fingerprint).toMatch(/^[0-9A-F]{40}$/)
  })

  it('a tree copied without its links (cp -L, an object-store sync) is refused instead of starting a new index', async () => {
    const tree = join(work, 'dereferenced')
    cpSync(join(work, 'tree'), tree, {recursive: true, dereference: true})
    const err = await rejection(publishRelease(join(work, 'b3'), tree, {key, channel: 'alpha', arch: 'amd64'}))
    expect(err.exit).toBe('input')
    expect(err.message).toContain("has a releases.json but no 'meta' link")
  })
})
