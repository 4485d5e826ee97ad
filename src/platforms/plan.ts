import {KeelError} from '../core/errors.js'
import {stableDigest} from '../core/hashing.js'
import {FORMATS} from './formats.js'
import {PLATFORMS, type PlatformName} from './registry.js'
import type {FormatName} from './types.js'

/**
 * Which disks a build assembles (pure). Platforms whose ESP, OEM and layout would be byte-identical — same
 * layout, Ignition platform id, kernel arguments, OEM files and baked config — share one raw disk; every
 * other difference is a separate disk built from the same shared /usr, verity and ROOT images.
 */

export interface PlatformGroup {
  /** Stable id of what makes the disk differ (for scratch file names). */
  key: string
  layout: string
  ignitionPlatformId: string
  kernelArgs: readonly string[]
  oem: Readonly<Record<string, string>>
  /** This group's disk carries the --config Ignition config as an extra initrd. */
  bakedConfig: boolean
  /** Whether any format of the group reads the raw disk. */
  needsDisk: boolean
  /** In the order given on the command line. */
  platforms: Array<{name: PlatformName; formats: FormatName[]}>
}

/** A platform's formats: its own, plus the optional ones asked for that it offers. */
export function formatsFor(platform: PlatformName, extra: readonly FormatName[] = []): FormatName[] {
  const spec = PLATFORMS[platform]
  const optional: readonly FormatName[] = 'optionalFormats' in spec ? spec.optionalFormats : []
  return [...spec.formats, ...extra.filter((f) => optional.includes(f) && !(spec.formats as readonly FormatName[]).includes(f))]
}

/** The formats `--extra-format` accepts: every platform's optional formats. */
export function optionalFormatNames(): FormatName[] {
  const all = new Set<FormatName>()
  for (const spec of Object.values(PLATFORMS)) for (const f of 'optionalFormats' in spec ? spec.optionalFormats : []) all.add(f)
  return [...all].sort()
}

export function groupPlatforms(platforms: readonly PlatformName[], opts: {config: boolean; extraFormats?: readonly FormatName[]}): PlatformGroup[] {
  const dupes = platforms.filter((p, i) => platforms.indexOf(p) !== i)
  if (dupes.length) throw new KeelError(`platform given twice: ${[...new Set(dupes)].join(', ')}`, 'usage')
  if (platforms.length === 0) throw new KeelError('no platform given', 'usage')
  const groups = new Map<string, PlatformGroup>()
  for (const name of platforms) {
    const spec = PLATFORMS[name]
    const baked = opts.config && spec.bakedConfig
    const identity = {layout: spec.layout, id: spec.ignitionPlatformId, args: spec.kernelArgs, oem: spec.oem, baked}
    const key = stableDigest(identity).slice(0, 12)
    const formats = formatsFor(name, opts.extraFormats)
    const needsDisk = formats.some((f) => (FORMATS[f] as {needsDisk?: boolean}).needsDisk !== false)
    const group = groups.get(key)
    if (group) {
      group.platforms.push({name, formats})
      group.needsDisk ||= needsDisk
    } else {
      groups.set(key, {key, layout: spec.layout, ignitionPlatformId: spec.ignitionPlatformId, kernelArgs: spec.kernelArgs, oem: spec.oem, bakedConfig: baked, needsDisk, platforms: [{name, formats}]})
    }
  }
  return [...groups.values()]
}

/** `<name>-<version>-<platform><suffix>`, e.g. keel-0.1.0-qemu.qcow2. */
export function artifactName(image: {name: string; version: string}, platform: string, suffix: string): string {
  return `${image.name}-${image.version}-${platform}${suffix}`
}

/** Parse `--platform a,b,c` (pure): names in order, unknown names reported together. */
export function parsePlatformList(text: string): {platforms: PlatformName[]; unknown: string[]} {
  const names = text.split(',').map((p) => p.trim()).filter(Boolean)
  const unknown = names.filter((n) => !Object.hasOwn(PLATFORMS, n))
  return {platforms: names.filter((n): n is PlatformName => Object.hasOwn(PLATFORMS, n)), unknown}
}
