import {lstat, readdir, readFile, readlink} from 'node:fs/promises'
import {join} from 'node:path'
import type {BuildManifest} from '../build/manifest.js'
import {KeelError} from '../core/errors.js'
import {sha256File, sha256Hex} from '../core/hashing.js'
import type {Reporter} from '../core/progress.js'
import {type ReleaseIndex, type ReleaseJson, TREE, VERSION_FILES} from './model.js'
import type {KnownRelease, TreeState} from './plan.js'
import {CHANNEL_NAMES, parseVersion} from './version.js'

/** Adapters that read the world for the planners: a build directory, checked, and the tree's current state. */

export interface CheckedBuild {
  dir: string
  manifest: BuildManifest
  manifestText: string
}

/**
 * Read DIR/manifest.json and check every artifact it lists against its size and sha256 (streamed). Any
 * problem refuses the publish before the tree is touched.
 */
export async function readCheckedBuild(dir: string, reporter?: Reporter): Promise<CheckedBuild> {
  const manifestPath = join(dir, 'manifest.json')
  let manifestText: string
  try {
    manifestText = await readFile(manifestPath, 'utf8')
  } catch {
    throw new KeelError(`${manifestPath} is missing: not a keel build directory`, 'input', 'make one with: keel build RECIPE -o DIR')
  }
  let manifest: BuildManifest
  try {
    manifest = JSON.parse(manifestText) as BuildManifest
  } catch (err) {
    throw new KeelError(`${manifestPath} is not JSON: ${(err as Error).message}`, 'input')
  }
  if (manifest.manifestVersion !== 1 || !Array.isArray(manifest.artifacts) || !manifest.image || !manifest.slots || !Array.isArray(manifest.packages)) {
    throw new KeelError(`${manifestPath} is not a keel build manifest (version 1)`, 'input')
  }
  if (manifest.artifacts.length === 0) throw new KeelError(`${manifestPath} lists no artifacts`, 'input')
  const missing: string[] = []
  const altered: string[] = []
  for (const a of manifest.artifacts) {
    if (typeof a.path !== 'string' || a.path.split('/').includes('..') || a.path.startsWith('/')) throw new KeelError(`${manifestPath}: artifact path '${a.path}' leaves the build directory`, 'input')
    reporter?.status(`checking ${a.path}`)
    const path = join(dir, a.path)
    const actual = await sha256File(path).catch(() => undefined)
    if (!actual) missing.push(a.path)
    else if (actual.sha256 !== a.sha256 || actual.size !== a.size) altered.push(`${a.path} (manifest sha256 ${a.sha256.slice(0, 16)}…, file ${actual.sha256.slice(0, 16)}…)`)
  }
  if (missing.length) throw new KeelError(`artifacts listed in ${manifestPath} are missing: ${missing.join(', ')}`, 'input')
  if (altered.length) throw new KeelError(`artifacts do not match ${manifestPath}: ${altered.join('; ')}`, 'integrity', 'rebuild; a build directory must not be changed after keel build')
  return {dir, manifest, manifestText}
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false)
}

async function list(path: string): Promise<string[]> {
  return readdir(path).catch(() => [] as string[])
}

/** Current generation number from the `meta` link (0 when there is none). */
export async function currentGeneration(root: string): Promise<number> {
  const target = await readlink(join(root, TREE.metaLink)).catch(() => undefined)
  const m = target ? /^\.meta\/(\d+)$/.exec(target) : null
  return m ? Number(m[1]) : 0
}

/** Read what the tree holds, for the planners. Call it under the tree lock. */
export async function readTreeState(root: string): Promise<TreeState> {
  const generation = await currentGeneration(root)
  if (generation === 0 && (await lstat(join(root, TREE.index)).then((st) => !st.isSymbolicLink(), () => false))) {
    // A copy that followed the links (cp -L, an object-store sync): publishing here would start a new index.
    throw new KeelError(`${root} has a ${TREE.index} but no 'meta' link: the tree was copied without its symbolic links`, 'input', 'copy release trees with rsync -aH or cp -a, which keep links')
  }
  let index: ReleaseIndex | undefined
  if (generation > 0) {
    const text = await readFile(join(root, TREE.metaDir, String(generation), TREE.index), 'utf8')
    index = JSON.parse(text) as ReleaseIndex
  }
  const onDisk: Record<string, KnownRelease[]> = {}
  const leftovers: string[] = []
  const existing: string[] = []
  for (const name of [TREE.index, `${TREE.index}.sig`, TREE.streamsDir, TREE.key]) if (await exists(join(root, name))) existing.push(name)
  for (const name of await list(root)) if (name.includes('.tmp-')) leftovers.push(name)
  for (const channel of CHANNEL_NAMES) {
    for (const arch of await list(join(root, channel))) {
      const pair = `${channel}/${arch}`
      for (const name of (await list(join(root, pair))).sort()) {
        if (name.startsWith(TREE.stagingPrefix) || name.includes('.tmp-')) leftovers.push(`${pair}/${name}`)
        else if (name === TREE.currentLink) existing.push(`${pair}/${name}`)
        else if (parseVersion(name)) {
          const text = await readFile(join(root, pair, name, VERSION_FILES.release), 'utf8').catch(() => undefined)
          if (text === undefined) continue
          ;(onDisk[pair] ??= []).push({release: JSON.parse(text) as ReleaseJson, releaseSha256: sha256Hex(text)})
        }
      }
    }
  }
  const generations: number[] = []
  for (const name of await list(join(root, TREE.metaDir))) {
    if (/^\d+$/.test(name) && Number(name) <= generation) generations.push(Number(name))
    else leftovers.push(`${TREE.metaDir}/${name}`)
  }
  generations.sort((a, b) => a - b)
  return {generation, index, onDisk, existing, leftovers: leftovers.sort(), generations}
}
