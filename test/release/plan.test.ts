import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import type {BuildManifest} from '../../src/build/manifest.js'
import {KeelError} from '../../src/core/errors.js'
import type {FileOp, ReleaseIndex, ReleaseJson} from '../../src/release/model.js'
import {emptyTreeState, planPromote, planRelease, type ReleasePlan, type TreeState} from '../../src/release/plan.js'

const key = {fingerprint: 'A'.repeat(40), publicKeyArmored: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n'}
const sha = (s: string) => createHash('sha256').update(s).digest('hex')

function manifest(seed: string, sourceDateEpoch = Date.UTC(2025, 10, 22) / 1000): BuildManifest {
  const art = (path: string, platform: string, format: string) => ({path, platform, format, size: seed.length + path.length, sha256: sha(seed + path)})
  return {
    manifestVersion: 1,
    image: {id: 'keel', name: 'keel', version: '0.1.0', channel: 'alpha'},
    recipe: {file: 'r.yaml', digest: 'd', lockInputsDigest: 'l'},
    sourceDateEpoch,
    platforms: ['qemu'],
    artifacts: [art('keel-qemu.qcow2', 'qemu', 'qcow2'), art('keel-usr.img.zst', 'update', 'raw.zst')],
    slots: {A: {rootHash: 'b'.repeat(64), filesystem: 'erofs', dataSize: 8192, hashSize: 4096}},
    kernel: {version: '6.1', cmdline: 'quiet'},
    initrd: {sha256: 'c', size: 1, packages: 1, modules: []},
    packages: [{name: 'zlib1g', version: '1:1.2.13', architecture: 'amd64'}, {name: 'bash', version: '5.2', architecture: 'amd64'}],
    tools: {},
    timings: {},
  } as unknown as BuildManifest
}

function publish(state: TreeState, seed: string, version?: string): ReleasePlan {
  const m = manifest(seed)
  return planRelease({buildDir: '/b', manifest: m, manifestText: JSON.stringify(m), channel: 'alpha', arch: 'amd64', key, state, ...(version ? {version} : {})})
}

function written(plan: ReleasePlan, suffix: string): string {
  const op = plan.ops.find((o): o is Extract<FileOp, {op: 'write'}> => o.op === 'write' && o.path.endsWith(suffix))
  if (!op) throw new Error(`no write of ${suffix}`)
  return op.content
}

/** The tree after a plan has run, as the state reader would see it. */
function after(state: TreeState, plan: ReleasePlan): TreeState {
  const index = JSON.parse(written(plan, '/releases.json')) as ReleaseIndex
  const releaseText = written(plan, `${plan.path.split('/').slice(0, 2).join('/')}/.staging-${plan.version}/release.json`)
  const pair = `${plan.release.channel}/${plan.release.arch}`
  return {
    generation: index.generation,
    index,
    onDisk: {...state.onDisk, [pair]: [...(state.onDisk[pair] ?? []), {release: JSON.parse(releaseText) as ReleaseJson, releaseSha256: sha(releaseText)}]},
    existing: ['releases.json', 'releases.json.sig', 'streams', 'release-key.asc', `${pair}/current`, ...state.existing],
    leftovers: [],
    generations: [...state.generations, index.generation],
  }
}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof KeelError) return err.exit
    throw err
  }
  return 'no error'
}

