import type {ImageIdentity} from '../recipe/types.js'

/** One file `keel build` produced, as later stages (platforms, release) and users find it. */
export interface Artifact {
  /** Relative to the build directory. */
  path: string
  format: 'raw' | 'qcow2'
  platform: string
  size: number
  sha256: string
}

/** DIR/manifest.json: everything needed to trust, reproduce and publish a build. */
export interface BuildManifest {
  manifestVersion: 1
  image: ImageIdentity
  recipe: {file: string; digest: string; lockInputsDigest: string}
  sourceDateEpoch: number
  platforms: string[]
  artifacts: Artifact[]
  /** Verity root hash of each /usr slot that has content; an empty slot is absent. */
  slots: Record<string, {rootHash: string; filesystem: string; dataSize: number; hashSize: number}>
  kernel: {version: string; cmdline: string}
  initrd: {sha256: string; size: number; packages: number; modules: string[]}
  packages: Array<{name: string; version: string; architecture: string}>
  /** Host tools that made the bytes, with their versions. */
  tools: Record<string, string>
  /** Milliseconds per stage. */
  timings: Record<string, number>
}
