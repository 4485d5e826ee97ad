/**
 * Output platforms as data: `--platform` choices, help and validation derive from this table. Each entry names
 * its disk layout (images/layouts/<layout>.yaml), the Ignition platform id the kernel command line carries, and
 * the artifact formats it ships. Adding a platform is one entry here plus its test.
 */
export interface PlatformSpec {
  description: string
  layout: string
  ignitionPlatformId: string
  formats: ReadonlyArray<'raw' | 'qcow2'>
}

export const PLATFORMS = {
  qemu: {description: 'QEMU/KVM: qcow2 (compat 1.1, compressed clusters), Ignition via fw_cfg', layout: 'qemu', ignitionPlatformId: 'qemu', formats: ['qcow2']},
  metal: {description: 'bare metal: raw disk image, Ignition via ignition.config.url or a baked config', layout: 'base', ignitionPlatformId: 'metal', formats: ['raw']},
} as const satisfies Record<string, PlatformSpec>

export type PlatformName = keyof typeof PLATFORMS
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as PlatformName[]
