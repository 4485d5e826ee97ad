import {mkdir, mkdtemp, readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {silentReporter} from '../../../src/core/progress.js'
import {run} from '../../../src/exec/run.js'
import type {LockedPackage} from '../../../src/packages/types.js'
import type {Recipe} from '../../../src/recipe/types.js'
import type {FixupContext} from '../../../src/rootfs/fixups/types.js'
import {RootTree} from '../../../src/rootfs/tree.js'
import {unpackPackages} from '../../../src/rootfs/unpack.js'
import {lockedPackage} from '../../helpers/make-deb.js'

/**
 * Integration-test helper: real bookworm .debs fetched with `apt-get download` (the host's mirror), unpacked
 * with keel's own unpacker into a fresh RootTree. Returns the tree and the packages as LockedPackages.
 */
export async function downloadDebs(names: string[], dir?: string): Promise<Map<string, string>> {
  const into = dir ?? (await mkdtemp(join(tmpdir(), 'keel-fixup-debs-')))
  await mkdir(into, {recursive: true})
  await run('apt-get', ['download', ...names], {cwd: into, timeoutMs: 600_000})
  const byName = new Map<string, string>()
  for (const file of await readdir(into)) {
    const name = file.split('_')[0]!
    if (file.endsWith('.deb') && names.includes(name)) byName.set(name, join(into, file))
  }
  for (const n of names) if (!byName.has(n)) throw new Error(`apt-get download did not produce ${n}`)
  return byName
}

export async function realTree(names: string[], opts: {exclude?: string[]} = {}): Promise<{tree: RootTree; packages: LockedPackage[]; base: string}> {
  const base = await mkdtemp(join(tmpdir(), 'keel-fixup-tree-'))
  const debs = await downloadDebs(names, join(base, 'debs'))
  const root = join(base, 'root')
  await mkdir(root)
  const tree = new RootTree(root)
  const packages = names.map((n) => lockedPackage(n))
  await unpackPackages(tree, packages.map((pkg) => ({pkg, path: debs.get(pkg.name)!})), {exclude: opts.exclude ?? []})
  return {tree, packages, base}
}

export function testRecipe(extra: Partial<Recipe> = {}): Recipe {
  return {
    file: '/recipes/test.yaml',
    sourceFiles: ['/recipes/test.yaml'],
    image: {id: 'keel', name: 'keel', version: '0.1.0', channel: 'alpha'},
    distribution: {architecture: 'amd64', essential: false, sources: []} as Recipe['distribution'],
    packages: [],
    exclude: {packages: [], paths: []},
    users: [],
    groups: [],
    files: [],
    units: {enable: [], disable: [], mask: []},
    kernel: {cmdline: []},
    locations: {packages: new Map(), excludePackages: new Map()},
    ...extra,
  }
}

/** 2023-11-14T22:13:20Z: day 19675. */
export const TEST_EPOCH = 1_700_000_000

export function context(tree: RootTree, packages: LockedPackage[], recipe: Recipe = testRecipe()): FixupContext {
  return {tree, recipe, packages, sourceDateEpoch: TEST_EPOCH, reporter: silentReporter}
}
