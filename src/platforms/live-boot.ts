import {basename} from 'node:path'
import type {BootMedium} from '../boot/qemu.js'
import type {BuildManifest} from '../build/manifest.js'
import {KeelError} from '../core/errors.js'
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