describe('planRelease', () => {
  it('stages under hidden names, renames the version in, and switches `meta` last (only old generations are removed after)', () => {
    const plan = publish(emptyTreeState(), 'one')
    expect(plan.version).toBe('4527.0.0') // 2025-11-22 is day 4527 after 2013-07-01
    const switchAt = plan.ops.findIndex((o) => o.op === 'symlink' && o.path === 'meta')
    expect(plan.ops[switchAt]).toEqual({op: 'symlink', path: 'meta', target: '.meta/1'})
    expect(plan.ops.slice(switchAt + 1).every((o) => o.op === 'remove')).toBe(true)
    const renameAt = plan.ops.findIndex((o) => o.op === 'rename' && o.to === 'alpha/amd64/4527.0.0')
    for (const op of plan.ops.slice(0, renameAt)) {
      const target = op.op === 'place' ? op.to : op.op === 'sign' ? op.signature : op.op === 'rename' ? op.to : op.path
      expect(target.startsWith('alpha/amd64/.staging-4527.0.0')).toBe(true)
    }
    // Between the version rename and the switch: only the next generation's staging dir and new fixed links.
    const fixed = ['releases.json', 'releases.json.sig', 'streams', 'release-key.asc', 'alpha/amd64/current']
    for (const op of plan.ops.slice(renameAt + 1, switchAt)) {
      const target = op.op === 'sign' ? op.signature : op.op === 'rename' ? op.from : op.op === 'place' ? op.to : op.path
      expect(target.startsWith('.meta/.staging-1') || fixed.includes(target)).toBe(true)
    }
    expect(plan.ops.filter((o) => o.op === 'sign').map((o) => (o as {signature: string}).signature.split('/').pop())).toEqual([
      'keel-qemu.qcow2.sig', 'keel-usr.img.zst.sig', 'SHA256SUMS.sig', 'alpha.json.sig', 'releases.json.sig',
    ])
  })

  it('lists every file but the signatures in SHA256SUMS, in sha256sum -c format', () => {
    const plan = publish(emptyTreeState(), 'one')
    const sums = written(plan, '/SHA256SUMS')
    const names = sums.trimEnd().split('\n').map((l) => l.split('  ')[1])
    expect(names).toEqual(['keel-qemu.qcow2', 'keel-usr.img.zst', 'manifest.json', 'packages.txt', 'release.json', 'sbom.spdx.json', 'version.txt'])
    expect(sums).toContain(`${sha('onekeel-qemu.qcow2')}  keel-qemu.qcow2\n`)
    expect(sums).toContain(`${sha(written(plan, '/release.json'))}  release.json\n`)
  })

  it('records the update payload with slot A verity geometry', () => {
    const plan = publish(emptyTreeState(), 'one')
    expect(plan.release.update).toEqual({
      name: 'keel-usr.img.zst', compression: 'zstd', sha256: sha('onekeel-usr.img.zst'), size: 'one'.length + 'keel-usr.img.zst'.length,
      rootHash: 'b'.repeat(64), filesystem: 'erofs', dataSize: 8192, hashSize: 4096,
    })
    const stream = JSON.parse(written(plan, '/streams/alpha.json'))
    expect(stream.architectures.amd64.artifacts.update.formats['raw.zst'].payload.rootHash).toBe('b'.repeat(64))
    // keel build records what a compressed artifact decompresses to: carried into release.json and the stream.
    const m = manifest('one')
    m.artifacts[1]!.uncompressed = {sha256: 'd'.repeat(64), size: 12288}
    const withSize = planRelease({buildDir: '/b', manifest: m, manifestText: '{}', channel: 'alpha', arch: 'amd64', key, state: emptyTreeState()})
    expect(withSize.release.update?.uncompressed).toEqual({sha256: 'd'.repeat(64), size: 12288})
    const payload = JSON.parse(written(withSize, '/streams/alpha.json')).architectures.amd64.artifacts.update.formats['raw.zst'].payload
    expect(payload).toMatchObject({'uncompressed-sha256': 'd'.repeat(64), 'uncompressed-size': 12288, dataSize: 8192, hashSize: 4096})
    expect(stream.architectures.amd64.artifacts.qemu.formats.qcow2.disk.location).toBe('alpha/amd64/4527.0.0/keel-qemu.qcow2')
  })

  it('is a no-op for the same bytes, and only finishes the metadata for a release on disk but not indexed', () => {
    const first = publish(emptyTreeState(), 'one')
    const state = after(emptyTreeState(), first)
    const again = publish(state, 'one')
    expect(again).toMatchObject({version: '4527.0.0', existed: true, ops: []})
    const again2 = publish(state, 'one', '4527.0.0')
    expect(again2.ops).toEqual([])
    // Killed after the version rename, before the switch: on disk, not in the index.
    const orphaned: TreeState = {...state, generation: 0, index: undefined, existing: [], generations: []}
    const resumed = publish(orphaned, 'one')
    expect(resumed.version).toBe('4527.0.0')
    expect(resumed.existed).toBe(true)
    expect(resumed.ops.some((o) => o.op === 'place' || (o.op === 'rename' && o.to.startsWith('alpha/')))).toBe(false)
    expect(resumed.ops.some((o) => o.op === 'symlink' && o.path === 'meta')).toBe(true)
  })

  it('gives a new build the next version and refuses to change a published one', () => {
    const state = after(emptyTreeState(), publish(emptyTreeState(), 'one'))
    const second = publish(state, 'two')
    expect(second.version).toBe('4527.0.1')
    const index = JSON.parse(written(second, '/releases.json')) as ReleaseIndex
    expect(index.releases.map((r) => r.version)).toEqual(['4527.0.0', '4527.0.1'])
    expect(index.generation).toBe(2)
    expect(second.ops.filter((o) => o.op === 'remove')).toEqual([])
    expect(code(() => publish(state, 'two', '4527.0.0'))).toBe('releaseConflict')
    expect(code(() => publish(state, 'two', '4000.0.0'))).toBe('releaseConflict')
    expect(code(() => publish(state, 'two', 'latest'))).toBe('usage')
    expect(publish(state, 'two', '4600.0.0').version).toBe('4600.0.0')
  })

  it('refuses a key other than the one the tree is signed with', () => {
    const state = after(emptyTreeState(), publish(emptyTreeState(), 'one'))
    const m = manifest('two')
    expect(code(() => planRelease({buildDir: '/b', manifest: m, manifestText: '{}', channel: 'alpha', arch: 'amd64', key: {...key, fingerprint: 'B'.repeat(40)}, state}))).toBe('input')
  })

  it('removes leftovers of interrupted runs first and keeps one previous generation', () => {
    let state = after(emptyTreeState(), publish(emptyTreeState(), 'one'))
    state = after(state, publish(state, 'two'))
    const third = publish({...state, leftovers: ['.meta/.staging-3', 'alpha/amd64/.staging-4527.0.2']}, 'three')
    expect(third.ops.slice(0, 2)).toEqual([{op: 'remove', path: '.meta/.staging-3'}, {op: 'remove', path: 'alpha/amd64/.staging-4527.0.2'}])
    expect(third.ops.filter((o) => o.op === 'remove').slice(2)).toEqual([{op: 'remove', path: '.meta/1'}])
  })

  it('refuses artifact names that collide', () => {
    const m = manifest('one')
    m.artifacts.push({...m.artifacts[0]!, path: 'sub/keel-qemu.qcow2'})
    expect(code(() => planRelease({buildDir: '/b', manifest: m, manifestText: '{}', channel: 'alpha', arch: 'amd64', key, state: emptyTreeState()}))).toBe('input')
  })
})

