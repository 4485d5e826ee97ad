import {type Diagnostic, error} from '../core/diagnostics.js'
import type {Location} from '../core/source.js'
import {type Alternatives, formatAlternatives, formatRelation, type Relation} from './relations.js'
import type {UniverseIndex} from './resolve-index.js'
import type {BinaryPackage} from './types.js'

/** Why a package could not be installed: the group that stayed unmet and, per solution tried, why it failed. */
export interface Failure {
  pkg: BinaryPackage
  /** Empty when the package conflicts with a chosen one, or the recursion limit was hit. */
  group: Alternatives
  tried: Failure[]
  /** Set when `pkg` was refused because its Conflicts/Breaks hit a package already chosen. */
  conflict?: {other: BinaryPackage; relation: Relation}
  /** Any other reason `pkg` itself could not be installed. */
  note?: string
}

/**
 * One located diagnostic per failed request: the chain request → package → … → the dependency nobody can
 * meet, ending with what the universe does offer for it.
 */
export function explainFailure(index: UniverseIndex, failure: Failure, subject: string, location?: Location): Diagnostic {
  const notes: NonNullable<Diagnostic['notes']> = []
  let f: Failure | undefined = failure
  let leaf = failure
  const seen = new Set<Failure>()
  while (f && !seen.has(f)) {
    seen.add(f)
    leaf = f
    notes.push({message: describe(f)})
    f = f.tried[0]
  }
  for (const rel of leaf.group) notes.push({message: availability(index, rel)})
  const what = leaf.group.length
    ? `'${formatAlternatives(leaf.group)}' (needed by ${leaf.pkg.name}) cannot be met`
    : leaf.conflict
      ? `${leaf.pkg.name} conflicts with ${leaf.conflict.other.name}, which is already chosen`
      : `${leaf.pkg.name}: ${leaf.note ?? 'cannot be installed'}`
  return error(`${subject} cannot be installed: ${what}`, location, notes)
}

function describe(f: Failure): string {
  if (f.group.length) return `${f.pkg.name} ${f.pkg.version} depends on ${formatAlternatives(f.group)}`
  if (f.conflict) {
    const {other, relation} = f.conflict
    return `${f.pkg.name} ${f.pkg.version} conflicts with ${formatRelation(relation)}, met by ${other.name} ${other.version}`
  }
  return `${f.pkg.name}: ${f.note ?? 'cannot be installed'}`
}

function availability(index: UniverseIndex, rel: Relation): string {
  const versions = index.allVersions(rel.name).map((p) => p.version)
  const providers = [...new Set(index.providersOf(rel.name).map((p) => (p.version ? `${p.pkg.name} (= ${p.version})` : p.pkg.name)))].sort()
  const parts: string[] = []
  if (versions.length) parts.push(`available versions: ${versions.join(', ')}`)
  if (providers.length) parts.push(`provided by: ${providers.join(', ')}`)
  if (rel.archQualifier && rel.archQualifier !== 'native' && rel.archQualifier !== index.architecture && rel.archQualifier !== 'any') {
    parts.push(`architecture '${rel.archQualifier}' is not in this universe (${index.architecture})`)
  }
  return `${rel.name}: ${parts.length ? parts.join('; ') : 'no such package in the configured sources'}`
}

/** The closest known name within a small edit distance, for "did you mean". */
export function didYouMean(name: string, names: Iterable<string>): string | undefined {
  const limit = name.length <= 4 ? 1 : name.length <= 10 ? 2 : 3
  let best: string | undefined
  let bestDistance = limit + 1
  for (const candidate of names) {
    if (Math.abs(candidate.length - name.length) > limit) continue
    // Capped one above the best so far: a capped result is never mistaken for a tie with the best.
    const d = editDistance(name, candidate, bestDistance + 1)
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= limit ? best : undefined
}

/** Levenshtein distance, giving up (returning `cap`) once every path is at least `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      cur.push(v)
      if (v < rowMin) rowMin = v
    }
    if (rowMin >= cap) return cap
    prev = cur
  }
  return prev[b.length]!
}
