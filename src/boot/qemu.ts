import {join} from 'node:path'
import {KeelError} from '../core/errors.js'

/**
 * The QEMU command for booting a keel image (pure). The image is never written: every run boots a qcow2
 * overlay backed by it, and a private copy of the OVMF variable store.
 */

export type Accel = 'kvm' | 'tcg'

/**
 * Debian's 2 MiB OVMF build (no Secure Boot, no SMM), not the 4 MiB one. Under TCG every UEFI variable call the
 * guest makes runs emulated firmware code, and with OVMF_CODE_4M.fd PID 1 of ROOT stalled 0.7-1.2 s at a time
 * while efi_pstore and systemd read EFI variables: over three interleaved pairs sysinit.target came 2.3-3.3 s
 * later after ROOT's systemd started, and the Ignition marker 1.9-3.8 s later, than with this build (firmware to
 * the kernel 0.3-0.65 s slower too). keel's images use no Secure Boot and no variable beyond systemd-boot's own.
 */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE.fd'
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS.fd'
/** Where Ignition's qemu provider looks for its config (fw_cfg key). */
export const IGNITION_FW_CFG = 'opt/com.coreos/config'

export interface QemuOptions {
  /** The runtime directory of this run (overlay, vars copy, logs live here). */
  runDir: string
  accel: Accel
  memoryMiB: number
  cpus: number
  /** Host port forwarded to the guest's port 22 on 127.0.0.1; omitted: no forward. */
  sshPort?: number
  /** Path of the Ignition config handed over through fw_cfg. */
  ignition?: string
  /** Serial console: to a file, or stdio for an interactive session. */
  serial: {file: string} | 'stdio'
  /**
   * A second serial port (the guest's /dev/ttyS1) written to this file: a channel for test results that
   * nothing else writes to, so check lines never interleave with kernel or systemd output on the console.
   */
  channel?: {file: string}
  ovmfCode?: string
  /**
   * Boot this disk file itself instead of the run's overlay: a working copy that lives across several boots
   * (A/B checks), written by the guest and edited by keel between boots. Never a build artifact.
   */
  disk?: {file: string; format: 'raw' | 'qcow2'}
  /** Boot without a disk: a kernel and initrd by QEMU's direct kernel boot (as PXE hands them over), or an ISO as a CD. */
  medium?: BootMedium
}

export type BootMedium = {kernel: string; initrd: string; append: string} | {cdrom: string}

/** QEMU arguments for a disk-less boot medium (pure). -kernel/-initrd/-append take plain paths and text. */
export function mediumArgs(medium: BootMedium): string[] {
  if ('cdrom' in medium) return ['-drive', `if=ide,media=cdrom,readonly=on,format=raw,file=${fwCfgPath(medium.cdrom)}`]
  return ['-kernel', medium.kernel, '-initrd', medium.initrd, '-append', medium.append]
}

export interface QemuPlan {
  argv: string[]
  /** Files the run needs to exist before QEMU starts. */
  files: {overlay: string; vars: string}
}

/**
 * The emulated CPU: everything TCG offers but the AVX family. QEMU 7.2 emulates AVX/AVX2 through helper calls
 * that run slower than the SSE code glibc and the kernel pick without them: with AVX2 advertised, the kernel's
 * sha256 for dm-verity made ROOT 3.5 s slower, and over six interleaved boot pairs the marker came a median
 * 0.8 s sooner without the family. Debian builds for baseline x86-64, so nothing in the image needs AVX.
 */
export const TCG_CPU = 'max,avx=off,avx2=off,fma=off,f16c=off,vaes=off'

export function accelArgs(accel: Accel): string[] {
  // -cpu host fails on paravirtual KVM (boot.md); on real KVM host passthrough is what is wanted.
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', TCG_CPU]
}

function fwCfgPath(path: string): string {
  // fw_cfg's option parser splits on commas; QEMU's escape for a comma in a value is doubling it.
  return path.replace(/,/g, ',,')
}

export function planQemu(opts: QemuOptions): QemuPlan {
  if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 256) throw new KeelError(`--memory must be at least 256 MiB, not ${opts.memoryMiB}`, 'usage')
  if (opts.sshPort !== undefined && (!Number.isInteger(opts.sshPort) || opts.sshPort < 1 || opts.sshPort > 65535)) {
    throw new KeelError(`--ssh-port must be a TCP port number, not ${opts.sshPort}`, 'usage')
  }
  const overlay = join(opts.runDir, 'overlay.qcow2')
  const vars = join(opts.runDir, 'OVMF_VARS.fd')
  const netdev = ['user', 'id=net0', ...(opts.sshPort !== undefined ? [`hostfwd=tcp:127.0.0.1:${opts.sshPort}-:22`] : [])].join(',')
  const argv = [
    '-machine', 'q35',
    ...accelArgs(opts.accel),
    '-smp', String(opts.cpus),
    '-m', String(opts.memoryMiB),
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${fwCfgPath(opts.ovmfCode ?? OVMF_CODE)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${fwCfgPath(vars)}`,
    ...(opts.medium
      ? mediumArgs(opts.medium)
      : ['-drive', opts.disk ? `if=virtio,format=${opts.disk.format},file=${fwCfgPath(opts.disk.file)}` : `if=virtio,format=qcow2,file=${fwCfgPath(overlay)}`]),
    '-netdev', netdev,
    // romfile= (none): OVMF drives virtio-net itself; loading the NIC's iPXE option ROM cost 0.4 s of
    // firmware time under TCG, and keel's network boots hand QEMU the kernel directly.
    '-device', 'virtio-net-pci,netdev=net0,romfile=',
    '-nographic',
    '-monitor', 'none',
    '-serial', opts.serial === 'stdio' ? 'stdio' : `file:${opts.serial.file}`,
    ...(opts.channel ? ['-serial', `file:${opts.channel.file}`] : []),
    '-no-reboot',
  ]
  if (opts.ignition) argv.push('-fw_cfg', `name=${IGNITION_FW_CFG},file=${fwCfgPath(opts.ignition)}`)
  return {argv, files: {overlay, vars}}
}

/** qemu-img arguments for the per-run overlay backed by the image (raw or qcow2). */
export function overlayArgs(image: string, format: 'raw' | 'qcow2', overlay: string): string[] {
  return ['create', '-q', '-f', 'qcow2', '-b', image, '-F', format, overlay]
}

/** The image format from its first bytes: qcow2 files begin with 'QFI\xfb'. */
export function imageFormat(head: Uint8Array): 'raw' | 'qcow2' {
  return head.length >= 4 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb ? 'qcow2' : 'raw'
}
