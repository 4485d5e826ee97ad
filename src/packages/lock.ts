import {existsSync, readFileSync} from 'node:fs'
import {writeFileAtomic} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {stableDigest} from '../core/hashing.js'
import type {Recipe} from '../recipe/types.js'
import type {BinaryPackage, LockedPackage, PackageUniverse} from './types.js'

/**
 * keel.lock: the exact package set of a recipe, enough to fetch and verify every .deb with no index at hand.
 * `packages` is what the request resolves to (apt's answer); `added` lists what keel adds beyond it (the
 * essential set an image needs) with the reason, kept apart so the two are never confused.
 */
export interface Lockfile {
  lockfileVersion: 1
  /** Digest of everything that decides resolution; a recipe edit that changes it makes the lock stale. */
  inputsDigest: string
  architecture: string
  releases: PackageUniverse['releases']
  packages: LockedPackage[]
  added: Array<LockedPackage & {reason: string}>
  /** Names the recipe excludes that the closure would otherwise have pulled in. */
  excluded: string[]
}

export const LOCKFILE_VERSION = 1

/** `recipes/base.yaml` → `recipes/base.lock.json` */
export function lockPathFor(recipeFile: string): string {
  return recipeFile.replace(/\.ya?ml$/, '') + '.lock.json'
}

/** What resolution depends on. Users, files and units do not change the package set and are left out. */
export function resolutionInputs(recipe: Recipe, mirrorOverride?: string): unknown {
  return {
    architecture: recipe.distribution.architecture,
    essential: recipe.distribution.essential,
    sources: recipe.distribution.sources.map((s) => ({...s, mirror: mirrorOverride ?? s.mirror})),
    packages: recipe.packages.map((p) => (p.version ? `${p.name}=${p.version}` : p.name)),
    exclude: [...recipe.exclude.packages].sort(),
  }
}

export function inputsDigest(recipe: Recipe, mirrorOverride?: string): string {
  return stableDigest({lockfileVersion: LOCKFILE_VERSION, inputs: resolutionInputs(recipe, mirrorOverride)})
}

export function lockedPackage(p: BinaryPackage): LockedPackage {
  const out: LockedPackage = {
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    source: p.source,
    filename: p.filename,
    size: p.size,
    sha256: p.sha256,
    repository: p.repository,
    essential: p.essential,
  }
  if (p.replaces) out.replaces = p.replaces
  return out
}

export function buildLockfile(args: {
  digest: string
  universe: PackageUniverse
  packages: BinaryPackage[]
  added: Array<{pkg: BinaryPackage; reason: string}>
  excluded: string[]
}): Lockfile {
  const byName = (a: {name: string}, b: {name: string}) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return {
    lockfileVersion: LOCKFILE_VERSION,
    inputsDigest: args.digest,
    architecture: args.universe.architecture,
    releases: [...args.universe.releases].sort((a, b) => `${a.uri} ${a.suite}`.localeCompare(`${b.uri} ${b.suite}`)),
    packages: args.packages.map(lockedPackage).sort(byName),
    added: args.added.map(({pkg, reason}) => ({...lockedPackage(pkg), reason})).sort(byName),
    excluded: [...args.excluded].sort(),
  }
}

/** Every package the image installs: the request's closure plus what keel added. */
export function allLocked(lock: Lockfile): LockedPackage[] {
  return [...lock.packages, ...lock.added].sort((a, b) => (a.name < b.name ? -1 : 1))
}

export function readLockfile(path: string): Lockfile | undefined {
  if (!existsSync(path)) return undefined
  let parsed: Lockfile
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Lockfile
  } catch (err) {
    throw new KeelError(`lockfile ${path} is not valid JSON: ${(err as Error).message}`, 'input', 'delete it and run keel lock')
  }
  if (parsed.lockfileVersion !== LOCKFILE_VERSION || !Array.isArray(parsed.packages)) {
    throw new KeelError(`lockfile ${path} has an unsupported format`, 'input', 'run keel lock to write a new one')
  }
  return parsed
}

export async function writeLockfile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(lock, null, 2)}\n`)
}

export function assertFresh(lock: Lockfile, recipe: Recipe, path: string, mirrorOverride?: string): void {
  if (lock.inputsDigest !== inputsDigest(recipe, mirrorOverride)) {
    throw new KeelError(
      `lockfile ${path} is stale: the recipe's packages, exclusions or sources changed since it was written`,
      'staleLock',
      'run keel lock (or pass --update-lock) to resolve again',
    )
  }
}
