import type {Diagnostic} from '../core/diagnostics.js'
import type {TranslateOptions} from './context.js'
import {checkIgnition} from './ignition-check.js'
import {headerDiagnostic, type InputKind, detectKind, translate} from './translate.js'

export interface ValidateResult {
  kind: InputKind
  diagnostics: Diagnostic[]
}

/**
 * Check a user-data file of any kind keel reads: a cloud-config (everything translate would report), an
 * Ignition config (its spec's schema and rules), or a "#!" script (accepted, as coreos-cloudinit did).
 */
export function validate(text: string, file: string, opts: TranslateOptions = {}): ValidateResult {
  const kind = detectKind(text)
  switch (kind) {
    case 'ignition':
      return {kind, diagnostics: checkIgnition(file, text).diagnostics}
    case 'script':
      return {kind, diagnostics: []}
    case 'unknown':
      return {kind, diagnostics: [headerDiagnostic(file, text)]}
    default:
      return {kind, diagnostics: translate(text, file, opts).diagnostics}
  }
}
