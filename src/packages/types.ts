/**
 * Shared data types of the packages stage (resolve, lock, fetch). Kept free of I/O so every module of the
 * stage, and the rootfs stage below it, can import them.
 */

/** One signed APT repository as keel reads it: a mirror URI, one suite, its components. */
export interface RepositorySource {
  /** Mirror base URI, no trailing slash, e.g. the host's own Debian mirror. */
  uri: string
  suite: string
  components: string[]
  /** OpenPGP keyring(s) the InRelease must verify against. */
  keyrings: string[]
}

/** A binary package stanza from a signed Packages index, with only the fields keel uses. */
export interface BinaryPackage {
  name: string
  version: string
  /** 'amd64', 'arm64', ... or 'all' */
  architecture: string
  /** Raw relation fields, exactly as in the index (parsed by relations.ts). */
  depends?: string
  preDepends?: string
  provides?: string
  conflicts?: string
  breaks?: string
  replaces?: string
  /**
   * Never followed (keel installs no Recommends/Suggests), but apt numbers every name in the order it first
   * meets it in any relation field, and breaks ties between equally good providers by that number; the
   * resolver needs these fields to make the same choice.
   */
  recommends?: string
  suggests?: string
  enhances?: string
  essential: boolean
  priority?: string
  multiArch?: string
  /** Source package name (the Source field without its version, or the package name). */
  source: string
  /** Path relative to the mirror URI, e.g. pool/main/b/bash/bash_5.2.15-2+b2_amd64.deb */
  filename: string
  size: number
  sha256: string
  /** The repository this stanza came from. */
  repository: {uri: string; suite: string; component: string}
}

/** Everything the resolver may choose from: the union of the recipe's repositories for one architecture. */
export interface PackageUniverse {
  architecture: string
  packages: BinaryPackage[]
  /** Where each Release came from and its signed metadata, for the lockfile. */
  releases: Array<{uri: string; suite: string; date: string; inReleaseSha256: string}>
}

/** A pinned package in keel.lock: enough to fetch and verify it with no index at hand. */
export interface LockedPackage {
  name: string
  version: string
  architecture: string
  source: string
  /** Full download URL = repository.uri + '/' + filename */
  filename: string
  size: number
  sha256: string
  repository: {uri: string; suite: string; component: string}
  /** Raw relation fields the rootfs stage still needs (Replaces decides file overwrites). */
  replaces?: string
  essential: boolean
}
