import {readFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import {applyOps, withTreeLock} from './execute.js'
import {parseSha256Sums} from './metadata.js'
import {type FileOp, type ReleaseJson, VERSION_FILES, versionDir} from './model.js'
import {planPromote, planRelease} from './plan.js'
import {type SigningKey, signFileTo} from './sign.js'
import {readCheckedBuild, readTreeState} from './state.js'
import {verifyVersionDir} from './verify.js'
import {dirSource} from './source.js'
import type {Channel} from './version.js'

/** Publish and promote: check inputs, take the tree lock, read the tree, plan, apply. */

export interface ReleaseResult {
  channel: Channel
  arch: string
  version: string
  path: string
  /** false when the same bytes were already published under this version (nothing was rewritten). */
  published: boolean
  operations: number
  artifacts: Array<{name: string; sha256: string; size: number}>
  promotedFrom?: {channel: Channel; version: string}
}

export interface TreeOptions {
  key: SigningKey
  /** How long to wait for another publish holding the tree lock. */
  waitMs?: number
  reporter?: Reporter
  afterOp?: (n: number, op: FileOp) => void
}

export async function publishRelease(
  buildDir: string,
  releasesDir: string,
  opts: TreeOptions & {channel: Channel; arch: string; version?: string},
): Promise<ReleaseResult> {
  const reporter = opts.reporter ?? silentReporter
  // Checked before the lock and before anything is written: a bad build never touches the tree.
  const build = await readCheckedBuild(resolve(buildDir), reporter)
  const root = resolve(releasesDir)
  return withTreeLock(root, opts.waitMs ?? 600_000, async () => {
    const state = await readTreeState(root)
    const plan = planRelease({
      buildDir: build.dir, manifest: build.manifest, manifestText: build.manifestText,
      channel: opts.channel, arch: opts.arch, ...(opts.version ? {version: opts.version} : {}), key: opts.key, state,
    })
    await applyOps(root, plan.ops, {sign: (p, s) => signFileTo(opts.key, p, s), reporter, ...(opts.afterOp ? {afterOp: opts.afterOp} : {})})
    return resultOf(plan.release, plan.path, !plan.existed, plan.ops.length)
  })
}

export async function promoteRelease(
  releasesDir: string,
  opts: TreeOptions & {from: Channel; to: Channel; version: string; arch: string; targetVersion?: string},
): Promise<ReleaseResult> {
  const reporter = opts.reporter ?? silentReporter
  const root = resolve(releasesDir)
  return withTreeLock(root, opts.waitMs ?? 600_000, async () => {
    const sourcePath = versionDir(opts.from, opts.arch, opts.version)
    const sourceDir = join(root, sourcePath)
    const state = await readTreeState(root)
    const releaseText = await readFile(join(sourceDir, VERSION_FILES.release), 'utf8').catch(() => undefined)
    // Only what the index lists was published; a directory left by an interrupted publish was not.
    if (releaseText === undefined || !state.index?.releases.some((e) => e.path === sourcePath)) {
      throw new KeelError(`${opts.from} has no published release ${opts.version} for ${opts.arch} (${sourcePath})`, 'input')
    }
    // Promote what was signed, not what happens to be on disk: verify the source as a consumer would.
    reporter.status(`verifying ${sourcePath}`)
    await verifyVersionDir(dirSource(root), sourcePath, opts.key.key.toPublic(), {})
    const source = JSON.parse(releaseText) as ReleaseJson
    const sums = parseSha256Sums(await readFile(join(sourceDir, VERSION_FILES.sums), 'utf8'))!
    const plan = planPromote({
      source, sourceDir, sourceSums: sums, to: opts.to, ...(opts.targetVersion ? {version: opts.targetVersion} : {}), key: opts.key, state,
    })
    await applyOps(root, plan.ops, {sign: (p, s) => signFileTo(opts.key, p, s), reporter, ...(opts.afterOp ? {afterOp: opts.afterOp} : {})})
    return resultOf(plan.release, plan.path, !plan.existed, plan.ops.length)
  })
}

function resultOf(r: ReleaseJson, path: string, published: boolean, operations: number): ReleaseResult {
  return {
    channel: r.channel,
    arch: r.arch,
    version: r.version,
    path,
    published,
    operations,
    artifacts: r.artifacts.map(({name, sha256, size}) => ({name, sha256, size})),
    ...(r.promotedFrom ? {promotedFrom: r.promotedFrom} : {}),
  }
}
