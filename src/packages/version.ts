/**
 * Debian version numbers (Debian Policy 5.6.12): `[epoch:]upstream[-revision]`, compared the way dpkg does.
 * Pure functions; the resolver calls compareVersions millions of times, so nothing here allocates more than
 * the split into parts.
 */

export interface DebianVersion {
  epoch: number
  upstream: string
  /** '' when the version has no revision (dpkg treats a missing revision as '0' — and '' sorts equal to it). */
  revision: string
}

export type VersionOp = '<<' | '<=' | '=' | '>=' | '>>'
/** The obsolete single-character forms dpkg still accepts: `<` means `<=`, `>` means `>=`. */
export type LegacyVersionOp = '<' | '>'

/** Split a version string. Lenient like dpkg's comparison: never throws; use isValidVersion to validate. */
export function parseVersion(text: string): DebianVersion {
  const v = text.trim()
  const colon = v.indexOf(':')
  let epoch = 0
  let rest = v
  if (colon >= 0) {
    epoch = Number.parseInt(v.slice(0, colon), 10) || 0
    rest = v.slice(colon + 1)
  }
  const dash = rest.lastIndexOf('-')
  if (dash >= 0) return {epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1)}
  return {epoch, upstream: rest, revision: ''}
}

/** Syntax check per policy: numeric epoch, upstream starting with a digit, allowed characters only. */
export function isValidVersion(text: string): boolean {
  const m = /^(?:(\d+):)?(.+?)(?:-([A-Za-z0-9+.~]+))?$/.exec(text)
  if (!m) return false
  const upstream = m[2]!
  if (!/^[0-9]/.test(upstream)) return false
  const allowed = m[3] === undefined ? /^[A-Za-z0-9.+~]+$/ : /^[A-Za-z0-9.+~-]+$/
  return allowed.test(upstream)
}

/** Sort weight of one character in a non-digit run: `~` lowest, end of string next, letters, then the rest. */
function charOrder(code: number): number {
  if (code === 126 /* ~ */) return -1
  if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122)) return code
  return code + 256
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57
}

/** dpkg's verrevcmp: alternate non-digit runs (by charOrder) and digit runs (numerically, any length). */
function compareFragment(a: string, b: string): number {
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    // Non-digit prefix, character by character; running off the end weighs 0 (above '~', below letters).
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length && !isDigit(a.charCodeAt(i)) ? charOrder(a.charCodeAt(i)) : 0
      const bc = j < b.length && !isDigit(b.charCodeAt(j)) ? charOrder(b.charCodeAt(j)) : 0
      if (ac !== bc) return ac < bc ? -1 : 1
      if (i < a.length && !isDigit(a.charCodeAt(i))) i++
      if (j < b.length && !isDigit(b.charCodeAt(j))) j++
    }
    // Digit runs compared as arbitrary-size integers: skip leading zeros, longer is bigger, then lexically.
    while (i < a.length && a.charCodeAt(i) === 48) i++
    while (j < b.length && b.charCodeAt(j) === 48) j++
    const ai = i
    const bj = j
    while (i < a.length && isDigit(a.charCodeAt(i))) i++
    while (j < b.length && isDigit(b.charCodeAt(j))) j++
    const lenA = i - ai
    const lenB = j - bj
    if (lenA !== lenB) return lenA < lenB ? -1 : 1
    for (let k = 0; k < lenA; k++) {
      const d = a.charCodeAt(ai + k) - b.charCodeAt(bj + k)
      if (d !== 0) return d < 0 ? -1 : 1
    }
  }
  return 0
}

/** Negative, zero or positive like a sort comparator; the sign is what `dpkg --compare-versions` reports. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0
  // As in dpkg --compare-versions: an empty version is earlier than any version.
  const aEmpty = a.trim() === ''
  const bEmpty = b.trim() === ''
  if (aEmpty || bEmpty) return aEmpty === bEmpty ? 0 : aEmpty ? -1 : 1
  const va = parseVersion(a)
  const vb = parseVersion(b)
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1
  return compareFragment(va.upstream, vb.upstream) || compareFragment(va.revision, vb.revision)
}

/** Does `version` satisfy `version OP ref`? The legacy `<` and `>` mean `<=` and `>=`, as in dpkg. */
export function satisfies(version: string, op: VersionOp | LegacyVersionOp, ref: string): boolean {
  const c = compareVersions(version, ref)
  switch (op) {
    case '<<':
      return c < 0
    case '<=':
    case '<':
      return c <= 0
    case '=':
      return c === 0
    case '>=':
    case '>':
      return c >= 0
    case '>>':
      return c > 0
  }
}
