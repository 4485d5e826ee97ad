import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../../cli/base-command.js'
import {formatVerity, parseSalt, type VerityResult} from '../../verity/format.js'
import type {VerityGeometryOptions} from '../../verity/tree.js'

/** Geometry flags shared with `keel verity verify`; named and defaulted as veritysetup's. */
export const geometryFlags = {
  'data-block-size': Flags.integer({description: 'data block size in bytes [default: 4096]', helpValue: 'N'}),
  'hash-block-size': Flags.integer({description: 'hash block size in bytes [default: 4096]', helpValue: 'N'}),
  'data-blocks': Flags.integer({description: 'hash only the first N data blocks [default: every whole block]', helpValue: 'N'}),
  'hash-offset': Flags.integer({description: 'byte offset of the hash area in HASH; DATA may be HASH, the tree then follows the data', helpValue: 'BYTES'}),
  superblock: Flags.boolean({description: 'write/read the verity superblock (--no-superblock: the tree only)', default: true, allowNo: true}),
  salt: Flags.string({description: 'salt in hex, "-" for none [format default: 32 random bytes]', helpValue: 'HEX'}),
}

export function geometryFrom(flags: {'data-block-size'?: number; 'hash-block-size'?: number; 'data-blocks'?: number; 'hash-offset'?: number; superblock: boolean}): VerityGeometryOptions {
  return {dataBlockSize: flags['data-block-size'], hashBlockSize: flags['hash-block-size'], dataBlocks: flags['data-blocks'], hashOffset: flags['hash-offset'], superblock: flags.superblock}
}

export default class VerityFormat extends KeelCommand<VerityResult> {
  static override description = `Compute the dm-verity hash tree of DATA and write it to HASH, as veritysetup format does

Prints the root hash; --json prints {rootHash, salt, uuid, dataBlocks, dataBlockSize, hashBlockSize, hashOffset, hashSize}.
Like veritysetup, the salt and UUID are random unless given (image builds derive both from their inputs).`
  static override examples = ['<%= config.bin %> verity format usr.erofs usr.verity', '<%= config.bin %> verity format usr.img usr.img --hash-offset 1073741824 --salt - --json']
  static override args = {
    data: Args.string({description: 'data file', required: true}),
    hash: Args.string({description: 'hash device file to write (may be DATA with --hash-offset)', required: true}),
  }
  static override flags = {...geometryFlags, uuid: Flags.string({description: 'UUID for the superblock [default: random]', helpValue: 'UUID'})}

  protected async execute(): Promise<VerityResult> {
    const {args, flags} = await this.parse(VerityFormat)
    const salt = flags.salt === undefined ? undefined : parseSalt(flags.salt)
    return this.steps.step('Hashing with dm-verity', (reporter) => formatVerity(args.data, args.hash, {...geometryFrom(flags), salt, uuid: flags.uuid, reporter}))
  }

  protected renderText(r: VerityResult): string {
    return r.rootHash
  }
}
