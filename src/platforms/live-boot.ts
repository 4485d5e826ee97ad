import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import type {BootMedium} from '../boot/qemu.js'
import type {BuildManifest} from '../build/manifest.js'
import {KeelError} from '../core/errors.js'
import {concatenateInitrds} from '../initramfs/live-build.js'
import {bakedConfigCpio} from './baked-config.js'
import {pxeInitrdPath} from './pxe.js'

/**
 * How `keel boot` boots a live artifact (pure): an ISO as a CD; a PXE kernel by direct kernel boot with the
 * initrd beside it and the command line the build recorded in manifest.json (plus `extra` arguments, e.g.
 * ignition.config.url=). Anything else is a disk image (undefined).
 */
export function liveBootMedium(image: string, manifest: BuildManifest | undefined, extra: readonly string[] = []): BootMedium | undefined {
  if (image.endsWith('.iso')) return {cdrom: image}
  if (!image.endsWith('.vmlinuz')) return undefined
  const artifact = manifest?.artifacts.find((a) => a.path === basename(image))
  const cmdline = artifact ? manifest?.kernel.cmdlines?.[artifact.platform] : undefined
  if (!cmdline) {
    throw new KeelError(`no kernel command line for ${basename(image)}: manifest.json beside it does not list it`, 'input', 'boot a PXE kernel from its build directory (keel build --platform pxe)')
  }
  return {kernel: image, initrd: pxeInitrdPath(image), append: [cmdline, ...extra].join(' ')}
}

/** liveBootMedium with the build's manifest.json read from beside the artifact (when there is one). */
export function liveBootMediumOf(image: string, extra: readonly string[] = []): BootMedium | undefined {
  const manifestPath = join(dirname(resolve(image)), 'manifest.json')
  const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as BuildManifest) : undefined
  return liveBootMedium(image, manifest, extra)
}

export type PxeMedium = Extract<BootMedium, {kernel: string}>

/**
 * A PXE medium whose initrd also carries an Ignition config: Ignition's metal provider reads no fw_cfg, so
 * the config goes in as one more archive after the build's (its user.ign replaces a baked one), written in
 * `dir`, named after the config file (config-1.ign → config-1.cpio, config-1.initrd). For `keel boot --ignition`
 * and `keel test` on a PXE kernel.
 */
export async function pxeWithConfig(medium: PxeMedium, ignitionPath: string, dir: string): Promise<PxeMedium> {
  let text: string
  try {
    text = readFileSync(ignitionPath, 'utf8')
  } catch {
    throw new KeelError(`cannot read Ignition config ${ignitionPath}`, 'input')
  }
  const name = basename(ignitionPath).replace(/\.ign$/, '')
  const archive = join(dir, `${name}.cpio`)
  writeFileSync(archive, bakedConfigCpio(text, 0))
  return {...medium, initrd: (await concatenateInitrds([medium.initrd, archive], join(dir, `${name}.initrd`))).path}
}
