import {readFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {KeelCommand} from '../../cli/base-command.js'
import {writeFileAtomic} from '../../core/atomic.js'
import {DiagnosticsError, KeelError} from '../../core/errors.js'
import {DEFAULT_SPEC, parseVarFlags, PLATFORM_NAMES, type PlatformName, SPEC_VERSIONS, type SpecVersion, specHelp, translate} from '../../ignition/index.js'

interface TranslateResult {
  kind: string
  output: string | null
  warnings: number
  config: unknown
}

export default class ConfigTranslate extends KeelCommand<TranslateResult> {
  static override description = 'Translate a #cloud-config (coreos-cloudinit) into an Ignition config; every problem is reported with FILE:LINE:COL'
  static override examples = ['<%= config.bin %> config translate user-data.yaml > config.ign', '<%= config.bin %> config translate - --var private_ipv4=10.0.0.5 -o config.ign']
  static override args = {file: Args.string({description: 'cloud-config file, or - for stdin', required: true})}
  static override flags = {
    output: Flags.string({char: 'o', description: 'write the config here (atomically) instead of stdout', helpValue: 'OUT'}),
    spec: Flags.string({description: `Ignition spec version to write: ${specHelp()}`, options: SPEC_VERSIONS, default: DEFAULT_SPEC}),
    platform: Flags.string({description: 'target platform: $private_ipv4 & co. are read at boot from its metadata (qemu and metal have none)', options: PLATFORM_NAMES}),
    strict: Flags.boolean({description: 'treat warnings (and variables not given with --var) as errors', default: false}),
    var: Flags.string({description: 'substitute $NAME at translate time (private_ipv4, public_ipv4, private_ipv6, public_ipv6)', helpValue: 'NAME=VALUE', multiple: true}),
  }

  protected async execute(): Promise<TranslateResult> {
    const {args, flags} = await this.parse(ConfigTranslate)
    const {values, problems} = parseVarFlags(flags.var ?? [])
    if (problems.length) throw new KeelError(problems.join('\n'), 'usage')
    const name = args.file === '-' ? '<stdin>' : args.file
    const text = await readInput(args.file)
    const r = translate(text, name, {spec: flags.spec as SpecVersion, vars: values, strict: flags.strict, platform: flags.platform as PlatformName | undefined})
    const warnings = r.diagnostics.filter((d) => d.severity !== 'error')
    if (!r.config || (flags.strict && warnings.length)) throw new DiagnosticsError(r.diagnostics)
    this.printDiagnostics(r.diagnostics)
    if (flags.output) {
      await writeFileAtomic(flags.output, `${JSON.stringify(r.config, null, 2)}\n`).catch((err: Error) => {
        throw new KeelError(`cannot write ${flags.output}: ${err.message}`, 'usage')
      })
    }
    return {kind: r.kind, output: flags.output ?? null, warnings: warnings.length, config: r.config}
  }

  protected renderText(r: TranslateResult): string {
    return r.output ? '' : JSON.stringify(r.config, null, 2)
  }
}

export async function readInput(file: string): Promise<string> {
  try {
    if (file !== '-') return await readFile(file, 'utf8')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  } catch (err) {
    throw new KeelError(`cannot read ${file}: ${(err as Error).message}`, 'input')
  }
}
