import {copyFile, rename, rm} from 'node:fs/promises'
import {tempPathFor} from '../core/atomic.js'
import {writeLiveInitrd} from './live.js'
import type {FormatContext, FormatSpec, ProducedFile} from './types.js'

/**
 * PXE: `<stem>-pxe.vmlinuz` and `<stem>-pxe.initrd` — the normal initrd followed by the live archive (and a
 * baked config), one file a PXE/iPXE server hands out as it is. The machine needs no disk: /usr is a
 * verity-checked squashfs inside the initrd, / a tmpfs, Ignition runs on every boot. The kernel command line
 * to serve with them is in manifest.json (`kernel.cmdlines.pxe`); `ignition.config.url=` may be added to it.
 */

/** The initrd beside the kernel: same stem, `.initrd` for `.vmlinuz` (pure). */
export function pxeInitrdPath(kernelOut: string): string {
  return kernelOut.replace(/\.vmlinuz$/, '') + '.initrd'
}

export async function producePxe(ctx: FormatContext): Promise<ProducedFile[]> {
  const initrd = pxeInitrdPath(ctx.out)
  ctx.reporter.status('PXE: the live initrd')
  const live = await writeLiveInitrd(ctx.parts, ctx.spec, initrd)
  const tmp = tempPathFor(ctx.out)
  try {
    await copyFile(ctx.parts.kernel.path, tmp)
    await rename(tmp, ctx.out)
  } finally {
    await rm(tmp, {force: true})
  }
  return [
    {path: ctx.out, format: 'kernel', cmdline: live.cmdline},
    {path: initrd, format: 'initramfs', cmdline: live.cmdline},
  ]
}

export const PXE_FORMAT = {
  description: 'PXE: kernel + initramfs whose /usr is a verity-checked squashfs inside it (boots with no disk)',
  suffix: '.vmlinuz',
  tools: ['mksquashfs'],
  needsDisk: false,
  produce: producePxe,
} as const satisfies FormatSpec
