import {Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import {cacheFrom, packageFlags, recipeArg} from '../cli/flags.js'
import {formatBytes} from '../core/progress.js'
import {ensureLock, type LockAction} from '../packages/lock-recipe.js'
import {buildRootfs, type RootfsBuildResult} from '../rootfs/build.js'
import {loadRecipe} from '../recipe/load.js'

interface RootfsResult extends RootfsBuildResult {
  lockfile: {path: string; action: LockAction}
}

export default class Rootfs extends KeelCommand<RootfsResult> {
  static override description = `Compose the recipe's root filesystem from its locked Debian packages, without root

Uses RECIPE.lock.json when present (and refuses a stale one unless --update-lock), creates it otherwise.
Fetches into the verified cache, unpacks every package as the current user, applies the offline fix-ups that
stand in for maintainer scripts, and writes a deterministic tar (sorted, mtimes = SOURCE_DATE_EPOCH, owners and
modes from the package manifests) and/or a directory.`
  static override examples = [
    '<%= config.bin %> rootfs recipes/base.yaml -o build/base-rootfs.tar',
    'SOURCE_DATE_EPOCH=1700000000 <%= config.bin %> rootfs recipes/docker.yaml --dir build/docker-root --json',
  ]
  static override args = recipeArg
  static override flags = {
    ...packageFlags,
    output: Flags.string({char: 'o', description: 'write the rootfs as a tar file', helpValue: 'FILE.tar'}),
    dir: Flags.string({description: 'write the rootfs as a directory (ownership applied only when run as root)', helpValue: 'DIR'}),
    'update-lock': Flags.boolean({description: 'resolve again when the lockfile is stale, and rewrite it', default: false}),
    lockfile: Flags.string({description: 'lockfile path (default: RECIPE.lock.json beside the recipe)', helpValue: 'FILE'}),
  }

  protected async execute(): Promise<RootfsResult> {
    const {args, flags} = await this.parse(Rootfs)
    if (!flags.output && !flags.dir) this.error('give -o FILE.tar and/or --dir DIR', {exit: 2})
    const {recipe} = this.loadWithWarnings(() => loadRecipe(args.recipe))
    const cache = cacheFrom(flags)
    const {lock, path, action} = await this.steps.step('Checking the lockfile', (reporter) =>
      ensureLock(recipe, {cache, mirror: flags.mirror, offline: flags.offline, update: flags['update-lock'], lockPath: flags.lockfile, reporter}),
    )
    const built = await buildRootfs(
      {recipe, lock, cache, offline: flags.offline, tar: flags.output, dir: flags.dir},
      (title, fn) => this.steps.step(title, fn),
    )
    return {...built, lockfile: {path, action}}
  }

  protected renderText(r: RootfsResult): string {
    const lines = [`lockfile ${r.lockfile.path} (${r.lockfile.action})`, `${r.packages} packages, ${r.unpack.totalFiles} files, ${formatBytes(r.unpack.totalBytes)}`]
    if (r.tar) lines.push(`${r.tar.path}  ${formatBytes(r.tar.size)}  sha256:${r.tar.sha256}`)
    if (r.dir) lines.push(`${r.dir}/`)
    return lines.join('\n')
  }
}
