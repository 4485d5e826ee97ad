import {mergeLayers} from './merge.js'
import type {RecipeLayer} from './parse.js'
import type {Recipe} from './types.js'

/**
 * A recipe made from command-line flags (keel resolve), so ad-hoc requests follow exactly the rules recipes do
 * (host mirror per suite, defaults, package order).
 */
export function adhocRecipe(opts: {architecture: string; suites: string[]; components: string[]; packages: string[]; essential: boolean}): Recipe {
  const file = '<command line>'
  const layer: RecipeLayer = {
    file,
    include: [],
    image: {},
    distribution: {architecture: opts.architecture, essential: opts.essential, sources: [{suites: opts.suites, components: opts.components}]},
    packages: opts.packages.map((spec) => {
      const [name, version] = spec.split('=') as [string, string | undefined]
      return version ? {name, version} : {name}
    }),
    exclude: {packages: [], paths: [], keep: []},
    users: [],
    groups: [],
    files: [],
    units: {enable: [], disable: [], mask: []},
    kernel: {cmdline: []},
    usr: {},
  }
  return mergeLayers(file, [layer])
}
