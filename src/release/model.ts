import type {ImageIdentity} from '../recipe/types.js'
import type {Channel} from './version.js'

/**
 * The release tree's data, as publish writes it and verify reads it. Paths are relative to RELEASES_DIR and
 * use '/', so the same strings are URL paths when the tree is served.
 */

/** One artifact of a release, as release.json lists it. */
export interface ReleaseArtifact {
  /** File name inside the version directory. */
  name: string
  platform: string
  format: string
  size: number
  sha256: string
  /** Detached OpenPGP signature (binary), beside the artifact. */
  signature: string
  /** Compressed artifacts: what they decompress to (from the build manifest). */
  uncompressed?: {sha256: string; size: number}
}

/** What an updater needs to write /usr into the inactive slot and check it before switching. */
export interface UpdatePayload {
  /** The artifact (an entry of `artifacts`) holding the slot image: filesystem then hash tree, compressed. */
  name: string
  compression: string
  sha256: string
  size: number
  /** Digest and size of the decompressed payload (filesystem then hash tree), when the build recorded them. */
  uncompressed?: {sha256: string; size: number}
  filesystem: string
  /** dm-verity root hash of the slot image; the updater checks the written slot against it. */
  rootHash: string
  dataSize: number
  hashSize: number
}

/** VERSION_DIR/release.json: the release's own metadata, covered by SHA256SUMS and its signature. */
export interface ReleaseJson {
  releaseFormat: 1
  version: string
  channel: Channel
  arch: string
  image: ImageIdentity
  sourceDateEpoch: number
  /** Digest of the artifact set (names, sizes, sha256s): equal digests mean the same bytes. */
  buildDigest: string
  promotedFrom?: {channel: Channel; version: string}
  artifacts: ReleaseArtifact[]
  update?: UpdatePayload
  slots: Record<string, {rootHash: string; filesystem: string; dataSize: number; hashSize: number}>
  kernel?: {version: string; cmdline: string}
  packages: number
}

export interface IndexEntry {
  channel: Channel
  arch: string
  version: string
  /** Version directory, relative to the tree root. */
  path: string
  /** sha256 of that directory's release.json: ties the signed index to the signed release. */
  releaseSha256: string
  buildDigest: string
  promotedFrom?: {channel: Channel; version: string}
}

/** RELEASES_DIR/releases.json (+ .sig): every release of every channel. */
export interface ReleaseIndex {
  indexFormat: 1
  generator: string
  /** Fingerprint of the key every signature in the tree is made with. */
  signingKey: string
  /** Metadata generation; grows by one with every publish or promote that changes the tree. */
  generation: number
  releases: IndexEntry[]
}

export interface StreamLocation {
  location: string
  signature: string
  sha256: string
  size: number
  'uncompressed-sha256'?: string
  'uncompressed-size'?: number
}

/** RELEASES_DIR/streams/<channel>.json (+ .sig), shaped like Fedora CoreOS stream metadata. */
export interface StreamJson {
  stream: Channel
  metadata: {generator: string; 'last-modified': string; generation: number}
  architectures: Record<
    string,
    {
      artifacts: Record<
        string,
        {
          release: string
          formats: Record<string, Record<string, StreamLocation & Partial<Omit<UpdatePayload, 'name' | 'sha256' | 'size' | 'uncompressed'>>>>
        }
      >
    }
  >
}

/**
 * One file-system step. Publish and promote are lists of these, computed purely and applied in order by the
 * executor; `place.from` is absolute, every other path is relative to the tree root.
 */
export type FileOp =
  | {op: 'mkdir'; path: string}
  | {op: 'write'; path: string; content: string}
  /** Hard link when on one filesystem, otherwise a streaming copy (a reflink where the filesystem can). */
  | {op: 'place'; from: string; to: string}
  /** Write a detached OpenPGP signature of `path` to `signature`. */
  | {op: 'sign'; path: string; signature: string}
  /** Create `path` as a symlink to `target`, atomically replacing whatever link is there. */
  | {op: 'symlink'; path: string; target: string}
  | {op: 'rename'; from: string; to: string}
  | {op: 'remove'; path: string}

export const GENERATOR = 'keel release'

/** Tree layout. Everything a consumer reads through these names changes with one rename: the `meta` link. */
export const TREE = {
  metaLink: 'meta',
  metaDir: '.meta',
  lockFile: '.lock',
  index: 'releases.json',
  key: 'release-key.asc',
  streamsDir: 'streams',
  stagingPrefix: '.staging-',
  currentLink: 'current',
} as const

export const VERSION_FILES = {
  release: 'release.json',
  versionTxt: 'version.txt',
  manifest: 'manifest.json',
  packages: 'packages.txt',
  sbom: 'sbom.spdx.json',
  sums: 'SHA256SUMS',
} as const

export function signatureName(file: string): string {
  return `${file}.sig`
}

export function versionDir(channel: string, arch: string, version: string): string {
  return `${channel}/${arch}/${version}`
}

export function streamPath(channel: string): string {
  return `${TREE.streamsDir}/${channel}.json`
}
