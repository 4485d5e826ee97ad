import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../../cli/base-command.js'
import {DiagnosticsError, KeelError} from '../../core/errors.js'
import {parseVarFlags, PLATFORM_NAMES, type PlatformName, validate} from '../../ignition/index.js'
import {readInput} from './translate.js'

interface ValidateResult {
  file: string
  kind: string
  ok: boolean
  warnings: number
}

export default class ConfigValidate extends KeelCommand<ValidateResult> {
  static override description = 'Check a cloud-config or an Ignition config (detected from its first line) without writing anything'
  static override examples = ['<%= config.bin %> config validate user-data.yaml', '<%= config.bin %> config validate config.ign --json']
  static override args = {file: Args.string({description: 'cloud-config or Ignition file, or - for stdin', required: true})}
  static override flags = {
    platform: Flags.string({description: 'as for translate: the target platform', options: PLATFORM_NAMES}),
    strict: Flags.boolean({description: 'treat warnings as errors', default: false}),
    var: Flags.string({description: 'as for translate: NAME=VALUE for $NAME', helpValue: 'NAME=VALUE', multiple: true}),
  }

  protected async execute(): Promise<ValidateResult> {
    const {args, flags} = await this.parse(ConfigValidate)
    const {values, problems} = parseVarFlags(flags.var ?? [])
    if (problems.length) throw new KeelError(problems.join('\n'), 'usage')
    const name = args.file === '-' ? '<stdin>' : args.file
    const r = validate(await readInput(args.file), name, {vars: values, strict: flags.strict, platform: flags.platform as PlatformName | undefined})
    const warnings = r.diagnostics.filter((d) => d.severity !== 'error').length
    if (r.diagnostics.some((d) => d.severity === 'error') || (flags.strict && warnings)) throw new DiagnosticsError(r.diagnostics)
    this.printDiagnostics(r.diagnostics)
    return {file: name, kind: r.kind, ok: true, warnings}
  }

  protected renderText(r: ValidateResult): string {
    return `${r.file}: valid ${r.kind}${r.warnings ? ` (${r.warnings} warning${r.warnings > 1 ? 's' : ''})` : ''}`
  }
}
