import {dirname} from 'node:path'
import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import {cacheFrom} from '../cli/flags.js'
import {KeelError} from '../core/errors.js'
import {exitCode} from '../core/exit-codes.js'
import {CHECKS, runOrder, selectChecks} from '../boot/checks/registry.js'
import {renderTable, renderTap, type TestReport} from '../boot/checks/report.js'
import {runTests} from '../boot/checks/runner.js'
import type {LiveTarget} from '../boot/checks/guest.js'
import type {KvmMode} from '../boot/run.js'
import {liveBootMediumOf, pxeWithConfig} from '../platforms/live-boot.js'

export default class Test extends KeelCommand<TestReport> {
  static override description = `Boot an image and check it, like kola's basic tests

The image boots once (KVM when a probe run works, else TCG) on a throwaway overlay with a generated Ignition
config and SSH key; the checks then run in the guest over ssh. Checks that need boots of their own run after.
Prints a table (or TAP with --tap, or the report with --json) with the boot times; exits ${exitCode('testFailed')} when a check fails.
A PXE kernel (IMAGE.vmlinuz in its build directory) boots with no disk, its config added to the initrd; the
checks that need a disk are reported as skipped.

CHECKS
${runOrder(CHECKS).map((c) => `  ${String(c.id).padStart(2)} ${c.name.padEnd(15)} ${c.title}`).join('\n')}`

  static override examples = [
    '<%= config.bin %> test build/base/keel-0.1.0-qemu.qcow2',
    '<%= config.bin %> test out/keel.qcow2 --checks ignition,2 --tap --kvm off',
    '<%= config.bin %> test out/keel-0.1.0-pxe.vmlinuz --checks 1,2,3',
  ]
  static override args = {image: Args.string({required: true, description: 'disk image (raw or qcow2), or a PXE kernel (.vmlinuz) from its build directory'})}
  static override flags = {
    checks: Flags.string({description: 'run only these checks (ids or names, comma-separated)', helpValue: '1,verity-usr,…'}),
    tap: Flags.boolean({description: 'print TAP (version 13) instead of a table', default: false, exclusive: ['json']}),
    kvm: Flags.string({description: 'use KVM: auto (when a probe run works), on (fail without it), off (TCG)', options: ['auto', 'on', 'off'], default: 'auto'}),
    timeout: Flags.integer({description: 'seconds each boot may take to its ready marker', default: 600, min: 10}),
    'console-log': Flags.string({description: 'keep the shared boot\'s serial console in this file', helpValue: 'FILE'}),
    memory: Flags.integer({description: 'guest memory in MiB', default: 2048, min: 256}),
    'cache-dir': Flags.string({description: 'package cache, for the test container (default: $XDG_CACHE_HOME/keel or ~/.cache/keel)', helpValue: 'DIR'}),
  }

  private tap = false

  protected async execute(): Promise<TestReport> {
    const {args, flags} = await this.parse(Test)
    this.tap = flags.tap
    const checks = selectChecks(flags.checks)
    const live = liveTarget(args.image)
    const report = await this.steps.step(`Testing ${args.image} (${checks.length} checks)`, (reporter) =>
      runTests({
        image: args.image,
        checks,
        kvm: flags.kvm as KvmMode,
        memoryMiB: flags.memory,
        timeoutS: flags.timeout,
        consoleLog: flags['console-log'],
        cache: cacheFrom(flags),
        live,
        reporter,
        onResult: (r) => reporter.info(`${r.status.toUpperCase()} ${r.id} ${r.name} (${r.seconds} s): ${r.detail}`),
      }),
    )
    // The report is still printed (stdout) when checks fail; only the exit status says so.
    if (report.summary.failed > 0) process.exitCode = exitCode('testFailed')
    return report
  }

  protected renderText(report: TestReport): string {
    return this.tap ? renderTap(report) : renderTable(report)
  }
}

/** A PXE kernel boots with the run's config appended to its initrd; an ISO cannot take one (it is baked in). */
function liveTarget(image: string): LiveTarget | undefined {
  const medium = liveBootMediumOf(image)
  if (!medium) return undefined
  if ('cdrom' in medium) {
    throw new KeelError('an ISO carries the Ignition config it was built with; keel test needs to give the guest its own', 'usage', 'test the PXE kernel of the same build (the same system), or a disk image')
  }
  return {medium: (ignition) => pxeWithConfig(medium, ignition, dirname(ignition))}
}
