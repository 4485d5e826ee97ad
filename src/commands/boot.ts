import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import type {Diagnostic} from '../core/diagnostics.js'
import {DiagnosticsError, KeelError} from '../core/errors.js'
import {bootAndWait, type BootResult, type KvmMode} from '../boot/run.js'
import {parseSize} from '../disk/layout.js'
import {translate} from '../ignition/index.js'
import {liveBootMediumOf, pxeWithConfig} from '../platforms/live-boot.js'

interface BootCommandResult extends Omit<BootResult, 'lines' | 'argv'> {
  ssh: string | null
}

export default class Boot extends KeelCommand<BootCommandResult> {
  static override description = `Boot an image in QEMU (UEFI, OVMF) on a throwaway overlay, with an Ignition config

The image is never written: each run boots a qcow2 overlay that is deleted afterwards. The Ignition config
reaches the guest through fw_cfg (opt/com.coreos/config), as on Fedora CoreOS and Flatcar. KVM is used only when
a short probe actually runs the firmware under it; otherwise (or with --kvm off) QEMU emulates (TCG), which is
slower. The serial console is shown on stderr; SSH is forwarded to 127.0.0.1:PORT. Runs until the guest powers
off, Ctrl-C, --timeout, or (with --marker) the marker line; a boot that reaches emergency mode or a kernel
panic fails at once with the console's last lines.`

  static override examples = [
    '<%= config.bin %> boot out/keel.img --ignition config.ign',
    '<%= config.bin %> boot out/keel.qcow2 --config cloud-config.yaml --ssh-port 2200',
    '<%= config.bin %> boot out/keel.img --kvm off --timeout 300 --console-log boot.log --json',
    '<%= config.bin %> boot out/keel.img --ignition test.ign --marker BOOTED --timeout 300 -q --json',
    '<%= config.bin %> boot out/keel.qcow2 --ignition config.ign --disk-size 20GiB',
    '<%= config.bin %> boot out/keel-0.1.0-iso.iso',
    '<%= config.bin %> boot out/keel-0.1.0-pxe.vmlinuz --ignition config.ign',
  ]

  static override args = {
    image: Args.string({required: true, description: 'disk image (raw or qcow2), live ISO (.iso, as a CD), or PXE kernel (.vmlinuz, from its build directory: initrd beside it, command line from manifest.json)'}),
  }

  static override flags = {
    ignition: Flags.string({description: 'Ignition config (JSON) for the first boot', helpValue: 'FILE', exclusive: ['config']}),
    config: Flags.string({description: 'cloud-config YAML, translated to Ignition first (see keel config translate)', helpValue: 'FILE', exclusive: ['ignition']}),
    kvm: Flags.string({description: 'use KVM: auto (when a probe run works), on (fail without it), off (TCG)', options: ['auto', 'on', 'off'], default: 'auto'}),
    memory: Flags.integer({description: 'guest memory in MiB', default: 2048, min: 256}),
    cpus: Flags.integer({description: 'guest CPUs', default: 2, min: 1}),
    'ssh-port': Flags.integer({description: 'host port forwarded to the guest\'s SSH port', default: 2222, min: 1, max: 65535}),
    'console-log': Flags.string({description: 'also keep the serial console in this file', helpValue: 'FILE'}),
    timeout: Flags.integer({description: 'stop the guest after this many seconds (default: run until it powers off)', min: 1}),
    marker: Flags.string({description: 'stop with success as soon as a console line equals TEXT (for scripts and benchmarks); fails if it does not come before --timeout', helpValue: 'TEXT'}),
    quiet: Flags.boolean({char: 'q', description: 'do not echo the serial console to stderr', default: false}),
    'disk-size': Flags.string({description: 'disk images: give the guest a disk of SIZE (e.g. 20GiB, as layouts write sizes) instead of the image\'s own size; ROOT grows into it on the first boot', helpValue: 'SIZE'}),
    append: Flags.string({description: 'PXE only: add this kernel argument (e.g. ignition.config.url=…); repeatable', helpValue: 'ARG', multiple: true}),
  }

