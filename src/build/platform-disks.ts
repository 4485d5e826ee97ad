import {mkdtemp, rm} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {kernelCommandLine} from '../boot/cmdline.js'
import {sha256File} from '../core/hashing.js'
import type {Reporter} from '../core/progress.js'
import type {Architecture} from '../disk/guids.js'
import {loadLayout} from '../disk/layout.js'
import {planDisk} from '../disk/plan.js'
import {writeDisk} from '../disk/write.js'
import {makeOemImage} from '../fsimage/index.js'
import type {ImageFile} from '../fsimage/output.js'
import {FORMATS} from '../platforms/formats.js'
import {artifactName, type PlatformGroup} from '../platforms/plan.js'
import {PLATFORMS} from '../platforms/registry.js'
import {sparseSha256} from '../platforms/sparse.js'
import type {BuildParts, FormatSpec, PlatformDisk} from '../platforms/types.js'
import {makeEspVariants} from './esp-variants.js'
import type {Artifact} from './manifest.js'

/**
 * From the shared parts to every platform's artifacts. Per platform group only the small parts are made —
 * the ESP (boot entries carrying the group's ignition.platform.id and kernel arguments, and its baked
 * config), the OEM filesystem — then the GPT disk is assembled from the shared /usr, verity and ROOT images
 * and each format producer converts it. A group's scratch files are removed once its platforms are done, so
 * temp disk stays at about one raw disk (sparse) plus the artifacts.
 */

/** ESP path of the baked Ignition config's archive (a second initrd of slot A's entries). */
export const BAKED_CONFIG_ESP_PATH = 'keel/ignition-a.cpio.gz'

export interface EspRequest {
  /** The group's kernel command line for a normal boot (false) and for the first boot (true). */
  cmdline: (firstBoot: boolean) => string
  /** Further initrds after the main one: ESP path → host file (the baked config, when the group has one). */
  extraInitrds: Record<string, string>
}

export interface PlatformDisksInput {
  parts: BuildParts
  groups: readonly PlatformGroup[]
  architecture: Architecture
  staging: string
  /** The ESP's files for a group: boot entries are the build's business (src/build/boot-entries.ts). */
  espFiles: (request: EspRequest) => Record<string, ImageFile>
  /** The ROOT filesystem image for a partition of this size (the pipeline caches one per size). */
  rootImage: (sizeBytes: number) => Promise<string>
  /** Runs one named, timed step. */
  timed: <T>(name: string, title: string, fn: (report: Reporter) => Promise<T>) => Promise<T>
}

export interface PlatformDisksResult {
  artifacts: Artifact[]
  /** Each platform's normal kernel command line. */
  cmdlines: Record<string, string>
}

export async function buildPlatformDisks(input: PlatformDisksInput): Promise<PlatformDisksResult> {
  const {parts, staging, timed} = input
  const artifacts: Artifact[] = []
  const cmdlines: Record<string, string> = {}
  // First every group's plan and ESP file list, so the ESPs can share one base image (esp-variants.ts).
  const prepared = input.groups.map((group) => {
    const plan = planDisk(loadLayout(group.layout), {seed: parts.seed, architecture: input.architecture, usrFilesystem: parts.usr.filesystem, slots: {A: {rootHash: parts.verity.rootHash}}})
    const cmdline = (firstBoot: boolean): string =>
      kernelCommandLine({
        usrHash: parts.verity.rootHash,
        usrFs: parts.usr.filesystem,
        root: 'PARTLABEL=ROOT',
        firstBoot,
        platform: group.ignitionPlatformId,
        extra: [...group.kernelArgs, ...parts.recipeKernelArgs],
      })
    const extraInitrds: Record<string, string> = group.bakedConfig && parts.bakedConfig ? {[BAKED_CONFIG_ESP_PATH]: parts.bakedConfig} : {}
    return {group, plan, cmdline, espFiles: input.espFiles({cmdline, extraInitrds})}
  })
  const espImages: Record<string, string> = {}
  const espSizes = [...new Set(prepared.map((p) => p.plan.partitions.find((x) => x.name === 'EFI-SYSTEM')!.sizeBytes))]
  await timed('esp', `Making the EFI system partitions (${prepared.length})`, async () => {
    for (const sizeBytes of espSizes) {
      const same = prepared.filter((p) => p.plan.partitions.find((x) => x.name === 'EFI-SYSTEM')!.sizeBytes === sizeBytes)
      const dir = await mkdtemp(join(staging, 'esp-'))
      Object.assign(espImages, await makeEspVariants({groups: Object.fromEntries(same.map((p) => [p.group.key, p.espFiles])), sizeBytes, seed: parts.seed, epoch: parts.epoch, dir}))
    }
  })

  for (const {group, plan, cmdline, espFiles} of prepared) {
    const names = group.platforms.map((p) => p.name).join(', ')
    const partition = (name: string) => plan.partitions.find((p) => p.name === name)
    const scratch = (what: string) => join(staging, `${what}-${group.key}`)
    const esp = {path: espImages[group.key]!}
    const contents: Record<string, string> = {'EFI-SYSTEM': esp.path, 'USR-A': parts.usr.path, 'USR-A-verity': parts.verity.path}
    const oemPartition = partition('OEM')
    if (oemPartition && oemPartition.content.kind !== 'empty') {
      const files = Object.fromEntries(Object.entries(group.oem).map(([path, content]) => [path, {content, mode: 0o644}]))
      const oem = await timed(`oem:${group.key}`, `Making the OEM partition (${names})`, (reporter) =>
        makeOemImage({output: scratch('oem.ext4'), sizeBytes: oemPartition.sizeBytes, seed: parts.seed, epoch: parts.epoch, files, reporter}),
      )
      contents.OEM = oem.path
    }
    const rootPartition = partition('ROOT')
    if (rootPartition) contents.ROOT = await input.rootImage(rootPartition.sizeBytes)

    let digest: Promise<{sha256: string; size: number}> | undefined
    const disk: PlatformDisk = {raw: '', size: plan.sizeBytes, digest: () => (digest ??= sparseSha256(disk.raw)), esp: esp.path, espFiles, cmdline: cmdline(false), firstBootCmdline: cmdline(true)}
    if (group.needsDisk) {
      disk.raw = scratch('disk.raw')
      await timed(`disk:${group.key}`, `Writing the GPT disk (${names})`, (reporter) => writeDisk(plan, contents, disk.raw, reporter))
    }
    for (const {name, formats} of group.platforms) {
      cmdlines[name] = disk.cmdline
      for (const format of formats) {
        const spec: FormatSpec = FORMATS[format]
        const out = join(staging, artifactName(parts.image, name, spec.suffix))
        const produced = await timed(`convert:${name}:${format}`, `Converting for ${name} (${format})`, (reporter) =>
          spec.produce({platform: name, spec: PLATFORMS[name], parts, disk, out, reporter}),
        )
        for (const file of produced) {
          const {sha256, size} = file.digest ?? (await sha256File(file.path))
          artifacts.push({path: basename(file.path), format: file.format, platform: name, size, sha256, ...(file.uncompressed ? {uncompressed: file.uncompressed} : {})})
          // Live formats (PXE, ISO) boot with their own command line, not the disk's.
          if (file.cmdline) cmdlines[name] = file.cmdline
        }
      }
    }
    await Promise.all([disk.raw, esp.path, contents.OEM].filter((p): p is string => !!p).map((p) => rm(p, {force: true})))
  }
  return {artifacts, cmdlines}
}
