import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import type {ExitName} from '../core/exit-codes.js'
import {type InspectReport, inspectGpt, renderInspect} from '../disk/inspect.js'
import {readGpt} from '../disk/read.js'
import {readSlotVerity} from '../disk/verity-info.js'

export default class Inspect extends KeelCommand<InspectReport> {
  static override description = 'Show a raw disk image: partition table, A/B slot state and the slot that boots next, verity root hashes, a layout bar (exits 7 when the GPT has problems, after showing them)'

  static override examples = ['<%= config.bin %> inspect out/keel.img', '<%= config.bin %> inspect out/keel.img --json']

  static override args = {
    image: Args.string({required: true, description: 'raw disk image (not qcow2)'}),
  }

  static override flags = {
    width: Flags.integer({description: 'columns of the layout bar', default: 72, min: 16, max: 400}),
  }

  private width = 72

  protected async execute(): Promise<InspectReport> {
    const {args, flags} = await this.parse(Inspect)
    this.width = flags.width
    const gpt = await readGpt(args.image)
    return inspectGpt(gpt, await readSlotVerity(args.image, gpt.table))
  }

  protected renderText(report: InspectReport): string {
    return renderInspect(report, this.width)
  }

  /** The table was readable (perhaps only from one copy) but the disk has problems: like `sgdisk -v`, not 0. */
  protected override resultExit(report: InspectReport): ExitName | undefined {
    return report.problems.length ? 'integrity' : undefined
  }
}
