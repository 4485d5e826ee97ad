import {readFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'
import {KeelCommand} from '../cli/base-command.js'
import {cacheFrom, packageFlags, recipeArg} from '../cli/flags.js'
import {DiagnosticsError, KeelError} from '../core/errors.js'
import {formatBytes} from '../core/progress.js'
import type {BuildManifest} from '../build/manifest.js'
import {buildImage} from '../build/pipeline.js'
import {prepareBuildConfig} from '../platforms/baked-config.js'
import {FORMATS} from '../platforms/formats.js'
import {optionalFormatNames, parsePlatformList} from '../platforms/plan.js'
import {PLATFORM_NAMES, PLATFORMS} from '../platforms/registry.js'
import type {FormatName} from '../platforms/types.js'
import {loadRecipe} from '../recipe/load.js'
import {overrideUsr} from '../recipe/usr.js'
import {DEFAULT_USR_FILESYSTEM, USR_FILESYSTEMS, usrCompressionChoices} from '../fsimage/usr.js'

const width = Math.max(...PLATFORM_NAMES.map((p) => p.length)) + 2

export default class Build extends KeelCommand<BuildManifest> {
  static override description = `Build a bootable image: rootfs → read-only /usr → dm-verity → initrd + ESP → GPT disk → platform formats

Slot A holds /usr (read-only, verity-checked), slot B is empty until the first update, ROOT carries /etc and /var.
The /usr image, its verity tree and ROOT are made once; each platform gets its own ESP entries (its
ignition.platform.id), OEM partition and disk, converted to its formats. Writes the artifacts, the A/B update
payload (<name>-<version>-usr.zst) and DIR/manifest.json (every artifact with sha256 and size, the verity root
hash of each slot, the package list, the recipe digest, tool versions). Staged inside DIR, renamed into place.

/USR IMAGE (the recipe's usr: section, or --usr-filesystem/--usr-compression; default ${DEFAULT_USR_FILESYSTEM})
${usrCompressionChoices().map((line) => `  ${line}`).join('\n')}

PLATFORMS (formats; how the machine gets its Ignition config)
${PLATFORM_NAMES.map((p) => `  ${p.padEnd(width)}${PLATFORMS[p].description}\n  ${''.padEnd(width)}config: ${PLATFORMS[p].configDelivery}`).join('\n')}`
  static override examples = [
    '<%= config.bin %> build recipes/base.yaml -o build/base',
    '<%= config.bin %> build recipes/base.yaml --platform qemu,metal,aws,gcp,azure -o build/base',
    '<%= config.bin %> build recipes/base.yaml --platform metal --config user-data.yaml --extra-format raw.xz -o build/metal',
    '<%= config.bin %> build recipes/base.yaml --usr-filesystem squashfs --usr-compression zstd,19 -o build/small',
  ]
  static override args = recipeArg
  static override flags = {
    ...packageFlags,
    platform: Flags.string({description: `platforms, comma-separated (${PLATFORM_NAMES.join(', ')})`, default: 'qemu', helpValue: 'NAME,…'}),
    config: Flags.string({description: `cloud-config or Ignition file baked into the image for ${PLATFORM_NAMES.filter((p) => PLATFORMS[p].bakedConfig).join(', ')} (platforms without a metadata source)`, helpValue: 'FILE'}),
    'extra-format': Flags.string({description: 'an optional format to add where a platform offers it', options: optionalFormatNames(), multiple: true}),
    output: Flags.string({char: 'o', description: 'build directory', required: true, helpValue: 'DIR'}),
    'usr-filesystem': Flags.string({description: 'the /usr filesystem, overriding the recipe\'s usr.filesystem', options: [...USR_FILESYSTEMS]}),
    'usr-compression': Flags.string({description: 'the /usr compression, overriding the recipe\'s usr.compression (choices per filesystem: /USR IMAGE below)', helpValue: 'ALGO[,LEVEL]'}),
    'update-lock': Flags.boolean({description: 'resolve again when the lockfile is stale, and rewrite it', default: false}),
  }

  protected async execute(): Promise<BuildManifest> {
    const {args, flags} = await this.parse(Build)
    const {platforms, unknown} = parsePlatformList(flags.platform)
    if (unknown.length) throw new KeelError(`unknown platform ${unknown.join(', ')}`, 'usage', `choose from ${PLATFORM_NAMES.join(', ')}`)
    if (platforms.length === 0) throw new KeelError('--platform names no platform', 'usage', `choose from ${PLATFORM_NAMES.join(', ')}`)
    const loaded = this.loadWithWarnings(() => loadRecipe(args.recipe)).recipe
    const recipe = {...loaded, usr: overrideUsr(loaded.usr, {filesystem: flags['usr-filesystem'], compression: flags['usr-compression']})}
    let config
    if (flags.config) {
      const text = await readFile(flags.config, 'utf8').catch((err: Error) => {
        throw new KeelError(`cannot read ${flags.config}: ${err.message}`, 'input')
      })
      const prepared = prepareBuildConfig(text, flags.config)
      if (!prepared.config) throw new DiagnosticsError(prepared.diagnostics)
      this.printDiagnostics(prepared.diagnostics)
      config = prepared.config
      const ignored = platforms.filter((p) => !PLATFORMS[p].bakedConfig)
      if (ignored.length) process.stderr.write(`warning: --config is not baked into ${ignored.join(', ')}: ${ignored.map((p) => `${p} reads ${PLATFORMS[p].configDelivery}`).join('; ')}\n`)
    }
    const extraFormats = (flags['extra-format'] ?? []) as FormatName[]
    for (const f of extraFormats) {
      if (!platforms.some((p) => ('optionalFormats' in PLATFORMS[p] ? (PLATFORMS[p].optionalFormats as readonly string[]) : []).includes(f))) {
        throw new KeelError(`--extra-format ${f} (${FORMATS[f].description}) applies to none of ${platforms.join(', ')}`, 'usage')
      }
    }
    return buildImage(
      {recipe, platforms, outDir: flags.output, cache: cacheFrom(flags), offline: flags.offline, mirror: flags.mirror, updateLock: flags['update-lock'], config, extraFormats},
      (title, fn) => this.steps.step(title, fn),
    )
  }

  protected renderText(m: BuildManifest): string {
    const lines = m.artifacts.map((a) => `${a.path}  ${a.platform}/${a.format}  ${formatBytes(a.size)}  sha256:${a.sha256}`)
    lines.push(`slot A /usr ${m.slots.A?.filesystem} ${m.slots.A?.compression}, root hash ${m.slots.A?.rootHash}`, 'manifest.json')
    return lines.join('\n')
  }
}
