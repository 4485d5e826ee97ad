import {mkdtempSync, readdirSync, renameSync, rmSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {basename, dirname, join, resolve as resolvePath} from 'node:path'
import {fileURLToPath} from 'node:url'
import {bootEntry, kernelCommandLine, loaderConf} from '../boot/cmdline.js'
import {writeFileAtomic} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {sha256File, stableDigest} from '../core/hashing.js'
import {loadLayout} from '../disk/layout.js'
import {planDisk} from '../disk/plan.js'
import {writeDisk} from '../disk/write.js'
import {run, toolVersion} from '../exec/run.js'
import {HOST_TOOLS} from '../exec/tools.js'
import {makeEspImage, makeRootImage, makeUsrImage} from '../fsimage/index.js'
import {buildInitrd} from '../initramfs/build.js'
import type {PackageCache} from '../packages/cache.js'
import {allLocked, lockPathFor} from '../packages/lock.js'
import {ensureLock} from '../packages/lock-recipe.js'
import {loadRecipe} from '../recipe/load.js'
import type {Recipe} from '../recipe/types.js'
import {quietSteps, type StepRunner, timedSteps} from '../core/steps.js'
import {buildRootfs} from '../rootfs/build.js'
import {deriveVerityIdentity, formatVerity} from '../verity/format.js'
import {FIRST_BOOT_ENTRY, installFirstBootDone, NORMAL_ENTRY} from './first-boot.js'
import type {Artifact, BuildManifest} from './manifest.js'
import {PLATFORMS, type PlatformName} from './platforms.js'

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
    // Every identifier derives from what goes in, so the same recipe and lockfile give the same bytes.
    const seed = stableDigest({lock: lock.inputsDigest, packages: allLocked(lock).map((p) => p.sha256), image: recipe.image})
    const platformIds = [...new Set(opts.platforms.map((p) => PLATFORMS[p].ignitionPlatformId))]
    const layoutName = PLATFORMS[opts.platforms[0]!].layout
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
      const usr = await timed('usr', 'Making the /usr image', (reporter) => makeUsrImage(tree, {filesystem: 'erofs', compression: 'lz4', output: join(staging, 'usr.erofs'), seed, epoch, reporter}))
      const id = deriveVerityIdentity(seed)
      const verity = await timed('verity', 'Hashing /usr (dm-verity)', () => formatVerity(usr.path, join(staging, 'usr.verity'), {salt: id.salt, uuid: id.uuid}))
      const plan = planDisk(loadLayout(layoutName), {seed, architecture: 'x86-64', usrFilesystem: 'erofs', slots: {A: {rootHash: verity.rootHash}}})
      const sizeOf = (name: string): number => plan.partitions.find((p) => p.name === name)!.sizeBytes
      const root = await timed('root', 'Making the ROOT filesystem', (reporter) => makeRootImage(tree, {output: join(staging, 'root.ext4'), sizeBytes: sizeOf('ROOT'), seed, epoch, label: 'ROOT', reporter}))
      // One platform id per image: the first platform's (qemu and metal builds are separate when ids differ).
      const cmdlineFor = (firstBoot: boolean) =>
        kernelCommandLine({usrHash: verity.rootHash, usrFs: 'erofs', root: 'PARTLABEL=ROOT', firstBoot, platform: platformIds[0]!, extra: recipe.kernel.cmdline})
      const cmdline = cmdlineFor(false)
      const entry = (title: string, options: string) => bootEntry({title, linux: '/keel/vmlinuz-a', initrd: '/keel/initrd-a', options})
      const title = `${recipe.image.name} ${recipe.image.version} (slot A)`
      const esp = await timed('esp', 'Making the EFI system partition', () =>
        makeEspImage({output: join(staging, 'esp.vfat'), sizeBytes: sizeOf('EFI-SYSTEM'), seed, epoch, files: {
          'EFI/BOOT/BOOTX64.EFI': {hostPath: SYSTEMD_BOOT_EFI},
          'loader/loader.conf': {content: loaderConf(FIRST_BOOT_ENTRY)},
          [`loader/entries/${FIRST_BOOT_ENTRY}`]: {content: entry(`${title}, first boot`, cmdlineFor(true))},
          [`loader/entries/${NORMAL_ENTRY}`]: {content: entry(title, cmdline)},
          'keel/vmlinuz-a': {hostPath: tree.hostPath(`boot/${kernelFile}`)},
          'keel/initrd-a': {hostPath: initrd.path},
        }}),
      )
      const rawName = `${recipe.image.name}-${recipe.image.version}.raw`
      await timed('disk', 'Writing the GPT disk', (reporter) =>
        writeDisk(plan, {'EFI-SYSTEM': esp.path, 'USR-A': usr.path, 'USR-A-verity': join(staging, 'usr.verity'), ROOT: root.path}, join(staging, rawName), reporter),
      )
      const artifacts = await timed('convert', 'Converting for each platform', () => convert(join(staging, rawName), opts.platforms))
      manifest = {
        manifestVersion: 1,
        image: recipe.image,
        recipe: {file: basename(recipe.file), digest: stableDigest({...recipe, locations: undefined, file: undefined, sourceFiles: undefined}), lockInputsDigest: lock.inputsDigest},
        sourceDateEpoch: epoch,
        platforms: [...opts.platforms],
        artifacts,
        slots: {A: {rootHash: verity.rootHash, filesystem: 'erofs', dataSize: usr.size, hashSize: verity.hashSize}},
        kernel: {version: kernelVersion, cmdline},
        initrd: {sha256: initrd.sha256, size: initrd.size, packages: initrd.packages, modules: initrd.modules.load},
        packages: allLocked(lock).map((p) => ({name: p.name, version: p.version, architecture: p.architecture})),
        tools: await toolVersions(['mkfs.erofs', 'mke2fs', 'debugfs', 'mkfs.vfat', 'mcopy', 'qemu-img', 'zstd', 'ldconfig', 'depmod']),
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

/** Each platform's formats from the one raw disk; raw is kept only when a platform ships it. */
async function convert(raw: string, platforms: PlatformName[]): Promise<Artifact[]> {
  const out: Artifact[] = []
  const dir = dirname(raw)
  const stem = basename(raw, '.raw')
  for (const platform of platforms) {
    for (const format of PLATFORMS[platform].formats) {
      const name = format === 'raw' ? basename(raw) : `${stem}-${platform}.${format}`
      if (format === 'qcow2') await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', 'compat=1.1', '-c', raw, join(dir, name)])
      const {sha256, size} = await sha256File(join(dir, name))
      out.push({path: name, format, platform, size, sha256})
    }
  }
  return out
}

async function toolVersions(names: Array<keyof typeof HOST_TOOLS>): Promise<Record<string, string>> {
  const entries = await Promise.all(names.map(async (n) => [n, await toolVersion(n, HOST_TOOLS[n].versionArgs).catch(() => 'unknown')] as const))
  return Object.fromEntries(entries)
}
