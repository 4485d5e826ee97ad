import {accessSync, constants} from 'node:fs'
import {join} from 'node:path'
import {MissingToolError} from '../core/errors.js'

/**
 * Every host program keel may run, with the Debian package that ships it. `keel doctor` renders this table;
 * the runner refuses a program that is not listed here, so the table cannot drift from the code.
 */
export const HOST_TOOLS = {
  xz: {debianPackage: 'xz-utils', purpose: 'decompress .deb data and Packages.xz; the metal image\'s optional .img.xz', versionArgs: ['--version']},
  zstd: {debianPackage: 'zstd', purpose: 'decompress .deb data (zstd members); compress the metal image and the update payload', versionArgs: ['--version']},
  lz4: {debianPackage: 'lz4', purpose: 'compress the initrd (legacy frame, as the kernel unpacks it)', versionArgs: ['--version']},
  gpgv: {debianPackage: 'gpgv', purpose: 'verify InRelease signatures', versionArgs: ['--version']},
  ldconfig: {debianPackage: 'libc-bin', purpose: 'build ld.so.cache offline (ldconfig -r)', versionArgs: ['--version']},
  depmod: {debianPackage: 'kmod', purpose: 'build modules.dep offline (depmod -b)', versionArgs: ['--version']},
  'systemd-sysusers': {debianPackage: 'systemd', purpose: 'create system users from sysusers.d (--root)', versionArgs: ['--version']},
  systemctl: {debianPackage: 'systemd', purpose: 'apply unit presets offline (--root)', versionArgs: ['--version']},
  openssl: {debianPackage: 'openssl', purpose: 'hash links for the CA certificate directory', versionArgs: ['version']},
  'update-ca-certificates': {debianPackage: 'ca-certificates', purpose: 'test oracle: Debian\'s own CA bundle builder (directory options)', versionArgs: []},
  'pam-auth-update': {debianPackage: 'libpam-runtime', purpose: 'test oracle: Debian\'s PAM stack builder (--root)', versionArgs: []},
  'update-shells': {debianPackage: 'debianutils', purpose: 'test oracle: Debian\'s /etc/shells builder (--root)', versionArgs: []},
  modinfo: {debianPackage: 'kmod', purpose: 'test oracle: resolve a module through the image\'s modules.dep (-b)', versionArgs: ['--version']},
  'apt-get': {debianPackage: 'apt', purpose: 'test oracle: apt\'s own resolution', versionArgs: ['--version']},
  dpkg: {debianPackage: 'dpkg', purpose: 'test oracle: dpkg --compare-versions', versionArgs: ['--version']},
  'dpkg-deb': {debianPackage: 'dpkg', purpose: 'test oracle: builds .debs and lists their contents for the unpacker tests', versionArgs: ['--version']},
  tar: {debianPackage: 'tar', purpose: 'test oracle: GNU tar lists and extracts the rootfs tar', versionArgs: ['--version']},
  mmdebstrap: {debianPackage: 'mmdebstrap', purpose: 'benchmark peer', versionArgs: ['--version']},
  veritysetup: {debianPackage: 'cryptsetup-bin', purpose: 'test oracle and benchmark peer for keel verity', versionArgs: ['--version']},
  sgdisk: {debianPackage: 'gdisk', purpose: 'test oracle: checks the GPTs keel writes (sgdisk -v, -i, -A)', versionArgs: ['--version']},
  'systemd-repart': {debianPackage: 'systemd', purpose: 'test oracle: grows ROOT on a keel disk the way the first boot does', versionArgs: ['--version']},
  sfdisk: {debianPackage: 'fdisk', purpose: 'test oracle: the partition table as util-linux reads it (sfdisk --json)', versionArgs: ['--version']},
  'ignition-validate': {debianPackage: 'ignition', purpose: 'test oracle: validates Ignition configs', versionArgs: ['--version']},
  'mkfs.erofs': {debianPackage: 'erofs-utils', purpose: 'make the read-only /usr image (erofs)', versionArgs: ['--help']},
  'dump.erofs': {debianPackage: 'erofs-utils', purpose: 'test oracle: inode owners and modes in an erofs image', versionArgs: ['-V']},
  'fsck.erofs': {debianPackage: 'erofs-utils', purpose: 'test oracle: checks erofs images keel writes', versionArgs: ['-V']},
  mksquashfs: {debianPackage: 'squashfs-tools', purpose: 'make the /usr image when squashfs is chosen', versionArgs: ['-version']},
  unsquashfs: {debianPackage: 'squashfs-tools', purpose: 'test oracle: lists squashfs owners and modes', versionArgs: ['-version']},
  mke2fs: {debianPackage: 'e2fsprogs', purpose: 'make the ROOT and OEM ext4 images from a directory (-d)', versionArgs: ['-V']},
  debugfs: {debianPackage: 'e2fsprogs', purpose: 'set ext4 inode owners, modes and times from the manifest, rootless', versionArgs: ['-V']},
  e2fsck: {debianPackage: 'e2fsprogs', purpose: 'test oracle: checks ext4 images keel writes', versionArgs: ['-V']},
  'mkfs.vfat': {debianPackage: 'dosfstools', purpose: 'make the EFI system partition image (vfat)', versionArgs: ['--help']},
  'fsck.vfat': {debianPackage: 'dosfstools', purpose: 'test oracle: checks vfat images keel writes', versionArgs: ['--help']},
  mmd: {debianPackage: 'mtools', purpose: 'create directories in the ESP image without mounting it', versionArgs: ['-V']},
  mcopy: {debianPackage: 'mtools', purpose: 'copy files into the ESP image without mounting it', versionArgs: ['-V']},
  mdir: {debianPackage: 'mtools', purpose: 'test oracle: lists the ESP image', versionArgs: ['-V']},
  mdel: {debianPackage: 'mtools', purpose: 'remove a slot\'s old boot entries from the ESP of a disk image (slot install)', versionArgs: ['-V']},
  'qemu-system-x86_64': {debianPackage: 'qemu-system-x86', purpose: 'boot images (keel boot, boot tests) and probe whether KVM really works', versionArgs: ['--version']},
  'qemu-img': {debianPackage: 'qemu-utils', purpose: 'qcow2 and stream-optimized VMDK artifacts; the throwaway qcow2 overlay each boot runs on', versionArgs: ['--version']},
  ssh: {debianPackage: 'openssh-client', purpose: 'keel test: runs the checks in the booted guest', versionArgs: ['-V']},
  'ssh-keygen': {debianPackage: 'openssh-client', purpose: 'keel test: a throwaway Ed25519 login key per run', versionArgs: []},
  gzip: {debianPackage: 'gzip', purpose: 'test oracle: decompresses the .gz artifacts (keel writes gzip with node:zlib)', versionArgs: ['--version']},
  cpio: {debianPackage: 'cpio', purpose: 'test oracle: lists and extracts the initrd archives keel writes', versionArgs: ['--version']},
  gpg: {debianPackage: 'gnupg', purpose: 'test oracle: gpg --verify on release signatures (private GNUPGHOME)', versionArgs: ['--version']},
  sha256sum: {debianPackage: 'coreutils', purpose: 'test oracle: sha256sum -c on release SHA256SUMS', versionArgs: ['--version']},
  xorriso: {debianPackage: 'xorriso', purpose: 'make the hybrid UEFI live ISO (El Torito EFI image, GPT for USB sticks)', versionArgs: ['-version']},
} as const satisfies Record<string, {debianPackage: string; purpose: string; versionArgs: readonly string[]}>

export type ToolName = keyof typeof HOST_TOOLS

/** Where tools are looked for: sbin included, since ldconfig and depmod live there and users may not be root. */
export const TOOL_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

const found = new Map<string, string | null>()

export function findTool(name: ToolName): string | null {
  if (!found.has(name)) {
    let hit: string | null = null
    for (const dir of TOOL_PATH) {
      const candidate = join(dir, name)
      try {
        accessSync(candidate, constants.X_OK)
        hit = candidate
        break
      } catch {
        // not here
      }
    }
    found.set(name, hit)
  }
  return found.get(name)!
}

/** Absolute path of a host tool, or a MissingToolError naming the Debian package that provides it. */
export function requireTool(name: ToolName): string {
  const path = findTool(name)
  if (!path) throw new MissingToolError(name, HOST_TOOLS[name].debianPackage)
  return path
}