  protected async execute(): Promise<BootCommandResult> {
    const {args, flags} = await this.parse(Boot)
    const work = mkdtempSync(join(tmpdir(), 'keel-boot-config-'))
    try {
      let ignition = flags.ignition
      if (flags.config) {
        const translated = translateConfig(flags.config, join(work, 'config.ign'))
        this.printDiagnostics(translated.diagnostics)
        ignition = translated.path
      }
      // Live artifacts boot with no disk: the ISO as a CD, a PXE kernel with its initrd and recorded command line.
      let medium = liveBootMediumOf(args.image, flags.append ?? [])
      if (flags.append?.length && !(medium && 'kernel' in medium)) throw new KeelError('--append adds kernel arguments to a PXE boot only', 'usage')
      if (medium && 'cdrom' in medium && ignition) {
        throw new KeelError('a live ISO reads no fw_cfg config: its Ignition config is baked in at build time', 'usage', 'keel build --platform iso --config FILE')
      }
      if (medium && 'kernel' in medium && ignition) {
        medium = await pxeWithConfig(medium, ignition, work)
        ignition = undefined
      }
      if (flags['disk-size'] && medium) throw new KeelError('--disk-size sizes a disk image: live media boot without a disk', 'usage')
      const sshPort = flags['ssh-port']
      let hinted = false
      const echo = !flags.quiet
      const result = await bootAndWait({
        image: args.image,
        medium,
        ignition,
        kvm: flags.kvm as KvmMode,
        memoryMiB: flags.memory,
        cpus: flags.cpus,
        diskSize: flags['disk-size'] ? {bytes: diskSize(flags['disk-size'])} : undefined,
        sshPort,
        consoleLog: flags['console-log'],
        timeoutS: flags.timeout ?? (flags.marker ? 600 : Number.POSITIVE_INFINITY),
        marker: flags.marker,
        reporter: {status: () => {}, info: (text) => process.stderr.write(`keel: ${text}\n`)},
        onLine: (line) => {
          if (echo) process.stderr.write(`${line}\n`)
          if (!hinted && /Started .*(ssh|sshd)\.service|Server listening on .* port 22/.test(line)) {
            hinted = true
            process.stderr.write(`keel: ssh is up: ssh -p ${sshPort} core@127.0.0.1\n`)
          }
        },
      })
      const {lines: _lines, argv: _argv, ...rest} = result
      return {...rest, ssh: `ssh -p ${sshPort} core@127.0.0.1`}
    } finally {
      rmSync(work, {recursive: true, force: true})
    }
  }

  protected renderText(r: BootCommandResult): string {
    const how = r.ended === 'marker' ? 'marker seen' : r.ended === 'timeout' ? 'stopped at --timeout' : 'guest exited'
    const probe = r.kvmProbe && !r.kvmProbe.usable ? ` (KVM not usable: ${r.kvmProbe.reason})` : ''
    return [`accelerator: ${r.accel}${probe}`, `${how} after ${r.seconds} s`, ...(r.consoleLog ? [`console log: ${r.consoleLog}`] : [])].join('\n')
  }
}

/** cloud-config → Ignition JSON in `out`, with translate's diagnostics as the error when it fails. */
function translateConfig(file: string, out: string): {path: string; diagnostics: Diagnostic[]} {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new KeelError(`cannot read ${file}`, 'input')
  }
  const r = translate(text, file, {platform: 'qemu'})
  if (!r.config) throw new DiagnosticsError(r.diagnostics)
  writeFileSync(out, `${JSON.stringify(r.config)}\n`)
  return {path: out, diagnostics: r.diagnostics}
}

/** --disk-size in the layouts' size syntax; a usage error (exit 2) with the syntax when it is not one. */
function diskSize(value: string): number {
  try {
    return parseSize(value)
  } catch {
    throw new KeelError(`--disk-size: not a size: ${value}`, 'usage', 'write a whole number with B, KiB, MiB, GiB or TiB, e.g. 20GiB')
  }
}
