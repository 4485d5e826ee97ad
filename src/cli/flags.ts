import {Args, Flags} from '@oclif/core'
import {PackageCache, defaultCacheDir} from '../packages/cache.js'

/** Flags shared by every command that touches Debian packages. Declared once, spread into commands. */
export const packageFlags = {
  mirror: Flags.string({description: "Debian mirror for every suite (default: the one the host's apt sources name)", helpValue: 'URL'}),
  offline: Flags.boolean({description: 'use only the local cache (indexes and packages are still verified)', default: false}),
  'cache-dir': Flags.string({description: 'package cache (default: $XDG_CACHE_HOME/keel or ~/.cache/keel)', helpValue: 'DIR'}),
}

export const recipeArg = {
  recipe: Args.string({description: 'recipe file (YAML), e.g. recipes/base.yaml', required: true}),
}

export function cacheFrom(flags: {'cache-dir'?: string}): PackageCache {
  return new PackageCache(flags['cache-dir'] ?? defaultCacheDir())
}
