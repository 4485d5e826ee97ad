import type {Reporter} from '../core/progress.js'
import type {ToolName} from '../exec/tools.js'
import type {ImageFile} from '../fsimage/output.js'
import type {UsrFilesystemName} from '../fsimage/usr.js'
import type {ImageIdentity} from '../recipe/types.js'
import type {RootTree} from '../rootfs/tree.js'

/**
 * The platforms stage's contracts. A platform (registry.ts) is data: a layout, an Ignition platform id,
 * kernel arguments, OEM contents and a list of formats. A format (formats.ts) is a producer function and a
 * file suffix. The build makes the expensive parts once (BuildParts) and, per group of platforms that boot
 * the same bytes, one ESP, one OEM filesystem and one raw GPT disk (PlatformDisk); each format producer then
 * turns those into its artifact files.
 */

/** The keys of the format registry (formats.ts): what a platform entry lists. */
export type FormatName = 'raw' | 'raw.zst' | 'raw.xz' | 'qcow2' | 'qcow2.gz' | 'vmdk' | 'vhd' | 'tar.gz' | 'ova' | 'pxe' | 'iso'

/**
 * Every kind of file the build can publish (manifest.json `artifacts[].format`): the registry's formats, the
 * A/B update payload, and what the PXE and ISO producers write.
 */
export type ArtifactFormat = FormatName | 'usr.zst' | 'kernel' | 'initramfs' | 'iso'

/** What every platform of a build shares: made once, read by every producer, never modified. */
export interface BuildParts {
  image: ImageIdentity
  /** Digest of the build's inputs; derive identifiers from it (derivedGuid(seed, purpose)). */
  seed: string
  /** SOURCE_DATE_EPOCH of the build: the only timestamp an artifact may carry. */
  epoch: number
  /** Host path of the kernel image (vmlinuz) and its version (the modules directory name). */
  kernel: {path: string; version: string}
  /** Host path of the initrd (compressed newc cpio, src/initramfs/build.ts) every platform boots. */
  initrd: string
  /** The slot-A /usr filesystem image. */
  usr: {path: string; filesystem: UsrFilesystemName; size: number}
  /** The slot-A verity hash device (superblock at 0, then the tree) and its root hash. */
  verity: {path: string; rootHash: string; hashSize: number}
  /** The recipe's kernel.cmdline, appended after the platform's own arguments. */
  recipeKernelArgs: readonly string[]
  /**
   * A small newc cpio holding /usr/lib/ignition/user.ign (from `keel build --config`), loaded as a second
   * initrd by platforms whose entry has `bakedConfig: true`; absent without --config.
   */
  bakedConfig?: string
  /** Staging directory for scratch files (removed at the end of the build). */
  scratch: string
  /** The composed tree, read-only, alive while producers run: the live formats (PXE, ISO) take ROOT's contents from it. */
  tree?: RootTree
}

/** What one group of platforms (same layout, ESP and OEM) boots from. */
export interface PlatformDisk {
  /** The raw GPT disk (sparse). */
  raw: string
  size: number
  /** sha256 and size of the raw disk, computed on first use (hashing GiBs costs seconds; most formats never ask). */
  digest: () => Promise<{sha256: string; size: number}>
  /** The EFI system partition image inside it, and the files it holds (ESP path → content). */
  esp: string
  espFiles: Record<string, ImageFile>
  /** Full kernel command line of the normal (not first-boot) entry; firstBootCmdline adds ignition.firstboot. */
  cmdline: string
  firstBootCmdline: string
}

export interface FormatContext {
  platform: string
  spec: PlatformSpec
  parts: BuildParts
  disk: PlatformDisk
  /** Where to write the artifact: a path in the staging directory named `<name>-<version>-<platform><suffix>`. */
  out: string
  reporter: Reporter
}

/** One file a producer wrote, to be published and listed in manifest.json. */
export interface ProducedFile {
  /** Absolute path inside the staging directory (usually FormatContext.out). */
  path: string
  format: ArtifactFormat
  /** The file's own sha256 and size when the producer already knows them (the build hashes it otherwise). */
  digest?: {sha256: string; size: number}
  /** For a compressed artifact: the bytes it decompresses to (e.g. the raw disk), when known cheaply. */
  uncompressed?: {sha256: string; size: number}
  /** The kernel command line this artifact boots with, when it is not the disk's (PXE, ISO): recorded in manifest.json. */
  cmdline?: string
}

export interface FormatSpec {
  description: string
  /** Appended to `<name>-<version>-<platform>`, e.g. '.qcow2', '.img.zst'. */
  suffix: string
  /** Host tools the producer runs (for the manifest's tool versions). */
  tools: readonly ToolName[]
  /**
   * Whether the producer reads the raw GPT disk (default true). When no format of a platform group needs
   * it (PXE boots from kernel + initramfs alone), the disk is not assembled and `disk.raw` is ''.
   */
  needsDisk?: boolean
  produce(ctx: FormatContext): Promise<ProducedFile[]>
}

export interface PlatformSpec {
  description: string
  /** images/layouts/<layout>.yaml: the partition table overlay this platform needs. */
  layout: string
  /** ignition.platform.id on the kernel command line: where Ignition looks for the user's config. */
  ignitionPlatformId: string
  /** How a user hands the machine its Ignition config there (help text). */
  configDelivery: string
  /** Formats always produced. */
  formats: readonly FormatName[]
  /** Formats produced only when asked for (`keel build --extra-format raw.xz`). */
  optionalFormats?: readonly FormatName[]
  /** Kernel arguments the platform needs, before the recipe's own. */
  kernelArgs: readonly string[]
  /** Files on the OEM partition (path → content); empty means an empty ext4. */
  oem: Readonly<Record<string, string>>
  /** `keel build --config` is baked into the image: only for platforms with no metadata source. */
  bakedConfig: boolean
}
