import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../../cli/base-command.js'
import {archFlag, channelFlag, signKeyFlag, signingKeyFrom, waitFlag} from '../../cli/release-flags.js'
import {type ReleaseResult, publishRelease} from '../../release/publish.js'
import type {Channel} from '../../release/version.js'

export default class ReleasePublish extends KeelCommand<ReleaseResult> {
  static override description = `Publish a keel build into a release channel, signed, atomically

Checks every artifact against BUILD_DIR/manifest.json first, then writes RELEASES_DIR/<channel>/<arch>/<version>/ (artifacts, signatures, version.txt, SHA256SUMS, SBOM) and switches the channel's current link, stream file and releases.json in one rename. The same build published again is a no-op; a version is never reused.`
  static override examples = ['<%= config.bin %> release publish build/base --channel alpha --to releases --sign-key keys/release-key.asc']
  static override args = {build: Args.string({description: 'keel build directory (has manifest.json)', required: true})}
  static override flags = {
    channel: channelFlag('channel to publish into'),
    to: Flags.string({description: 'release tree (created if missing)', helpValue: 'RELEASES_DIR', required: true}),
    version: Flags.string({description: 'version to publish as (default: the next one, MAJOR.CHANNEL.PATCH)', helpValue: 'V'}),
    arch: archFlag,
    'sign-key': signKeyFlag,
    wait: waitFlag,
  }

  protected async execute(): Promise<ReleaseResult> {
    const {args, flags} = await this.parse(ReleasePublish)
    const key = await signingKeyFrom(flags['sign-key'])
    return this.steps.step(`Publishing ${args.build} to ${flags.channel}`, (reporter) =>
      publishRelease(args.build, flags.to, {key, channel: flags.channel as Channel, arch: flags.arch, ...(flags.version ? {version: flags.version} : {}), waitMs: flags.wait * 1000, reporter}),
    )
  }

  protected renderText(r: ReleaseResult): string {
    return r.published ? `published ${r.channel} ${r.version} (${r.arch}) at ${r.path}` : `${r.channel} ${r.version} (${r.arch}) already published with the same bytes at ${r.path}`
  }
}
