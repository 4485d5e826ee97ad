/**
 * pam-auth-update (libpam-runtime) as pure functions: profiles from /usr/share/pam-configs and the templates
 * in /usr/share/pam become /etc/pam.d/common-*. Behaviour follows Debian's script for a first install
 * (`--package --force`, no saved state): enabled profiles are those with `Default: yes`, ordered by
 * Priority (high first), then name (descending); conflicting profiles are dropped; `end` in a control field
 * becomes the number of lines to jump over. The integration test compares with the real script.
 */
export interface ParsedPamProfile {
  name: string
  fields: Map<string, string>
  conflicts: Set<string>
  disabled: boolean
}

/** Modules whose presence disables a profile, as the script's @invalid_modules. */
const INVALID_MODULES = ['pam_tally']

export function parsePamProfile(name: string, text: string): ParsedPamProfile {
  const fields = new Map<string, string>()
  const conflicts = new Set<string>()
  let disabled = false
  let current: string | undefined
  for (const raw of text.split('\n')) {
    // "Field: value" (or "Field:" alone); anything else continues the previous field.
    const header = /^(\S+):(?:\s+(.*))?$/.exec(raw)
    if (header) {
      current = header[1]!.replace(/-Final$/, '')
      const value = header[2] ?? ''
      if (current === 'Conflicts') for (const c of value.split(', ')) conflicts.add(c)
      else fields.set(current, value)
      continue
    }
    if (current === undefined) continue
    const line = raw.trim()
    if (line === '') continue
    const joined = `${fields.get(current) ?? ''}\n${line}`.replace(/^[\n\s]+/, '')
    fields.set(current, joined)
    if (INVALID_MODULES.some((m) => joined.includes(m))) disabled = true
  }
  if (!fields.has('Session-Interactive-Only')) {
    for (const suffix of ['-Type', '', '-Initial']) {
      const v = fields.get(`Session${suffix}`)
      if (v !== undefined) fields.set(`Session-noninteractive${suffix}`, v)
    }
  }
  return {name, fields, conflicts, disabled}
}

function byPriorityThenName(a: ParsedPamProfile, b: ParsedPamProfile): number {
  const pa = Number(a.fields.get('Priority') ?? 0)
  const pb = Number(b.fields.get('Priority') ?? 0)
  if (pa !== pb) return pb - pa
  return a.name < b.name ? 1 : a.name > b.name ? -1 : 0
}

/** Profiles a first install enables, in stack order. */
export function enabledProfiles(profiles: ParsedPamProfile[]): ParsedPamProfile[] {
  const enabled = profiles.filter((p) => !p.disabled && p.fields.get('Default') === 'yes').sort(byPriorityThenName)
  for (let e = 0; e < enabled.length; e++) {
    const elem = enabled[e]!
    for (let i = enabled.length - 1; i >= 0; i--) {
      if (elem.conflicts.has(enabled[i]!.name)) {
        enabled.splice(i, 1)
        if (i < e) e--
      }
    }
  }
  return enabled
}

export const PAM_TYPES = ['auth', 'account', 'password', 'session', 'session-noninteractive'] as const
export type PamType = (typeof PAM_TYPES)[number]

const PRIMARY_MARK = /^# here are the per-package modules \(the "Primary" block\)/
const FALLBACK_MARK = /^# here's the fallback if no module succeeds/
const ADDITIONAL_MARK = /^# and here are more per-package modules \(the "Additional" block\)/
const END_MARK = /^# end of pam-auth-update config/

function moduleLines(enabled: ParsedPamProfile[], fieldType: string, block: 'Primary' | 'Additional'): string[][] {
  const mods = enabled.filter((p) => p.fields.get(`${fieldType}-Type`) === block)
  return mods.map((p, i) => {
    const text = (i === 0 && p.fields.get(`${fieldType}-Initial`)) || p.fields.get(fieldType) || ''
    return text.split(/\n+/).filter((l) => l !== '')
  })
}

/** One module line with `end` replaced by the jump count; options re-joined by single spaces. */
export function renderModuleLine(line: string, count: number): string {
  const m = /^((\[[^\]]+\]|\w+)\s+\S+)\s*(.*)/.exec(line)
  if (!m) return `${line}\n`
  const options = m[3]!.split(/\s+/).filter((o) => o !== '')
  return `${m[1]!.replace(/end/g, String(count))} ${options.join(' ')}\n`
}

/** The text of /etc/pam.d/common-<type> from its template; undefined if the template lacks the markers. */
export function renderCommonFile(template: string, type: PamType, enabled: ParsedPamProfile[]): string | undefined {
  const fieldType = type.charAt(0).toUpperCase() + type.slice(1)
  const lineType = type.replace(/-noninteractive$/, '')
  const lines = template.split(/(?<=\n)/)
  let out = ''
  let state = 0
  const block = (kind: 'Primary' | 'Additional'): void => {
    const groups = moduleLines(enabled, fieldType, kind)
    let count = groups.reduce((n, g) => n + g.length, 0)
    if (kind === 'Additional') count--
    if (kind === 'Primary' && count === 0) out += `${lineType}\t[default=1]\t\t\tpam_permit.so\n`
    for (const group of groups) {
      for (const line of group) {
        out += `${lineType}\t${renderModuleLine(line, count)}`
        count--
      }
    }
  }
  for (const line of lines) {
    if (state === 1) {
      if (FALLBACK_MARK.test(line)) {
        out += line
        state = 2
      }
      continue
    }
    if (state === 3) {
      if (END_MARK.test(line)) {
        out += line
        state = 4
      }
      continue
    }
    out += line
    if (state === 0 && PRIMARY_MARK.test(line)) {
      block('Primary')
      state = 1
    } else if (state === 2 && ADDITIONAL_MARK.test(line)) {
      block('Additional')
      state = 3
    }
  }
  return state === 4 ? out : undefined
}
