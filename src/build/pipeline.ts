import {mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {basename, join, resolve as resolvePath} from 'node:path'
import {fileURLToPath} from 'node:url'
import {writeFileAtomic} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {sha256File, sha256Hex, stableDigest} from '../core/hashing.js'
import {toolVersion} from '../exec/run.js'
import {HOST_TOOLS, type ToolName} from '../exec/tools.js'
import {FILESYSTEMS, makeRootImage, makeUsrImage} from '../fsimage/index.js'
import type {ImageFile} from '../fsimage/output.js'
import {buildInitrd, DEFAULT_INITRD_COMPRESSION, INITRD_COMPRESSIONS} from '../initramfs/build.js'
import type {PackageCache} from '../packages/cache.js'
import {allLocked, lockPathFor} from '../packages/lock.js'
import {ensureLock} from '../packages/lock-recipe.js'
import {loadRecipe} from '../recipe/load.js'
import type {Recipe} from '../recipe/types.js'
import {quietSteps, type StepRunner, timedSteps} from '../core/steps.js'
import {buildRootfs} from '../rootfs/build.js'
import {deriveVerityIdentity, formatVerity} from '../verity/format.js'
import {FIRST_BOOT_ENTRY, loaderConf, slotBootFiles, espEntries} from '../boot/entries.js'
import {installBootAssessment, installFirstBootDone} from './first-boot.js'
import {installEspMount} from './esp-mount.js'
import {installRootGrowth} from './root-growth.js'
import {installBootPrefetch} from '../rootfs/boot-prefetch.js'
import {type BuildConfig, bakedConfigCpio} from '../platforms/baked-config.js'
import {FORMATS} from '../platforms/formats.js'
import {groupPlatforms, type PlatformGroup} from '../platforms/plan.js'
import {PLATFORMS, type PlatformName} from '../platforms/registry.js'
import type {BuildParts, FormatName, FormatSpec} from '../platforms/types.js'
import {writeUpdatePayload} from '../platforms/update-payload.js'
import type {Artifact, BuildManifest} from './manifest.js'
import {buildPlatformDisks, type EspRequest} from './platform-disks.js'

/** The initrd's own recipe, shipped with keel (a mkosi-initrd-style second rootfs; see src/initramfs). */
export const INITRD_RECIPE = fileURLToPath(new URL('../../recipes/initrd.yaml', import.meta.url))
export const SYSTEMD_BOOT_EFI = '/usr/lib/systemd/boot/efi/systemd-bootx64.efi'

export interface BuildOptions {
  recipe: Recipe
  platforms: PlatformName[]
  outDir: string
  cache: PackageCache
  offline?: boolean
  mirror?: string
  updateLock?: boolean
  /** `--config`: the Ignition config baked into the platforms whose entry says so (metal, pxe, iso). */
  config?: BuildConfig
  /** `--extra-format`: optional formats to add where a platform offers them (metal: raw.xz). */
  extraFormats?: FormatName[]
}

/**
 * recipe → bootable disk, as a flat list of named stages: lock, rootfs, initrd, /usr image, verity, ROOT,
 * ESP, GPT disk, conversion, manifest. Everything is made in a hidden staging directory inside outDir and
 * renamed into place at the end, manifest.json last: an interrupted build leaves nothing that looks finished.
 */
export async function buildImage(opts: BuildOptions, step: StepRunner = quietSteps): Promise<BuildManifest> {
  const {recipe, cache} = opts
  const outDir = resolvePath(opts.outDir)
  await mkdir(outDir, {recursive: true})
  const staging = mkdtempSync(join(outDir, '.keel-build-'))
  const {timed, timings} = timedSteps(step)
  try {
    const lockOpts = {cache, offline: opts.offline, mirror: opts.mirror, update: opts.updateLock}
    const {lock} = await timed('lock', 'Checking the lockfile', (reporter) => ensureLock(recipe, {...lockOpts, reporter}))
    const initrdRecipe = loadRecipe(INITRD_RECIPE).recipe
    // The initrd's lock lives beside the image recipe's (keel's own folder may be read-only, and each image
    // pins its own initrd).
    const initrdLockPath = lockPathFor(recipe.file).replace(/\.lock\.json$/, '.initrd.lock.json')
    const {lock: initrdLock} = await timed('initrd-lock', 'Checking the initrd lockfile', (reporter) =>
      ensureLock(initrdRecipe, {...lockOpts, lockPath: initrdLockPath, reporter}),
    )
    // Every identifier derives from what goes in, so the same recipe and lockfile give the same bytes. The
    // /usr choice is in it: builds that differ only in /usr's filesystem or compression get different UUIDs.
    const seed = stableDigest({lock: lock.inputsDigest, packages: allLocked(lock).map((p) => p.sha256), image: recipe.image, usr: recipe.usr})
    const groups = groupPlatforms(opts.platforms, {config: opts.config !== undefined, extraFormats: opts.extraFormats})
    let manifest: BuildManifest | undefined

    const rootfs = await buildRootfs({recipe, lock, cache, offline: opts.offline, onTree: async (tree, epoch) => {
      const modules = readdirSync(tree.hostPath('usr/lib/modules'))
      const kernelVersion = modules.length === 1 ? modules[0]! : undefined
      const kernelFile = readdirSync(tree.hostPath('boot')).find((n) => n === `vmlinuz-${kernelVersion}`)
      if (!kernelVersion || !kernelFile) throw new KeelError(`the image needs exactly one kernel; found modules for: ${modules.join(', ') || 'none'}`, 'input', 'add one linux-image-* package to the recipe')
      const initrd = await timed('initrd', 'Building the initrd', async () =>
        buildInitrd({recipe: initrdRecipe, lock: initrdLock, cache, offline: opts.offline, kernel: {modulesDir: tree.hostPath(`usr/lib/modules/${kernelVersion}`), version: kernelVersion}, out: join(staging, 'initrd.img'), sourceDateEpoch: epoch}),
      )
      installFirstBootDone(tree)
      installBootAssessment(tree)
      installRootGrowth(tree)
      installEspMount(tree)
      // Last before /usr is imaged: the read-ahead list names keel's own units' programs too.
      installBootPrefetch(tree, recipe.distribution.architecture)
      const usr = await timed('usr', 'Making the /usr image', (reporter) => makeUsrImage(tree, {...recipe.usr, output: join(staging, `usr.${recipe.usr.filesystem}`), seed, epoch, reporter}))
      const id = deriveVerityIdentity(seed)
      const verity = await timed('verity', 'Hashing /usr (dm-verity)', () => formatVerity(usr.path, join(staging, 'usr.verity'), {salt: id.salt, uuid: id.uuid}))
      const bakedConfig = opts.config ? join(staging, 'ignition-user.cpio.gz') : undefined
      if (opts.config && bakedConfig) writeFileSync(bakedConfig, bakedConfigCpio(opts.config.json, epoch))
      const parts: BuildParts = {
        image: recipe.image,
        seed,
        epoch,
        kernel: {path: tree.hostPath(`boot/${kernelFile}`), version: kernelVersion},
        initrd: initrd.path,
        usr: {path: usr.path, filesystem: recipe.usr.filesystem, size: usr.size},
        verity: {path: join(staging, 'usr.verity'), rootHash: verity.rootHash, hashSize: verity.hashSize},
        recipeKernelArgs: recipe.kernel.cmdline,
        ...(bakedConfig ? {bakedConfig} : {}),
        scratch: staging,
        tree,
      }
      // ROOT depends on its partition's size only (layouts differ in disk size): one image per size.
      const roots = new Map<number, Promise<string>>()
      const rootImage = (sizeBytes: number): Promise<string> => {
        if (!roots.has(sizeBytes)) {
          roots.set(sizeBytes, timed(`root:${sizeBytes}`, 'Making the ROOT filesystem', (reporter) =>
            makeRootImage(tree, {output: join(staging, `root-${sizeBytes}.ext4`), sizeBytes, seed, epoch, label: 'ROOT', reporter}).then((r) => r.path),
          ))
        }
        return roots.get(sizeBytes)!
      }
      const bootFiles = slotBootFiles('A')
      const espFiles = ({cmdline, extraInitrds}: EspRequest): Record<string, ImageFile> => {
        const entries = espEntries({slot: 'A', kernelPath: `/${bootFiles.kernel}`, initrdPaths: [`/${bootFiles.initrd}`, ...Object.keys(extraInitrds).map((p) => `/${p}`)], cmdline, title: `${recipe.image.name} ${recipe.image.version} (slot A)`, version: recipe.image.version, firstBoot: true})
        return {
          'EFI/BOOT/BOOTX64.EFI': {hostPath: SYSTEMD_BOOT_EFI},
          'loader/loader.conf': {content: loaderConf(FIRST_BOOT_ENTRY)},
          ...Object.fromEntries(Object.entries(entries).map(([path, content]) => [path, {content}])),
          [bootFiles.kernel]: {hostPath: parts.kernel.path},
          [bootFiles.initrd]: {hostPath: initrd.path},
          ...Object.fromEntries(Object.entries(extraInitrds).map(([path, hostPath]) => [path, {hostPath}])),
        }
      }
      const platformOutputs = await buildPlatformDisks({parts, groups, architecture: 'x86-64', staging, espFiles, rootImage, timed})
      const payloadName = `${recipe.image.name}-${recipe.image.version}-usr.zst`
      const payload = await timed('update-payload', 'Compressing the update payload (/usr + verity)', () => writeUpdatePayload(usr.path, parts.verity.path, join(staging, payloadName)))
      const payloadFile = await sha256File(join(staging, payloadName))
      const artifacts: Artifact[] = [...platformOutputs.artifacts, {path: payloadName, format: 'usr.zst', platform: 'update', ...payloadFile, uncompressed: payload}]
      manifest = {
        manifestVersion: 1,
        image: recipe.image,
        recipe: {file: basename(recipe.file), digest: stableDigest({...recipe, locations: undefined, file: undefined, sourceFiles: undefined}), lockInputsDigest: lock.inputsDigest},
        sourceDateEpoch: epoch,
        platforms: [...opts.platforms],
        artifacts,
        slots: {A: {rootHash: verity.rootHash, filesystem: recipe.usr.filesystem, compression: usr.compression ?? recipe.usr.compression, dataSize: usr.size, hashSize: verity.hashSize}},
        kernel: {version: kernelVersion, cmdline: platformOutputs.cmdlines[opts.platforms[0]!]!, cmdlines: platformOutputs.cmdlines},
        initrd: {sha256: initrd.sha256, size: initrd.size, packages: initrd.packages, modules: initrd.modules.load},
        ...(opts.config ? {config: {file: basename(opts.config.file), kind: opts.config.kind, sha256: sha256Hex(opts.config.json), platforms: opts.platforms.filter((p) => PLATFORMS[p].bakedConfig)}} : {}),
        packages: allLocked(lock).map((p) => ({name: p.name, version: p.version, architecture: p.architecture})),
        tools: await toolVersions(buildTools(recipe, groups)),
        timings,
      }
    }}, step)

    Object.assign(timings, rootfs.timings)
    // Publish: artifacts first, the manifest last (its presence means the build is complete).
    for (const a of manifest!.artifacts) renameSync(join(staging, a.path), join(outDir, a.path))
    await writeFileAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    return manifest!
  } finally {
    rmSync(staging, {recursive: true, force: true})
  }
}

/** The tools whose versions the manifest records: the pipeline's own, the /usr filesystem's and those of the formats built. */
function buildTools(recipe: Recipe, groups: readonly PlatformGroup[]): ToolName[] {
  const tools = new Set<ToolName>([...FILESYSTEMS[recipe.usr.filesystem].makeTools, 'mke2fs', 'debugfs', 'mkfs.vfat', 'mcopy', 'zstd', INITRD_COMPRESSIONS[DEFAULT_INITRD_COMPRESSION].tool, 'ldconfig', 'depmod'])
  for (const g of groups) for (const p of g.platforms) for (const f of p.formats) for (const t of (FORMATS[f] as FormatSpec).tools) tools.add(t)
  return [...tools]
}

async function toolVersions(names: ToolName[]): Promise<Record<string, string>> {
  const entries = await Promise.all(names.map(async (n) => [n, await toolVersion(n, HOST_TOOLS[n].versionArgs).catch(() => 'unknown')] as const))
  return Object.fromEntries(entries)
}
