import {Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import {cacheFrom, packageFlags, recipeArg} from '../cli/flags.js'
import {formatBytes} from '../core/progress.js'
import type {BuildManifest} from '../build/manifest.js'
import {buildImage} from '../build/pipeline.js'
import {PLATFORM_NAMES, PLATFORMS, type PlatformName} from '../build/platforms.js'
import {loadRecipe} from '../recipe/load.js'

export default class Build extends KeelCommand<BuildManifest> {
  static override description = `Build a bootable image: rootfs → erofs /usr → dm-verity → initrd + ESP → GPT disk → platform formats

Slot A holds /usr (read-only, verity-checked), slot B is empty until the first update, ROOT carries /etc and /var.
Writes the artifacts and DIR/manifest.json (artifacts with sha256 and size, the verity root hash of each slot, the
package list, the recipe digest, tool versions). Staged inside DIR and renamed into place at the end.

PLATFORMS
${PLATFORM_NAMES.map((p) => `  ${p.padEnd(8)} ${PLATFORMS[p].description}`).join('\n')}`
  static override examples = ['<%= config.bin %> build recipes/base.yaml --platform qemu -o build/base']
  static override args = recipeArg
  static override flags = {
    ...packageFlags,
    platform: Flags.string({description: 'platforms, comma-separated', default: 'qemu', helpValue: PLATFORM_NAMES.join('|')}),
    output: Flags.string({char: 'o', description: 'build directory', required: true, helpValue: 'DIR'}),
    'update-lock': Flags.boolean({description: 'resolve again when the lockfile is stale, and rewrite it', default: false}),
  }

  protected async execute(): Promise<BuildManifest> {
    const {args, flags} = await this.parse(Build)
    const platforms = flags.platform.split(',').map((p) => p.trim())
    const unknown = platforms.filter((p) => !(PLATFORM_NAMES as string[]).includes(p))
    if (unknown.length) this.error(`unknown platform ${unknown.join(', ')} (choose from ${PLATFORM_NAMES.join(', ')})`, {exit: 2})
    const {recipe} = this.loadWithWarnings(() => loadRecipe(args.recipe))
    return buildImage(
      {recipe, platforms: platforms as PlatformName[], outDir: flags.output, cache: cacheFrom(flags), offline: flags.offline, mirror: flags.mirror, updateLock: flags['update-lock']},
      (title, fn) => this.steps.step(title, fn),
    )
  }

  protected renderText(m: BuildManifest): string {
    const lines = m.artifacts.map((a) => `${a.path}  ${a.platform}/${a.format}  ${formatBytes(a.size)}  sha256:${a.sha256}`)
    lines.push(`slot A /usr root hash ${m.slots.A?.rootHash}`, 'manifest.json')
    return lines.join('\n')
  }
}
