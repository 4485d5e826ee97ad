import type {Location} from './source.js'

export type Severity = 'error' | 'warning' | 'note'

/** One problem in user input. Collected, never thrown one at a time: users see every problem in one run. */
export interface Diagnostic {
  severity: Severity
  message: string
  location?: Location
  /** Follow-up lines (e.g. a dependency chain), each optionally located. */
  notes?: Array<{message: string; location?: Location}>
}

export function error(message: string, location?: Location, notes?: Diagnostic['notes']): Diagnostic {
  return {severity: 'error', message, location, notes}
}

export function warning(message: string, location?: Location, notes?: Diagnostic['notes']): Diagnostic {
  return {severity: 'warning', message, location, notes}
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error')
}

function caretBlock(loc: Location): string[] {
  const text = loc.lineText.replace(/\t/g, ' ')
  const width = Math.max(1, Math.min(loc.length ?? 1, Math.max(1, text.length - loc.col + 1)))
  return [`  ${text}`, `  ${' '.repeat(Math.max(0, loc.col - 1))}^${'~'.repeat(width - 1)}`]
}

function header(loc: Location | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.col}: ` : ''
}

/** Render as compilers do: `FILE:LINE:COL: error: message`, the source line, a caret under the column. */
export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${header(d.location)}${d.severity}: ${d.message}`]
  if (d.location) lines.push(...caretBlock(d.location))
  for (const n of d.notes ?? []) {
    lines.push(`${header(n.location)}note: ${n.message}`)
    if (n.location) lines.push(...caretBlock(n.location))
  }
  return lines.join('\n')
}

/** Sort by file, then position, so output is stable whatever order checks ran in. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => {
    const fa = a.location?.file ?? ''
    const fb = b.location?.file ?? ''
    if (fa !== fb) return fa < fb ? -1 : 1
    return (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.col ?? 0) - (b.location?.col ?? 0)
  })
}

export function formatDiagnostics(list: readonly Diagnostic[]): string {
  const sorted = sortDiagnostics(list)
  const errors = sorted.filter((d) => d.severity === 'error').length
  const warnings = sorted.filter((d) => d.severity === 'warning').length
  const summary = [errors && `${errors} error${errors > 1 ? 's' : ''}`, warnings && `${warnings} warning${warnings > 1 ? 's' : ''}`]
    .filter(Boolean)
    .join(' and ')
  return [...sorted.map(formatDiagnostic), ...(summary ? [`${summary} generated.`] : [])].join('\n')
}
