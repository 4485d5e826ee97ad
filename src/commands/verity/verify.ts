import {Args} from '@oclif/core'
import {KeelCommand} from '../../cli/base-command.js'
import {KeelError} from '../../core/errors.js'
import {parseSalt} from '../../verity/format.js'
import {type CorruptBlock, describeCorruptBlock, verifyVerity} from '../../verity/verify.js'
import {geometryFlags, geometryFrom} from './format.js'

interface VerifyResult {
  ok: true
  rootHash: string
  dataBlocks: number
}

/** The first corrupt block, in the error and in its exit code (integrity). */
export class VerityCorruptError extends KeelError {
  constructor(readonly corrupt: CorruptBlock) {
    super(`verity: ${describeCorruptBlock(corrupt)}`, 'integrity')
  }
}

export default class VerityVerify extends KeelCommand<VerifyResult> {
  static override description = `Check DATA against the dm-verity hash tree in HASH and ROOTHASH, as veritysetup verify does

Exits 0 when every block matches; otherwise names the first corrupt block (hash tree from the root down, then data) and exits with the integrity code.`
  static override examples = ['<%= config.bin %> verity verify usr.erofs usr.verity 4a5c...e1']
  static override args = {
    data: Args.string({description: 'data file', required: true}),
    hash: Args.string({description: 'hash device file (may be DATA with --hash-offset)', required: true}),
    roothash: Args.string({description: 'root hash, 64 hex digits', required: true}),
  }
  static override flags = geometryFlags

  protected async execute(): Promise<VerifyResult> {
    const {args, flags} = await this.parse(VerityVerify)
    const salt = flags.salt === undefined ? undefined : parseSalt(flags.salt)
    const r = await this.steps.step('Verifying with dm-verity', (reporter) => verifyVerity(args.data, args.hash, args.roothash, {...geometryFrom(flags), salt, reporter}))
    if (r.corrupt) throw new VerityCorruptError(r.corrupt)
    return {ok: true, rootHash: args.roothash.toLowerCase(), dataBlocks: r.plan.dataBlocks}
  }

  protected renderText(r: VerifyResult): string {
    return `ok: ${r.dataBlocks} data blocks match root hash ${r.rootHash}`
  }
}
