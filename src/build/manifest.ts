import type {ArtifactFormat} from '../platforms/types.js'
import type {ImageIdentity} from '../recipe/types.js'

/** One file `keel build` produced, as later stages (release) and users find it. */
export interface Artifact {
  /** Relative to the build directory. */
  path: string
  format: ArtifactFormat
  /** A platform name (registry.ts), or 'update' for the A/B update payload. */
  platform: string
  size: number
  sha256: string
  /** Compressed artifacts: what they decompress to (e.g. the raw disk's sha256 for .img.zst). */
  uncompressed?: {sha256: string; size: number}
}

/** DIR/manifest.json: everything needed to trust, reproduce and publish a build. */
export interface BuildManifest {
  manifestVersion: 1
  image: ImageIdentity
  recipe: {file: string; digest: string; lockInputsDigest: string}
  sourceDateEpoch: number
  platforms: string[]
  artifacts: Artifact[]
  /** Verity root hash of each /usr slot that has content, its filesystem and compression ('lz4', 'zstd,19'; absent from manifests of older keels); an empty slot is absent. */
  slots: Record<string, {rootHash: string; filesystem: string; compression?: string; dataSize: number; hashSize: number}>
  /** cmdline: the first platform's normal boot; cmdlines: every platform's (they differ in ignition.platform.id). */
  kernel: {version: string; cmdline: string; cmdlines: Record<string, string>}
  initrd: {sha256: string; size: number; packages: number; modules: string[]}
  /** `keel build --config`: the translated Ignition config baked into the platforms listed. */
  config?: {file: string; kind: string; sha256: string; platforms: string[]}
  packages: Array<{name: string; version: string; architecture: string}>
  /** Host tools that made the bytes, with their versions. */
  tools: Record<string, string>
  /** Milliseconds per stage. */
  timings: Record<string, number>
}
