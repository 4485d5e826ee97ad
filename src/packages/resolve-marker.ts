import {type Alternatives, formatAlternatives, type Relation} from './relations.js'
import type {Failure} from './resolve-explain.js'
import {priorityRank, type UniverseIndex} from './resolve-index.js'
import type {BinaryPackage} from './types.js'

/** apt stops recursing here; so do we (the same depth guard as pkgDepCache::MarkInstall). */
const MAX_DEPTH = 3000

export interface Origin {
  parent?: string
  /** The dependency text that pulled the package in, or 'requested' / 'essential' for roots. */
  via: string
}

/**
 * apt's marking (pkgDepCache::MarkInstall with auto-install) on an empty system, as data. Besides the set
 * of marked packages it keeps apt's "protected" state, which decides what a conflict does:
 * - requested packages are protected; so is, while its dependencies are being installed, every package on
 *   the current path (apt's ScopedProtected);
 * - a protected package passes protection on to a dependency that has exactly one possible solution;
 * - a package whose Conflicts/Breaks hit a marked package unmarks it when that one is not protected, and
 *   otherwise fails (so the caller tries its next alternative) — unless it is protected itself, in which
 *   case the packages it conflicts with lose their candidate for good.
 */
export class Marker {
  readonly marked = new Map<string, BinaryPackage>()
  readonly origin = new Map<string, Origin>()
  readonly excludedUsed = new Set<string>()
  private readonly protectedNames = new Set<string>()
  /** Packages being installed right now (apt protects them for the duration). */
  private readonly onPath = new Set<string>()
  /** Names whose candidate apt discarded (a protected package conflicts with them): never installable. */
  private readonly discarded = new Set<string>()
  private readonly chosen = (name: string): BinaryPackage | undefined => this.marked.get(name)
  private readonly candidate = (name: string): BinaryPackage | undefined =>
    this.discarded.has(name) ? undefined : this.index.candidate(name)

  constructor(
    readonly index: UniverseIndex,
    private readonly excluded: ReadonlySet<string>,
  ) {}

  /** A request (or an Essential package): marked and protected, its dependencies installed later. */
  markRoot(pkg: BinaryPackage, via: string): void {
    this.protectedNames.add(pkg.name)
    if (this.marked.has(pkg.name)) return
    this.marked.set(pkg.name, pkg)
    this.origin.set(pkg.name, {via})
  }

  private isProtected(name: string): boolean {
    return this.protectedNames.has(name) || this.onPath.has(name)
  }

  /** Met by a package already chosen; failing that, by an excluded name (treated as present, not followed). */
  satisfied(group: Alternatives): boolean {
    if (group.some((rel) => this.index.answers(rel, this.chosen).length > 0)) return true
    for (const rel of group) {
      const hit = this.excludedAnswer(rel)
      if (hit) {
        this.excludedUsed.add(hit)
        return true
      }
    }
    return false
  }

  private excludedAnswer(rel: Relation): string | undefined {
    if (this.excluded.has(rel.name)) return rel.name
    for (const prv of this.index.providersOf(rel.name)) {
      if (this.excluded.has(prv.pkg.name) && this.index.isCandidate(prv.pkg)) return prv.pkg.name
    }
    return undefined
  }

