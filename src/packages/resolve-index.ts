import {type Alternatives, type Provide, parseProvides, parseRelations, type Relation} from './relations.js'
import type {BinaryPackage, PackageUniverse} from './types.js'
import {compareVersions, satisfies} from './version.js'

/**
 * The resolver's view of a universe, built once: every version of every name (newest first), the candidate
 * of each name (apt's default policy with equal pins: the highest version across all sources), and who
 * provides what. Relation fields are parsed lazily, once per stanza.
 */

export interface ProvideEntry {
  pkg: BinaryPackage
  /** Set only for a versioned provide. */
  version?: string
  /** The providing package is Multi-Arch: allowed, so the provide also answers `name:any`. */
  multiArchAllowed: boolean
}

/** apt's version priorities (lower sorts first among providers); a stanza without Priority counts as 0. */
const PRIORITY_RANK: Record<string, number> = {required: 1, important: 2, standard: 3, optional: 4, extra: 5}

export function priorityRank(pkg: BinaryPackage): number {
  if (pkg.priority === undefined) return 0
  return PRIORITY_RANK[pkg.priority] ?? 5
}

function sourceKey(p: BinaryPackage): string {
  return `${p.repository.uri}\u0000${p.repository.suite}\u0000${p.repository.component}\u0000${p.filename}`
}

const built = new WeakMap<PackageUniverse, UniverseIndex>()

export class UniverseIndex {
  readonly architecture: string
  /** name → every distinct version for our architecture, newest first. */
  private readonly versions = new Map<string, BinaryPackage[]>()
  private readonly candidates = new Map<string, BinaryPackage>()
  private readonly overridden = new Map<string, BinaryPackage>()
  /** provided name → providing stanzas (all versions; callers keep the candidates). */
  private readonly provides = new Map<string, ProvideEntry[]>()
  private readonly dependsCache = new Map<BinaryPackage, Alternatives[]>()
  private readonly negativeCache = new Map<BinaryPackage, Relation[]>()
  private firstSeen: Map<string, number> | undefined

  constructor(private readonly universe: PackageUniverse) {
    this.architecture = universe.architecture
    // Same name and version from several suites: one stanza, chosen by a stable key, not by index order.
    const byName = new Map<string, Map<string, BinaryPackage>>()
    for (const p of universe.packages) {
      if (p.architecture !== universe.architecture && p.architecture !== 'all') continue
      let vs = byName.get(p.name)
      if (!vs) byName.set(p.name, (vs = new Map()))
      const prev = vs.get(p.version)
      if (!prev || sourceKey(p) < sourceKey(prev)) vs.set(p.version, p)
    }
    for (const [name, vs] of byName) {
      const list = [...vs.values()].sort((a, b) => compareVersions(b.version, a.version))
      this.versions.set(name, list)
      this.candidates.set(name, list[0]!)
    }
    for (const name of [...this.versions.keys()].sort()) {
      for (const pkg of this.versions.get(name)!) {
        if (!pkg.provides) continue
        const multiArchAllowed = pkg.multiArch === 'allowed'
        for (const prv of parseProvides(pkg.provides)) {
          if (!this.archQualifierIsOurs(prv)) continue
          const entry: ProvideEntry = {pkg, multiArchAllowed}
          if (prv.version !== undefined) entry.version = prv.version
          let list = this.provides.get(prv.name)
          if (!list) this.provides.set(prv.name, (list = []))
          list.push(entry)
        }
      }
    }
  }

  private archQualifierIsOurs(prv: Provide): boolean {
    return prv.archQualifier === undefined || prv.archQualifier === 'any' || prv.archQualifier === this.architecture
  }

  /**
   * apt's package number (pkgCache ID): the order in which its cache generator first meets each name,
   * walking the indexes in source order, each stanza's own name and then every name in its relation fields
   * (Pre-Depends, Depends, Conflicts, Breaks, Recommends, Suggests, Replaces, Enhances, Provides). apt
   * prefers the higher number between otherwise equal providers; built on first use, as few resolves need it.
   */
  aptOrder(name: string): number {
    if (!this.firstSeen) {
      const seen = new Map<string, number>()
      const touch = (n: string): void => {
        if (!seen.has(n)) seen.set(n, seen.size)
      }
      for (const p of this.universe.packages) {
        if (p.architecture !== this.architecture && p.architecture !== 'all') continue
        touch(p.name)
        for (const f of [p.preDepends, p.depends, p.conflicts, p.breaks, p.recommends, p.suggests, p.replaces, p.enhances, p.provides]) {
          if (f) forEachRelationName(f, touch)
        }
      }
      this.firstSeen = seen
    }
    return this.firstSeen.get(name) ?? -1
  }

