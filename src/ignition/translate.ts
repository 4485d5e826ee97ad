import {type Diagnostic, error, hasErrors} from '../core/diagnostics.js'
import {SourceText} from '../core/source.js'
import {type IgnitionConfig, IgnitionBuilder} from './builder.js'
import {translateEtcHosts, translateHostname, translateOem, translateUpdate, translateWriteFiles} from './cc-files.js'
import {translateServiceSections} from './cc-services.js'
import {addMetadataDropins, translateUnits} from './cc-units.js'
import {translateUsers} from './cc-users.js'
import {checkCloudConfig} from './cloud-config-check.js'
import {TranslateContext, type TranslateOptions} from './context.js'
import {checkIgnition} from './ignition-check.js'
import {DEFAULT_SPEC, type SpecVersion} from './specs.js'

export type InputKind = 'cloud-config' | 'ignition' | 'script' | 'unknown'

/** What a user-data file is, by its first line, as coreos-cloudinit decided. */
export function detectKind(text: string): InputKind {
  const body = text.replace(/^\uFEFF/, '')
  const first = body.split('\n', 1)[0]!.replace(/\r$/, '')
  if (/^#cloud-config[ \t]*$/.test(first)) return 'cloud-config'
  if (first.startsWith('#!')) return 'script'
  if (/^\s*\{/.test(body) && looksLikeIgnition(body)) return 'ignition'
  return 'unknown'
}

/** A JSON object with an ignition (3.x) or ignitionVersion (1.x) key; broken JSON that names one counts too. */
function looksLikeIgnition(body: string): boolean {
  try {
    const v = JSON.parse(body) as unknown
    return typeof v === 'object' && v !== null && ('ignition' in v || 'ignitionVersion' in v)
  } catch {
    return /"ignition(Version)?"\s*:/.test(body)
  }
}

export function headerDiagnostic(file: string, text: string): Diagnostic {
  const loc = new SourceText(file, text).locate(0)
  return error('must be "#cloud-config" or begin with "#!"', loc, [
    {message: 'add "#cloud-config" as the first line if this is a cloud-config (an Ignition config is a JSON object)'},
  ])
}

export interface TranslateResult {
  kind: InputKind
  /** Absent when there are errors. */
  config?: IgnitionConfig | Record<string, unknown>
  diagnostics: Diagnostic[]
}

export interface TranslateOptionsWithSpec extends TranslateOptions {
  spec?: SpecVersion
}

/**
 * cloud-config text → Ignition config, pure (no I/O). Every problem found is returned, located; the config
 * is returned only when there is no error. An Ignition config given as input is checked and returned as is.
 */
export function translate(text: string, file: string, opts: TranslateOptionsWithSpec = {}): TranslateResult {
  const kind = detectKind(text)
  if (kind === 'ignition') {
    const checked = checkIgnition(file, text)
    return {kind, diagnostics: checked.diagnostics, ...(hasErrors(checked.diagnostics) ? {} : {config: checked.config})}
  }
  if (kind === 'script') {
    const loc = new SourceText(file, text).locate(0, 2)
    return {kind, diagnostics: [error('a "#!" user-data script has no Ignition equivalent; run it from a oneshot unit instead', loc)]}
  }
  if (kind === 'unknown') return {kind, diagnostics: [headerDiagnostic(file, text)]}

  const checked = checkCloudConfig(file, text)
  const diagnostics = checked.diagnostics
  if (!checked.value) return {kind, diagnostics}
  const out = new IgnitionBuilder(diagnostics)
  const ctx = new TranslateContext(checked.value, checked.loc, out, diagnostics, opts)
  // The order coreos-cloudinit applied things in: later writers win on the same path.
  const hostname = translateHostname(ctx)
  translateUsers(ctx)
  translateWriteFiles(ctx)
  translateOem(ctx)
  translateUpdate(ctx)
  translateEtcHosts(ctx, hostname)
  translateUnits(ctx)
  translateServiceSections(ctx)
  addMetadataDropins(ctx)
  if (hasErrors(diagnostics)) return {kind, diagnostics}
  return {kind, config: out.build(opts.spec ?? DEFAULT_SPEC), diagnostics}
}