  /**
   * apt's order of preference for a group (getAllPossibleSolutions + CompareProviders, for an empty
   * system): alternatives in order; within one, the package of that very name first, then Essential ones,
   * then by Priority, then the name apt met last when it built its cache (see UniverseIndex.aptOrder).
   */
  solutions(group: Alternatives): BinaryPackage[] {
    const out: BinaryPackage[] = []
    for (const rel of group) {
      const list = this.index.answers(rel, this.candidate).filter((p) => !this.excluded.has(p.name))
      list.sort((a, b) => {
        const aSelf = a.name === rel.name
        if (aSelf !== (b.name === rel.name)) return aSelf ? -1 : 1
        if (a.essential !== b.essential) return a.essential ? -1 : 1
        const pr = priorityRank(a) - priorityRank(b)
        if (pr !== 0) return pr
        return this.index.aptOrder(b.name) - this.index.aptOrder(a.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
      })
      for (const p of list) if (!out.includes(p)) out.push(p)
    }
    return out
  }

  /** The one package that can meet `group`, if there is exactly one (no sorting needed to know). */
  private soleSolution(group: Alternatives): BinaryPackage | undefined {
    let only: BinaryPackage | undefined
    for (const rel of group) {
      for (const p of this.index.answers(rel, this.candidate)) {
        if (this.excluded.has(p.name) || p === only) continue
        if (only) return undefined
        only = p
      }
    }
    return only
  }

  /**
   * Install `pkg` and, depth first, its (Pre-)Depends in order; for an unmet group try each solution until
   * one installs. A package that is neither a root nor protected fails as a whole (and is unmarked; what it
   * pulled in stays) so the caller can try the next alternative; others keep going so every problem is
   * reported. Returns the failures, none on success.
   */
  install(pkg: BinaryPackage, origin: Origin, depth: number, root: boolean): Failure[] {
    const name = pkg.name
    if (this.discarded.has(name)) return [{pkg, group: [], tried: [], note: 'ruled out by the Conflicts/Breaks of a requested package'}]
    const wasProtected = this.isProtected(name)
    if (!wasProtected && this.marked.get(name) === pkg) return []
    if (depth > MAX_DEPTH) return [{pkg, group: [], tried: [], note: 'dependency chain too deep'}]
    const failEarly = !wasProtected && !root

    const clash = this.resolveConflicts(pkg, wasProtected, failEarly)
    if (clash && failEarly) return [{pkg, group: [], tried: [], conflict: clash}]
    if (!this.marked.has(name)) {
      this.marked.set(name, pkg)
      this.origin.set(name, origin)
    }

    const failures: Failure[] = []
    const alreadyOnPath = this.onPath.has(name)
    this.onPath.add(name)
    try {
      for (const group of this.index.depends(pkg)) {
        const via = {parent: name, via: formatAlternatives(group)}
        if (this.satisfied(group)) {
          // A protected package passes protection on to a met dependency with a single possible solution.
          if (!wasProtected) continue
          const only = this.soleSolution(group)
          if (!only || this.isProtected(only.name)) continue
          this.protectedNames.add(only.name)
          const sub = this.install(only, via, depth + 1, false)
          if (sub.length > 0) failures.push(...sub)
          continue
        }
        const solutions = this.solutions(group)
        const tried: Failure[] = []
        let found = false
        for (const solution of solutions) {
          if (wasProtected && solutions.length === 1) {
            // apt marks the sole solution first (no dependencies), protects it, then installs it for real.
            if (!this.markBare(solution, via)) continue
            this.protectedNames.add(solution.name)
          }
          const sub = this.install(solution, via, depth + 1, false)
          if (sub.length === 0) {
            found = true
            break
          }
          tried.push(sub[0]!)
        }
        if (found) continue
        failures.push({pkg, group, tried})
        if (failEarly) break
      }
    } finally {
      if (!alreadyOnPath) this.onPath.delete(name)
    }
    // A root's clash is left to the final Conflicts check, which names both sides.
    if (clash && failures.length === 0 && !root) failures.push({pkg, group: [], tried: [], conflict: clash})
    if (failures.length > 0 && failEarly) {
      this.marked.delete(name)
      this.origin.delete(name)
    }
    return failures
  }

  /** apt's MarkInstall without auto-install: just the mark. */
  private markBare(pkg: BinaryPackage, origin: Origin): boolean {
    if (this.discarded.has(pkg.name)) return false
    if (!this.marked.has(pkg.name)) {
      this.marked.set(pkg.name, pkg)
      this.origin.set(pkg.name, origin)
    }
    return true
  }

  /**
   * MarkInstall_RemoveConflictsIfNotUpgradeable on an empty system: for each Conflicts/Breaks of `pkg`
   * that a marked package violates, every candidate it hits is unmarked if marked and not protected;
   * a protected one is a clash (returned; with `stopAtClash`, at once, as apt stops for a package that
   * will fail anyway). When `pkg` is protected, what it hits also loses its candidate.
   */
  private resolveConflicts(
    pkg: BinaryPackage,
    pkgProtected: boolean,
    stopAtClash: boolean,
  ): {other: BinaryPackage; relation: Relation} | undefined {
    let clash: {other: BinaryPackage; relation: Relation} | undefined
    for (const relation of this.index.negatives(pkg)) {
      if (!this.index.answers(relation, this.chosen).some((p) => p !== pkg)) continue
      for (const other of this.index.answers(relation, this.candidate)) {
        if (other === pkg) continue
        if (this.marked.get(other.name) === other && this.isProtected(other.name)) {
          clash ??= {other, relation}
          if (stopAtClash) return clash
          continue
        }
        if (this.marked.get(other.name) === other) {
          this.marked.delete(other.name)
          this.origin.delete(other.name)
        }
        if (pkgProtected) {
          this.discarded.add(other.name)
          this.protectedNames.add(other.name)
        }
      }
    }
    return clash
  }

  reasonChain(name: string): string[] {
    const steps: string[] = []
    const seen = new Set<string>()
    let cur: string | undefined = name
    while (cur !== undefined && !seen.has(cur)) {
      seen.add(cur)
      const o = this.origin.get(cur)
      if (!o) break
      steps.unshift(o.parent === undefined ? `${o.via}: ${cur}` : `${o.parent} depends on ${o.via}`)
      cur = o.parent
    }
    return steps
  }

  rootOf(name: string): string {
    let cur = name
    const seen = new Set<string>()
    for (;;) {
      const parent = this.origin.get(cur)?.parent
      if (parent === undefined || seen.has(parent)) return cur
      seen.add(cur)
      cur = parent
    }
  }
}