  hasName(name: string): boolean {
    return this.versions.has(name)
  }

  names(): IterableIterator<string> {
    return this.versions.keys()
  }

  allVersions(name: string): readonly BinaryPackage[] {
    return this.versions.get(name) ?? []
  }

  candidate(name: string): BinaryPackage | undefined {
    return this.candidates.get(name)
  }

  /** Like apt's `pkg=version`: make a specific version the candidate, until resetCandidates(). */
  setCandidate(pkg: BinaryPackage): void {
    if (!this.overridden.has(pkg.name)) this.overridden.set(pkg.name, this.candidates.get(pkg.name)!)
    this.candidates.set(pkg.name, pkg)
  }

  /** Back to the default candidates (the index is shared between resolves of the same universe). */
  resetCandidates(): void {
    for (const [name, pkg] of this.overridden) this.candidates.set(name, pkg)
    this.overridden.clear()
  }

  /**
   * The index of a universe, built once per universe object: universes are immutable data, and several
   * resolves of one universe (requests, then the lockfile check) should not pay for it again.
   */
  static of(universe: PackageUniverse): UniverseIndex {
    let index = built.get(universe)
    if (!index) built.set(universe, (index = new UniverseIndex(universe)))
    return index
  }

  isCandidate(pkg: BinaryPackage): boolean {
    return this.candidates.get(pkg.name) === pkg
  }

  providersOf(name: string): readonly ProvideEntry[] {
    return this.provides.get(name) ?? []
  }

  /** Pre-Depends then Depends, in field order: the order apt walks them. */
  depends(pkg: BinaryPackage): Alternatives[] {
    let d = this.dependsCache.get(pkg)
    if (!d) {
      const opts = {architecture: this.architecture}
      d = [
        ...parseRelations(pkg.preDepends ?? '', {...opts, fieldName: `Pre-Depends of ${pkg.name}`}),
        ...parseRelations(pkg.depends ?? '', {...opts, fieldName: `Depends of ${pkg.name}`}),
      ]
      this.dependsCache.set(pkg, d)
    }
    return d
  }

  /** Conflicts and Breaks, flattened (alternatives have no meaning in negative relations). */
  negatives(pkg: BinaryPackage): Relation[] {
    let n = this.negativeCache.get(pkg)
    if (!n) {
      const opts = {architecture: this.architecture}
      n = [
        ...parseRelations(pkg.conflicts ?? '', {...opts, fieldName: `Conflicts of ${pkg.name}`}).flat(),
        ...parseRelations(pkg.breaks ?? '', {...opts, fieldName: `Breaks of ${pkg.name}`}).flat(),
      ]
      this.negativeCache.set(pkg, n)
    }
    return n
  }

  /**
   * The stanzas that can answer `rel` given a choice of versions (`chosen(name)`): the named package itself
   * and its providers. A versioned relation is answered by a provide only when the provide carries a
   * matching version; `name:any` only by Multi-Arch: allowed packages; another architecture by nothing.
   */
  answers(rel: Relation, chosen: (name: string) => BinaryPackage | undefined): BinaryPackage[] {
    const q = rel.archQualifier
    const anyArch = q === 'any'
    if (q !== undefined && !anyArch && q !== 'native' && q !== this.architecture) return []
    const out: BinaryPackage[] = []
    const direct = chosen(rel.name)
    if (direct && (!anyArch || direct.multiArch === 'allowed') && versionOk(direct.version, rel)) out.push(direct)
    for (const prv of this.providersOf(rel.name)) {
      if (anyArch && !prv.multiArchAllowed) continue
      if (chosen(prv.pkg.name) !== prv.pkg) continue
      if (rel.op !== undefined && (prv.version === undefined || !versionOk(prv.version, rel))) continue
      if (!out.includes(prv.pkg)) out.push(prv.pkg)
    }
    return out
  }
}

/** Calls `visit` with each package name a relation field mentions, in order: a scan, not a full parse. */
function forEachRelationName(field: string, visit: (name: string) => void): void {
  const n = field.length
  let i = 0
  while (i < n) {
    while (i < n && isSpace(field.charCodeAt(i))) i++
    const start = i
    while (i < n && !endsName(field.charCodeAt(i))) i++
    if (i > start) visit(field.slice(start, i))
    while (i < n && field.charCodeAt(i) !== 44 /* , */ && field.charCodeAt(i) !== 124 /* | */) i++
    i++
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13
}

/** Whitespace , | ( : [ < end a package name. */
function endsName(c: number): boolean {
  return isSpace(c) || c === 44 || c === 124 || c === 40 || c === 58 || c === 91 || c === 60
}

function versionOk(version: string, rel: Relation): boolean {
  return rel.op === undefined || satisfies(version, rel.op, rel.version!)
}
