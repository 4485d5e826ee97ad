import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import type {Recipe} from '../recipe/types.js'
import type {PackageCache} from './cache.js'
import {assertFresh, buildLockfile, inputsDigest, type Lockfile, lockPathFor, readLockfile, writeLockfile} from './lock.js'
import {loadUniverse} from './repository.js'
import {resolve} from './resolve.js'
import {readHostSources, repositorySourcesFor} from './sources.js'
import type {PackageUniverse} from './types.js'

export interface LockOptions {
  cache: PackageCache
  /** --mirror: one mirror for every suite, instead of the recipe's or the host's. */
  mirror?: string
  offline?: boolean
  reporter?: Reporter
}

/** The signed package universe a recipe's sources describe, for its architecture. */
export async function recipeUniverse(recipe: Recipe, opts: LockOptions): Promise<PackageUniverse> {
  const host = await readHostSources()
  const sources = repositorySourcesFor(recipe.distribution.sources, host, {mirrorOverride: opts.mirror})
  return loadUniverse(sources, {architecture: recipe.distribution.architecture, cache: opts.cache, offline: opts.offline, reporter: opts.reporter})
}

/** Resolve a recipe against its signed sources into a lockfile (not written). */
export async function resolveRecipe(recipe: Recipe, opts: LockOptions): Promise<Lockfile> {
  const reporter = opts.reporter ?? silentReporter
  const universe = await recipeUniverse(recipe, opts)
  reporter.status(`resolving ${recipe.packages.length} packages among ${universe.packages.length}`)
  const resolution = resolve(universe, recipe.packages, {exclude: recipe.exclude.packages, essential: recipe.distribution.essential})
  return buildLockfile({
    digest: inputsDigest(recipe, opts.mirror),
    universe,
    packages: resolution.packages,
    added: resolution.added,
    excluded: resolution.excluded,
  })
}

export type LockAction = 'used' | 'created' | 'updated'

/**
 * The lockfile a build should use. A fresh lockfile is used as is (no index is fetched at all); a missing one
 * is created; a stale one is an error unless `update` is set, because silently re-resolving would change what
 * a pinned build installs.
 */
export async function ensureLock(
  recipe: Recipe,
  opts: LockOptions & {update?: boolean; lockPath?: string},
): Promise<{lock: Lockfile; path: string; action: LockAction}> {
  const path = opts.lockPath ?? lockPathFor(recipe.file)
  const existing = readLockfile(path)
  if (existing && !opts.update) {
    assertFresh(existing, recipe, path, opts.mirror)
    return {lock: existing, path, action: 'used'}
  }
  if (existing && opts.offline && existing.inputsDigest !== inputsDigest(recipe, opts.mirror)) {
    throw new KeelError('cannot update a stale lockfile offline: resolving needs the signed indexes', 'network')
  }
  const lock = await resolveRecipe(recipe, opts)
  await writeLockfile(path, lock)
  return {lock, path, action: existing ? 'updated' : 'created'}
}
