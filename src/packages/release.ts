import {field, parseControl} from './control.js'

/**
 * A Release file's signed metadata. Parse only text that gpgv verified: the file list is what every index
 * download is checked against.
 */
export interface Release {
  origin?: string
  suite?: string
  codename?: string
  /** RFC 2822 date as written, and parsed (undefined when unparseable). */
  date?: string
  dateMs?: number
  validUntil?: string
  validUntilMs?: number
  architectures: string[]
  components: string[]
  acquireByHash: boolean
  /** True when binary-<arch>/Packages already include Architecture: all packages (Debian says so). */
  noSupportForArchitectureAll: boolean
  /** Path relative to dists/<suite>/ → size and sha256, from the SHA256 field. */
  sha256: Map<string, {size: number; sha256: string}>
}

export class ReleaseParseError extends Error {}

function words(v: string | undefined): string[] {
  return v ? v.split(/\s+/).filter(Boolean) : []
}

function parseDate(v: string | undefined): number | undefined {
  if (!v) return undefined
  const ms = Date.parse(v)
  return Number.isNaN(ms) ? undefined : ms
}

export function parseRelease(text: string): Release {
  const {paragraphs, problems} = parseControl(text, {comments: false})
  const p = paragraphs[0]
  if (!p || problems.length > 0) {
    const first = problems[0]
    throw new ReleaseParseError(first ? `line ${first.line}: ${first.message}` : 'empty Release file')
  }
  const sha256 = new Map<string, {size: number; sha256: string}>()
  const list = field(p, 'SHA256')
  for (const line of (list ?? '').split('\n')) {
    const parts = words(line)
    if (parts.length === 0) continue
    const [hex, sizeText, path] = parts
    if (parts.length !== 3 || !/^[0-9a-f]{64}$/.test(hex!) || !/^\d+$/.test(sizeText!)) {
      throw new ReleaseParseError(`malformed SHA256 entry '${line.trim()}'`)
    }
    sha256.set(path!, {size: Number(sizeText), sha256: hex!})
  }
  const date = field(p, 'Date')
  const validUntil = field(p, 'Valid-Until')
  return {
    origin: field(p, 'Origin'),
    suite: field(p, 'Suite'),
    codename: field(p, 'Codename'),
    date,
    dateMs: parseDate(date),
    validUntil,
    validUntilMs: parseDate(validUntil),
    architectures: words(field(p, 'Architectures')),
    components: words(field(p, 'Components')),
    acquireByHash: field(p, 'Acquire-By-Hash')?.toLowerCase() === 'yes',
    noSupportForArchitectureAll: field(p, 'No-Support-for-Architecture-all') === 'Packages',
    sha256,
  }
}

export interface FreshnessPolicy {
  /** Refuse a Release past its Valid-Until (apt's Acquire::Check-Valid-Until, default true). */
  checkValidUntil: boolean
  /** Refuse a Release dated in the future beyond `maxFutureMs` (apt's Acquire::Check-Date, default true). */
  checkDate: boolean
  maxFutureMs: number
}

export const DEFAULT_FRESHNESS: FreshnessPolicy = {checkValidUntil: true, checkDate: true, maxFutureMs: 10 * 60_000}

/**
 * Why a signed Release must not be used now, or undefined when it may. Signed but expired metadata is how a
 * mirror (or a man in the middle) freezes a client on old, vulnerable packages; a date in the future points
 * at a wrong clock. `previousDateMs` is the Date of the copy used before: a newer fetch must not go back in
 * time (rollback to an older, validly signed Release).
 */
export function freshnessProblem(
  release: Release,
  nowMs: number,
  policy: FreshnessPolicy,
  previousDateMs?: number,
): string | undefined {
  if (policy.checkValidUntil && release.validUntilMs !== undefined && release.validUntilMs < nowMs) {
    return `the Release expired on ${release.validUntil} (Valid-Until)`
  }
  if (policy.checkDate) {
    if (release.date === undefined || release.dateMs === undefined) return `the Release has no valid Date`
    if (release.dateMs > nowMs + policy.maxFutureMs) return `the Release is dated in the future (${release.date})`
  }
  if (previousDateMs !== undefined && release.dateMs !== undefined && release.dateMs < previousDateMs) {
    return `the Release (Date ${release.date}) is older than the copy verified before (${new Date(previousDateMs).toUTCString()})`
  }
  return undefined
}
