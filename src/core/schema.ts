import type {ErrorObject} from 'ajv'
import type {Diagnostic} from './diagnostics.js'

/**
 * ajv errors as located diagnostics, one per location and message: with allErrors, ajv reports a failure
 * once per failing oneOf branch, which users should see once. `toDiagnostic` words each error for its file
 * kind (and may drop one, e.g. a oneOf summary whose branches say more).
 */
export function schemaDiagnostics(errors: readonly ErrorObject[], toDiagnostic: (e: ErrorObject) => Diagnostic | undefined): Diagnostic[] {
  const seen = new Set<string>()
  const out: Diagnostic[] = []
  for (const e of errors) {
    const d = toDiagnostic(e)
    if (!d) continue
    const key = `${d.location?.line}:${d.location?.col}:${d.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(d)
  }
  return out
}
