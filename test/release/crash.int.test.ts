import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import type {FileOp} from '../../src/release/model.js'
import {promoteRelease, publishRelease} from '../../src/release/publish.js'
import {generateSigningKey, loadSigningKey, type SigningKey} from '../../src/release/sign.js'
import {dirSource} from '../../src/release/source.js'
import {verifyTree} from '../../src/release/verify.js'
import {keelBin} from '../helpers/cli.js'
import {makeFakeBuild} from './fake-build.js'

/**
 * The kill-at-every-step proof: a publish (and a promote) interrupted after each of its file operations leaves
 * a tree that verifies and shows exactly the previous state until the one `meta` switch, exactly the new state
 * from then on; rerunning the same command then completes with the version it would have had.
 */

let work: string
let key: SigningKey
let publicKey: string
let keyFile: string

class Crash extends Error {}

/** What a consumer sees: the verified current releases and the index bytes, or 'nothing' for an empty tree. */
async function view(tree: string): Promise<string> {
  try {
    const r = await verifyTree(dirSource(tree), {publicKeyArmored: publicKey})
    return JSON.stringify({current: r.current, releases: r.releases.map((x) => x.path), index: readFileSync(join(tree, 'releases.json'), 'utf8')})
  } catch (err) {
    if (err instanceof KeelError && err.exit === 'input' && /nothing is published/.test(err.message)) return 'nothing'
    throw err
  }
}

/** Run `attempt` interrupted after operation 1, 2, ... on a fresh copy of `baseline` until it completes. */
async function everyStep(
  baseline: string | undefined,
  name: string,
  attempt: (tree: string, afterOp: (n: number, op: FileOp) => void) => Promise<unknown>,
): Promise<{steps: number; switchAt: number; before: string; after: string}> {
  const copy = (k: number) => {
    const tree = join(work, `${name}-${k}`)
    if (baseline) cpSync(baseline, tree, {recursive: true, verbatimSymlinks: true})
    return tree
  }
  const reference = copy(0)
  const before = await view(reference)
  await attempt(reference, () => {})
  const after = await view(reference)
  expect(after).not.toBe(before)
  let switchAt = 0
  for (let k = 1; ; k++) {
    const tree = copy(k)
    let switched = false
    const outcome = await attempt(tree, (n, op) => {
      if (op.op === 'symlink' && op.path === 'meta') switched = true
      if (n === k) throw new Crash(`after operation ${k}`)
    }).then(() => 'done', (err: unknown) => {
      if (err instanceof Crash) return 'crashed'
      throw err
    })
    if (outcome === 'done') {
      rmSync(tree, {recursive: true, force: true})
      return {steps: k - 1, switchAt, before, after}
    }
    // Interrupted: the tree verifies, and shows the old state until the switch, the new one after it.
    expect(await view(tree)).toBe(switched ? after : before)
    if (switched && !switchAt) switchAt = k
    // Rerun without interruption: completes, same result as the uninterrupted run.
    await attempt(tree, () => {})
    expect(await view(tree)).toBe(after)
    rmSync(tree, {recursive: true, force: true})
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'keel-crash-'))
  const made = await generateSigningKey({name: 'keel crash test', email: 'release@keel.invalid'})
  key = await loadSigningKey(made.privateKey, 'test key')
  publicKey = made.publicKey
  keyFile = join(work, 'key.asc')
  writeFileSync(keyFile, made.privateKey)
  makeFakeBuild(join(work, 'b1'), {seed: 'one'})
  makeFakeBuild(join(work, 'b2'), {seed: 'two'})
  await publishRelease(join(work, 'b1'), join(work, 'base1'), {key, channel: 'alpha', arch: 'amd64'})
})

describe('kill at every step', () => {
  it('the first publish into an empty tree', async () => {
    const r = await everyStep(undefined, 'first', (tree, afterOp) => publishRelease(join(work, 'b1'), tree, {key, channel: 'alpha', arch: 'amd64', afterOp}))
    expect(r.before).toBe('nothing')
    expect(r.steps).toBeGreaterThan(20)
    expect(r.switchAt).toBe(r.steps) // nothing to clean up after the switch on a first publish
  })

  it('a promote (the second publish is the CLI case below)', async () => {
    cpSync(join(work, 'base1'), join(work, 'base2'), {recursive: true, verbatimSymlinks: true})
    await publishRelease(join(work, 'b2'), join(work, 'base2'), {key, channel: 'alpha', arch: 'amd64'})
    await publishRelease(join(work, 'b1'), join(work, 'base2'), {key, channel: 'alpha', arch: 'amd64', version: '4527.0.5'})
    const promote = await everyStep(join(work, 'base2'), 'promote', (tree, afterOp) =>
      promoteRelease(tree, {key, from: 'alpha', to: 'beta', version: '4527.0.1', arch: 'amd64', afterOp}),
    )
    expect(JSON.parse(promote.after).current).toEqual([{channel: 'alpha', arch: 'amd64', version: '4527.0.5'}, {channel: 'beta', arch: 'amd64', version: '4527.1.0'}])
    // Generation 4 removes generation 2 after its switch: one step interrupted after the switch.
    expect(promote.switchAt).toBe(promote.steps - 1)
  })

  it('the real CLI, SIGKILLed after each operation of a publish, leaves a valid tree and a stale lock the rerun takes over', async () => {
    const before = await view(join(work, 'base1'))
    let after: string | undefined
    const views: string[] = []
    for (let k = 1; k < 100; k++) {
      const tree = join(work, `cli-${k}`)
      cpSync(join(work, 'base1'), tree, {recursive: true, verbatimSymlinks: true})
      const r = spawnSync(keelBin, ['release', 'publish', join(work, 'b2'), '--channel', 'alpha', '--to', tree, '--sign-key', keyFile], {
        encoding: 'utf8',
        env: {...process.env, KEEL_RELEASE_CRASH_AFTER: String(k)},
      })
      if (r.status === 0) {
        after = await view(tree)
        break
      }
      expect(r.signal).toBe('SIGKILL')
      expect(existsSync(join(tree, '.lock'))).toBe(true)
      views.push(await view(tree))
      // The rerun finds the dead publisher's lock, takes it over, and completes with the same version.
      const done = await publishRelease(join(work, 'b2'), tree, {key, channel: 'alpha', arch: 'amd64', waitMs: 0})
      expect(done.version).toBe('4527.0.1')
      expect(existsSync(join(tree, '.lock'))).toBe(false)
      rmSync(tree, {recursive: true, force: true})
    }
    expect(after).toBeDefined()
    expect(views.length).toBeGreaterThan(20)
    // Every interrupted tree showed the previous state, except the last (killed right after the switch).
    expect(views.slice(0, -1).every((v) => v === before)).toBe(true)
    expect(views.at(-1)).toBe(after)
  })
})
