import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../../cli/base-command.js'
import {archFlag, channelFlag, signKeyFlag, signingKeyFrom, waitFlag} from '../../cli/release-flags.js'
import {type ReleaseResult, promoteRelease} from '../../release/publish.js'
import type {Channel} from '../../release/version.js'

export default class ReleasePromote extends KeelCommand<ReleaseResult> {
  static override description = `Promote a published release to another channel: the same bytes, new signed metadata, no rebuild

The source release is verified first; its artifacts are linked into <to>/<arch>/<new version>/ (sha256 equal) with a new version.txt, release.json (promotedFrom) and SHA256SUMS.`
  static override examples = ['<%= config.bin %> release promote 4892.0.0 --from alpha --to beta --releases releases --sign-key keys/release-key.asc']
  static override args = {version: Args.string({description: 'version in the --from channel', required: true})}
  static override flags = {
    from: channelFlag('channel the release is in'),
    to: channelFlag('channel to promote it to'),
    releases: Flags.string({description: 'release tree', helpValue: 'RELEASES_DIR', required: true}),
    version: Flags.string({description: 'version in the target channel (default: same MAJOR, the channel as MINOR, next PATCH)', helpValue: 'V'}),
    arch: archFlag,
    'sign-key': signKeyFlag,
    wait: waitFlag,
  }

  protected async execute(): Promise<ReleaseResult> {
    const {args, flags} = await this.parse(ReleasePromote)
    const key = await signingKeyFrom(flags['sign-key'])
    return this.steps.step(`Promoting ${flags.from} ${args.version} to ${flags.to}`, (reporter) =>
      promoteRelease(flags.releases, {
        key, from: flags.from as Channel, to: flags.to as Channel, version: args.version, arch: flags.arch,
        ...(flags.version ? {targetVersion: flags.version} : {}), waitMs: flags.wait * 1000, reporter,
      }),
    )
  }

  protected renderText(r: ReleaseResult): string {
    const from = r.promotedFrom ? ` from ${r.promotedFrom.channel} ${r.promotedFrom.version}` : ''
    return `${r.published ? 'promoted' : 'already promoted'}${from} to ${r.channel} ${r.version} (${r.arch}) at ${r.path}`
  }
}
