import {randomBytes} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {readBootEntryNames} from '../slot-install-io.js'
import {KeelError} from '../../core/errors.js'
import {run} from '../../exec/run.js'
import {bootInPlace, type InPlaceBootResult, type KvmMode} from '../run.js'
import {parseFacts} from './facts.js'
import {CHANNEL_DEVICE} from './fixture.js'
import type {CheckContext} from './types.js'

/**
 * What the A/B checks (5 tamper, 6 rollback) share: a raw working copy of the image booted several times in
 * place (bootInPlace keeps the disk and the firmware's variables, as a real machine does), and a test
 * Ignition config whose report unit says on every boot which entry and slot came up and whether the boot
 * was blessed, then powers the machine off — so each boot ends on its own and the host reads the disk
 * (loader/entries) in between.
 */

/** Kernel argument a test puts on a slot's entry to make that slot's health check fail. */
export const FAIL_HEALTH_ARG = 'keel.test.fail-health'
export const REPORT_UNIT = 'keel-ab-report.service'
export const HEALTH_UNIT = 'keel-ab-health.service'

// Runs on every boot once multi-user.target is up and systemd-bless-boot has had its turn (ordering only:
// DefaultDependencies=no keeps multi-user.target from waiting for it, which would be a cycle).
export function reportScript(nonce: string): string {
  return `#!/bin/bash
exec >${CHANNEL_DEVICE} 2>&1
vendor=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
ev() { cat "/sys/firmware/efi/efivars/$1-$vendor" 2>/dev/null | tail -c +5 | tr -d '\\000'; }
fact() { printf '%s=%s\\n' "$1" "$2"; }
fact entry "$(ev LoaderEntrySelected)"
fact count-path "$(ev LoaderBootCountPath)"
fact usr-data "$(tr ' ' '\\n' </proc/cmdline | sed -n 's/^systemd.verity_usr_data=PARTUUID=//p')"
fact usr-source "$(findmnt -no SOURCE /usr)"
fact health "$(systemctl is-active systemd-boot-check-no-failures.service)"
fact bless "$(systemctl is-active systemd-bless-boot.service)"
fact failed "$(systemctl list-units --failed --plain --no-legend | cut -d' ' -f1 | tr '\\n' ' ')"
echo "KEEL-AB-REPORT ${nonce}"
systemctl --no-block poweroff
`
}

const REPORT_UNIT_TEXT = `[Unit]
Description=keel test: report which slot booted, then power off
DefaultDependencies=no
After=multi-user.target systemd-bless-boot.service systemd-boot-check-no-failures.service keel-firstboot-done.service

[Service]
Type=oneshot
ExecStart=/etc/keel-ab/report

[Install]
WantedBy=multi-user.target
`

const HEALTH_UNIT_TEXT = `[Unit]
Description=keel test: a unit that fails on the slot booted with ${FAIL_HEALTH_ARG}
ConditionKernelCommandLine=${FAIL_HEALTH_ARG}

[Service]
Type=oneshot
ExecStart=/bin/false

[Install]
WantedBy=multi-user.target
`

/** The Ignition config (3.3.0) of an A/B session's first boot. */
export function abIgnitionConfig(nonce: string): object {
  const data = (text: string): string => `data:,${encodeURIComponent(text)}`
  return {
    ignition: {version: '3.3.0'},
    storage: {files: [{path: '/etc/keel-ab/report', mode: 0o755, contents: {source: data(reportScript(nonce))}}]},
    systemd: {
      units: [
        {name: REPORT_UNIT, enabled: true, contents: REPORT_UNIT_TEXT},
        {name: HEALTH_UNIT, enabled: true, contents: HEALTH_UNIT_TEXT},
      ],
    },
  }
}

/** The kernel's early panic when TCG runs too slowly for its timer check (seen under heavy host load). */
const EMULATION_TIMER_PANIC = /IO-APIC \+ timer doesn't work/

/** One boot's report, parsed from the channel; `reported` is false when the report line never came. */
export interface SlotReport {
  reported: boolean
  facts: Record<string, string>
}

export function parseReport(channel: readonly string[], nonce: string): SlotReport {
  return {reported: channel.some((l) => l.trim() === `KEEL-AB-REPORT ${nonce}`), facts: parseFacts(channel.join('\n'))}
}

/** A disk booted several times in place: a raw working copy, the firmware variables, each boot's logs. */
export class AbSession {
  readonly disk: string
  readonly nonce = randomBytes(6).toString('hex')
  private readonly ignition: string
  readonly log: string[] = []

  private constructor(private readonly dir: string, private readonly kvm: KvmMode, private readonly timeoutS: number) {
    this.disk = join(dir, 'disk.raw')
    this.ignition = join(dir, 'config.ign')
  }

  /** A sparse raw copy of the image (raw or qcow2) under `ctx.work`: the image itself is never written. */
  static async create(ctx: Pick<CheckContext, 'image' | 'work' | 'kvm' | 'timeoutS'>, name: string): Promise<AbSession> {
    const dir = join(ctx.work, name)
    mkdirSync(dir, {recursive: true})
    const s = new AbSession(dir, ctx.kvm, ctx.timeoutS)
    await run('qemu-img', ['convert', '-O', 'raw', ctx.image, s.disk])
    writeFileSync(s.ignition, JSON.stringify(abIgnitionConfig(s.nonce)))
    return s
  }

  /** Boot once; ends when the guest powers off or reboots (or at the timeout). */
  async boot(opts: {failFast?: boolean} = {}): Promise<InPlaceBootResult & SlotReport> {
    let result = await bootInPlace({sessionDir: this.dir, disk: this.disk, ignition: this.ignition, kvm: this.kvm, timeoutS: this.timeoutS, failFast: opts.failFast ?? true})
    // An emulated machine starved of CPU can fail the kernel's timer check before anything is read from the
    // disk: the disk is untouched, so boot again (once) rather than fail the check on the host's load.
    if (result.ended === 'failure' && EMULATION_TIMER_PANIC.test(result.failureLine ?? '')) {
      this.log.push(`boot ${result.boot}: the kernel's timer check failed under emulation; booting again`)
      result = await bootInPlace({sessionDir: this.dir, disk: this.disk, ignition: this.ignition, kvm: this.kvm, timeoutS: this.timeoutS, failFast: opts.failFast ?? true})
    }
    const report = parseReport(result.channel, this.nonce)
    this.log.push(`boot ${result.boot}: ${result.ended} after ${result.seconds} s${report.reported ? `, entry ${report.facts.entry}` : ''}`)
    if (result.ended === 'timeout') throw new KeelError(`boot ${result.boot} of the A/B session did not end within ${this.timeoutS} s\n${result.lines.slice(-15).join('\n')}`, 'bootFailed', `console: ${result.consoleLog}`)
    return {...result, ...report}
  }

  entries(): Promise<string[]> {
    return readBootEntryNames(this.disk)
  }
}
