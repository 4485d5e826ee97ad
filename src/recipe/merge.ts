import type {RecipeLayer} from './parse.js'
import type {Recipe, RecipeLocations, SourceSpec} from './types.js'
import {mergeUsr} from './usr.js'

export const RECIPE_DEFAULTS = {
  image: {id: 'keel', name: 'keel', version: '0.0.0', channel: 'dev'},
  architecture: 'amd64',
  essential: true,
  sources: [{suites: ['bookworm'], components: ['main']}] as SourceSpec[],
} as const

/**
 * Merge recipe layers, earliest (most included) first. The rules, in full:
 * - scalars (image.*, distribution.architecture, distribution.essential): the later layer overrides;
 * - lists (packages, sources, exclude.*, units.*, kernel.cmdline): appended in layer order, duplicates dropped;
 * - keyed lists (users and groups by name, files by path): appended, a later entry replaces an earlier one
 *   with the same key in place;
 * - exclude wins: a package named in any layer's exclude.packages is removed from packages, whichever layer
 *   listed it;
 * - usr.filesystem and usr.compression override, but a layer that names another filesystem without a
 *   compression gets that filesystem's default (usr.ts; load.ts reports compressions a filesystem lacks).
 */
export function mergeLayers(file: string, layers: RecipeLayer[]): Recipe {
  const excluded = new Set(layers.flatMap((l) => l.exclude.packages.map((p) => p.name)))
  const locations: RecipeLocations = {packages: new Map(), excludePackages: new Map()}
  const packages = new Map<string, Recipe['packages'][number]>()
  for (const layer of layers) {
    for (const p of layer.packages) {
      if (excluded.has(p.name)) continue
      packages.set(p.name, p)
      if (p.location) locations.packages.set(p.name, p.location)
    }
    for (const e of layer.exclude.packages) locations.excludePackages.set(e.name, e.location)
  }
  const sources = layers.flatMap((l) => l.distribution.sources ?? [])
  return {
    file,
    sourceFiles: layers.map((l) => l.file),
    image: Object.assign({}, RECIPE_DEFAULTS.image, ...layers.map((l) => l.image)),
    distribution: {
      architecture: lastDefined(layers.map((l) => l.distribution.architecture)) ?? RECIPE_DEFAULTS.architecture,
      essential: lastDefined(layers.map((l) => l.distribution.essential)) ?? RECIPE_DEFAULTS.essential,
      sources: sources.length ? sources : RECIPE_DEFAULTS.sources.map((s) => ({...s})),
    },
    packages: [...packages.values()],
    exclude: {
      packages: unique(layers.flatMap((l) => l.exclude.packages.map((p) => p.name))),
      paths: unique(layers.flatMap((l) => l.exclude.paths)),
      keep: unique(layers.flatMap((l) => l.exclude.keep)),
    },
    users: byKey(layers.flatMap((l) => l.users), (u) => u.name),
    groups: byKey(layers.flatMap((l) => l.groups), (g) => g.name),
    files: byKey(layers.flatMap((l) => l.files), (f) => f.path),
    units: {
      enable: unique(layers.flatMap((l) => l.units.enable)),
      disable: unique(layers.flatMap((l) => l.units.disable)),
      mask: unique(layers.flatMap((l) => l.units.mask)),
    },
    kernel: {cmdline: unique(layers.flatMap((l) => l.kernel.cmdline))},
    usr: mergeUsr(layers).usr,
    locations,
  }
}

function lastDefined<T>(values: Array<T | undefined>): T | undefined {
  return values.filter((v) => v !== undefined).pop()
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

function byKey<T>(items: T[], key: (item: T) => string): T[] {
  const out = new Map<string, T>()
  for (const item of items) out.set(key(item), item)
  return [...out.values()]
}
