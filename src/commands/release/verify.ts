import {Args, Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'
import {KeelCommand} from '../../cli/base-command.js'
import {channelFlag} from '../../cli/release-flags.js'
import {KeelError} from '../../core/errors.js'
import {sourceFor} from '../../release/source.js'
import {type VerifyReport, verifyTree} from '../../release/verify.js'
import type {Channel} from '../../release/version.js'

export default class ReleaseVerify extends KeelCommand<VerifyReport> {
  static override description = `Verify a release tree (a directory or an http(s) URL) as a consumer would

Checks the signatures of releases.json, the stream files, every SHA256SUMS and every artifact, every file's sha256, and that the index, streams and current links agree. Exits with the integrity code on the first mismatch.`
  static override examples = ['<%= config.bin %> release verify releases --key release-key.pub.asc', '<%= config.bin %> release verify http://127.0.0.1:8080/']
  static override args = {tree: Args.string({description: 'release tree directory or base URL', required: true})}
  static override flags = {
    key: Flags.string({description: 'public key to trust (default: the release-key.asc the tree ships, trust on first use)', helpValue: 'FILE'}),
    channel: channelFlag('verify only this channel', false),
  }

  protected async execute(): Promise<VerifyReport> {
    const {args, flags} = await this.parse(ReleaseVerify)
    const publicKeyArmored = flags.key
      ? await readFile(flags.key, 'utf8').catch(() => {
          throw new KeelError(`cannot read key ${flags.key}`, 'input')
        })
      : undefined
    return this.steps.step(`Verifying ${args.tree}`, (reporter) =>
      verifyTree(sourceFor(args.tree), {...(publicKeyArmored ? {publicKeyArmored} : {}), ...(flags.channel ? {channel: flags.channel as Channel} : {}), reporter}),
    )
  }

  protected renderText(r: VerifyReport): string {
    const bytes = r.releases.reduce((n, x) => n + x.bytes, 0)
    const lines = [`ok: ${r.releases.length} releases, ${r.signaturesChecked} signatures and ${bytes} bytes verified with key ${r.signingKey}${r.keySource === 'tree' ? ' (the tree\'s own key)' : ''}`]
    for (const c of r.current) lines.push(`  ${c.channel}/${c.arch}: ${c.version}`)
    return lines.join('\n')
  }
}