describe('planPromote', () => {
  const state = after(emptyTreeState(), publish(emptyTreeState(), 'one'))
  const source = state.onDisk['alpha/amd64']![0]!.release
  const sourceSums = new Map([['manifest.json', sha('m')], ['packages.txt', sha('p')], ['sbom.spdx.json', sha('s')]])
  const promote = (s: TreeState, version?: string) => planPromote({source, sourceDir: '/t/alpha/amd64/4527.0.0', sourceSums, to: 'beta', key, state: s, ...(version ? {version} : {})})

  it('links the same files into the new channel with a new version and promotedFrom', () => {
    const plan = promote(state)
    expect(plan.version).toBe('4527.1.0')
    expect(plan.release.promotedFrom).toEqual({channel: 'alpha', version: '4527.0.0'})
    expect(plan.release.artifacts).toEqual(source.artifacts)
    const placed = plan.ops.filter((o) => o.op === 'place').map((o) => (o as {from: string}).from.split('/').pop())
    expect(placed).toEqual(['keel-qemu.qcow2', 'keel-qemu.qcow2.sig', 'keel-usr.img.zst', 'keel-usr.img.zst.sig', 'manifest.json', 'packages.txt', 'sbom.spdx.json'])
    expect(plan.ops.filter((o) => o.op === 'sign').map((o) => (o as {signature: string}).signature.split('/').pop())).toEqual(['SHA256SUMS.sig', 'alpha.json.sig', 'beta.json.sig', 'releases.json.sig'])
    expect(written(plan, '/SHA256SUMS')).toContain(`${sha('m')}  manifest.json\n`)
    expect(written(plan, '/version.txt')).toContain('KEEL_PROMOTED_FROM=alpha/4527.0.0\n')
  })

  it('is a no-op the second time, and refuses what would not sort last in the target', () => {
    const promoted = after(state, promote(state))
    expect(promote(promoted)).toMatchObject({version: '4527.1.0', existed: true, ops: []})
    expect(promote(promoted, '4527.1.0').ops).toEqual([])
    // A version of the target channel held by other bytes is never reused.
    const other = {...promoted.onDisk['beta/amd64']![0]!, release: {...source, channel: 'beta' as const, version: '4527.1.3', buildDigest: 'other'}}
    const taken: TreeState = {...promoted, onDisk: {...promoted.onDisk, 'beta/amd64': [...promoted.onDisk['beta/amd64']!, other]}}
    expect(code(() => promote(taken, '4527.1.3'))).toBe('releaseConflict')
    expect(code(() => promote(promoted, '4000.1.0'))).toBe('releaseConflict')
    expect(code(() => planPromote({source, sourceDir: '/x', sourceSums, to: 'alpha', key, state}))).toBe('usage')
  })
})
