import {mkdtempSync, rmSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, resolve as resolvePath} from 'node:path'
import {KeelError} from '../core/errors.js'
import {quietSteps, type StepRunner, timedSteps} from '../core/steps.js'
import type {PackageCache} from '../packages/cache.js'
import {fetchPackages} from '../packages/download.js'
import {allLocked, type Lockfile} from '../packages/lock.js'
import type {LockedPackage} from '../packages/types.js'
import type {Recipe} from '../recipe/types.js'
import {checkLibraryClosure, describeClosureProblems} from './closure.js'
import {elfMachineFor} from './elf.js'
import {runFixups} from './fixups/index.js'
import type {NamedFixupResult} from './fixups/types.js'
import {writeDirectory, writeTar} from './tar.js'
import {RootTree} from './tree.js'
import {type UnpackReport, unpackPackages} from './unpack.js'


export interface RootfsBuildOptions {
  recipe: Recipe
  lock: Lockfile
  cache: PackageCache
  offline?: boolean
  /** Write a deterministic tar here. */
  tar?: string
  /** And/or materialise the tree here (modes applied; ownership applied only when running as root). */
  dir?: string
  /** Seconds since the epoch for every timestamp; default: SOURCE_DATE_EPOCH, else derived from the lock. */
  sourceDateEpoch?: number
  /**
   * Called with the finished tree (staging directory + manifest) before the staging directory is removed,
   * so later stages (filesystem images) can read it without a tar round trip. The tree is gone afterwards.
   */
  onTree?: (tree: RootTree, sourceDateEpoch: number) => Promise<void>
}

export interface RootfsBuildResult {
  tar?: {path: string; sha256: string; size: number; entries: number}
  dir?: string
  sourceDateEpoch: number
  packages: number
  unpack: Omit<UnpackReport, 'packages'>
  fixups: NamedFixupResult[]
  /** Milliseconds per stage, in stage order. */
  timings: Record<string, number>
}

/**
 * The timestamp every entry gets: SOURCE_DATE_EPOCH when the caller sets it, else the newest signed Release
 * date in the lockfile — an input of the build, so two builds from one lockfile agree without coordination.
 */
export function sourceDateEpochFor(lock: Lockfile, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.SOURCE_DATE_EPOCH
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new KeelError(`SOURCE_DATE_EPOCH must be a whole number of seconds, not '${fromEnv}'`, 'usage')
    return Number(fromEnv)
  }
  const dates = lock.releases.map((r) => Date.parse(r.date)).filter((d) => Number.isFinite(d))
  return dates.length ? Math.floor(Math.max(...dates) / 1000) : 0
}

/**
 * recipe + lock → rootfs, as a flat list of named stages: fetch, unpack, fix-ups, write. The tree is staged in
 * a hidden directory beside the output and outputs appear under their final names only when complete.
 */
export async function buildRootfs(opts: RootfsBuildOptions, step: StepRunner = quietSteps): Promise<RootfsBuildResult> {
  if (!opts.tar && !opts.dir && !opts.onTree) throw new KeelError('nothing to write: give a tar path or a directory', 'usage')
  const outParent = opts.tar || opts.dir ? dirname(resolvePath(opts.tar ?? opts.dir!)) : tmpdir()
  await mkdir(outParent, {recursive: true})
  const staging = mkdtempSync(join(outParent, '.keel-rootfs-'))
  const {timed, timings} = timedSteps(step)
  try {
    const sourceDateEpoch = opts.sourceDateEpoch ?? sourceDateEpochFor(opts.lock)
    const packages: LockedPackage[] = allLocked(opts.lock)
    const paths = await timed('fetch', `Fetching ${packages.length} packages`, (reporter) =>
      fetchPackages(packages, {cache: opts.cache, offline: opts.offline, reporter}),
    )
    const tree = new RootTree(join(staging, 'root'))
    await mkdir(tree.dir)
    const unpacked = await timed('unpack', 'Unpacking', (reporter) =>
      unpackPackages(tree, packages.map((pkg) => ({pkg, path: paths.get(pkg.name)!})), {exclude: opts.recipe.exclude.paths, keep: opts.recipe.exclude.keep, reporter}),
    )
    const fixups = await timed('fixups', 'Applying offline fix-ups', (reporter) =>
      runFixups({tree, recipe: opts.recipe, packages, sourceDateEpoch, reporter}),
    )
    const machine = elfMachineFor(opts.recipe.distribution.architecture)
    if (machine !== undefined) {
      await timed('closure', 'Checking shared library closure', async () => {
        const problems = checkLibraryClosure(tree, {machine})
        if (problems.length) {
          throw new KeelError(describeClosureProblems(problems), 'input', "check the recipe's exclude.paths rules: narrow the one that removes these libraries, or name them in exclude.keep")
        }
      })
    }
    const result: RootfsBuildResult = {
      sourceDateEpoch,
      packages: packages.length,
      unpack: {totalFiles: unpacked.totalFiles, totalBytes: unpacked.totalBytes, excluded: unpacked.excluded, durationMs: unpacked.durationMs},
      fixups,
      timings,
    }
    if (opts.tar) {
      const tarPath = resolvePath(opts.tar)
      const written = await timed('tar', `Writing ${opts.tar}`, () => writeTar(tree, tarPath, {mtime: sourceDateEpoch}))
      result.tar = {path: tarPath, ...written}
    }
    if (opts.dir) {
      const dir = resolvePath(opts.dir)
      await timed('dir', `Writing ${opts.dir}`, () => writeDirectory(tree, dir, {mtime: sourceDateEpoch}))
      result.dir = dir
    }
    if (opts.onTree) await opts.onTree(tree, sourceDateEpoch)
    return result
  } finally {
    rmSync(staging, {recursive: true, force: true})
  }
}
