import type {PlatformSpec} from './types.js'

/**
 * Output platforms as data. `keel build --platform`'s choices, help and validation derive from this table;
 * adding a platform is one entry here (plus a layout overlay in images/layouts/ if its disk differs) and its
 * test — see README.md for a worked example.
 *
 * Facts behind the entries: ../../../shared/reference/platforms.md (Flatcar's image_to_vm.sh and
 * coreos-assembler make one image per platform the same way: one build, a per-platform OEM partition and
 * ignition.platform.id, then a conversion).
 */

/** `/oem-release` on the OEM partition: which platform the image was made for (Flatcar keeps the same file). */
function oemRelease(id: string, name: string): Record<string, string> {
  return {'oem-release': `ID=${id}\nNAME="${name}"\n`}
}

export const PLATFORMS = {
  qemu: {
    description: 'QEMU/KVM: qcow2 (compat 1.1, compressed clusters)',
    layout: 'qemu',
    ignitionPlatformId: 'qemu',
    configDelivery: 'QEMU fw_cfg opt/com.coreos/config (keel boot --ignition)',
    formats: ['qcow2'],
    kernelArgs: [],
    oem: oemRelease('qemu', 'QEMU'),
    bakedConfig: false,
  },
  metal: {
    description: 'bare metal: raw .img and .img.zst (.img.xz with --extra-format raw.xz)',
    layout: 'base',
    ignitionPlatformId: 'metal',
    configDelivery: 'ignition.config.url= on the kernel command line, or baked in with keel build --config',
    formats: ['raw', 'raw.zst'],
    optionalFormats: ['raw.xz'],
    kernelArgs: [],
    oem: oemRelease('metal', 'Bare metal'),
    bakedConfig: true,
  },
  aws: {
    description: 'Amazon EC2: raw and stream-optimized VMDK (the snapshot import formats)',
    layout: 'base',
    ignitionPlatformId: 'aws',
    configDelivery: 'EC2 user-data',
    formats: ['raw', 'vmdk'],
    // EBS volumes are NVMe devices on current instance types; a short I/O timeout turns a slow volume into
    // a failed one (Flatcar and Fedora CoreOS set the same).
    kernelArgs: ['nvme_core.io_timeout=4294967295'],
    oem: oemRelease('aws', 'Amazon EC2'),
    bakedConfig: false,
  },
  gcp: {
    description: 'Google Compute Engine: disk.raw in a sparse oldgnu tar.gz, a whole number of GiB',
    layout: 'gcp',
    ignitionPlatformId: 'gcp',
    configDelivery: 'GCE instance metadata (user-data)',
    formats: ['tar.gz'],
    kernelArgs: [],
    oem: oemRelease('gcp', 'Google Compute Engine'),
    bakedConfig: false,
  },
  azure: {
    description: 'Microsoft Azure: fixed VHD, virtual size a whole number of MiB',
    layout: 'azure',
    ignitionPlatformId: 'azure',
    configDelivery: 'Azure custom data',
    formats: ['vhd'],
    kernelArgs: [],
    oem: oemRelease('azure', 'Microsoft Azure'),
    bakedConfig: false,
  },
  vmware: {
    description: 'VMware vSphere/ESXi: OVA (OVF, manifest, stream-optimized VMDK), UEFI firmware',
    layout: 'base',
    ignitionPlatformId: 'vmware',
    configDelivery: 'guestinfo.ignition.config.data (VM advanced settings / vApp properties)',
    formats: ['ova'],
    kernelArgs: [],
    oem: oemRelease('vmware', 'VMware'),
    bakedConfig: false,
  },
  openstack: {
    description: 'OpenStack: qcow2',
    layout: 'base',
    ignitionPlatformId: 'openstack',
    configDelivery: 'config drive or the metadata service (user-data)',
    formats: ['qcow2'],
    kernelArgs: [],
    oem: oemRelease('openstack', 'OpenStack'),
    bakedConfig: false,
  },
  digitalocean: {
    description: 'DigitalOcean: qcow2.gz (custom images must be gzip or bzip2)',
    layout: 'base',
    ignitionPlatformId: 'digitalocean',
    configDelivery: 'droplet user-data',
    formats: ['qcow2.gz'],
    kernelArgs: [],
    oem: oemRelease('digitalocean', 'DigitalOcean'),
    bakedConfig: false,
  },
  pxe: {
    description: 'PXE: kernel + initramfs with a verity-checked squashfs /usr inside (no disk; / is a tmpfs, Ignition runs on every boot)',
    // No disk is written; the layout only keeps the group (ESP, OEM) the same as metal's.
    layout: 'base',
    ignitionPlatformId: 'metal',
    configDelivery: 'ignition.config.url= on the kernel command line, or baked in with keel build --config',
    formats: ['pxe'],
    kernelArgs: [],
    oem: oemRelease('metal', 'Bare metal'),
    bakedConfig: true,
  },
  iso: {
    description: 'live ISO: hybrid UEFI (CD/DVD or USB stick) booting the PXE system with systemd-boot',
    layout: 'base',
    ignitionPlatformId: 'metal',
    configDelivery: 'baked in with keel build --config',
    formats: ['iso'],
    kernelArgs: [],
    oem: oemRelease('metal', 'Bare metal'),
    bakedConfig: true,
  },
} as const satisfies Record<string, PlatformSpec>

export type PlatformName = keyof typeof PLATFORMS
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as PlatformName[]

export function isPlatformName(name: string): name is PlatformName {
  return Object.hasOwn(PLATFORMS, name)
}

export function platformSpec(name: PlatformName): PlatformSpec {
  return PLATFORMS[name]
}
