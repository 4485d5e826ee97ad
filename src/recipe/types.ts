import type {Location} from '../core/source.js'
import type {UsrFilesystemName} from '../fsimage/usr.js'

/**
 * A recipe after includes are merged and defaults applied: the one typed description of an image that every
 * stage reads. `schemas/recipe.schema.json` describes the YAML form; recipe/load.ts turns YAML into this.
 */
export interface Recipe {
  /** Absolute path of the top-level recipe file. */
  file: string
  /** Absolute paths of every recipe file that contributed (the recipe and its includes), in merge order. */
  sourceFiles: string[]
  image: ImageIdentity
  distribution: Distribution
  /** Packages to install, in recipe order (order matters to the resolver, as it does to apt). */
  packages: PackageSpec[]
  exclude: {
    /** Packages never installed; dependencies on them count as satisfied (e.g. apt, dpkg). */
    packages: string[]
    /** Globs over image paths ('/usr/share/doc/**'); matching entries are dropped while unpacking. */
    paths: string[]
    /** Globs naming paths kept although a `paths` glob matches them (an allow-list inside an excluded folder). */
    keep: string[]
  }
  users: UserSpec[]
  groups: GroupSpec[]
  files: FileSpec[]
  units: {enable: string[]; disable: string[]; mask: string[]}
  kernel: {cmdline: string[]}
  /** The read-only /usr image: filesystem and compression, checked against src/fsimage's registry. */
  usr: UsrChoice
  /** Where each value came from, for diagnostics raised after loading (e.g. an unknown package). */
  locations: RecipeLocations
}

export interface UsrChoice {
  filesystem: UsrFilesystemName
  /** Normalized 'algorithm' or 'algorithm,level' (e.g. 'lz4', 'zstd,19'), one the filesystem offers. */
  compression: string
}

export interface ImageIdentity {
  /** os-release ID, e.g. 'keel' */
  id: string
  /** os-release NAME */
  name: string
  version: string
  channel: string
}

export interface Distribution {
  architecture: string
  /** Add Debian's Essential: yes packages beyond what the request pulls in (an image needs them; apt's answer does not). */
  essential: boolean
  sources: SourceSpec[]
}

export interface SourceSpec {
  suites: string[]
  components: string[]
  /** Undefined: use the mirror the host's own apt sources name for that suite. */
  mirror?: string
  keyrings?: string[]
}

export interface PackageSpec {
  name: string
  /** `name=version` pins an exact version. */
  version?: string
  location?: Location
}

export interface UserSpec {
  name: string
  uid?: number
  gid?: number
  gecos?: string
  home?: string
  shell?: string
  groups: string[]
  system: boolean
}

export interface GroupSpec {
  name: string
  gid?: number
  system: boolean
}

export interface FileSpec {
  /** Absolute image path. */
  path: string
  mode: number
  uid: number
  gid: number
  /** Exactly one of content (inline text) or source (absolute host path, resolved against the recipe's folder). */
  content?: string
  source?: string
  location?: Location
}

export interface RecipeLocations {
  packages: Map<string, Location>
  excludePackages: Map<string, Location>
}
