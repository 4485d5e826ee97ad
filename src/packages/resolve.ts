import {type Diagnostic, error} from '../core/diagnostics.js'
import {DiagnosticsError} from '../core/errors.js'
import type {Location} from '../core/source.js'
import {formatAlternatives, formatRelation} from './relations.js'
import {didYouMean, explainFailure, type Failure} from './resolve-explain.js'
import {UniverseIndex} from './resolve-index.js'
import {Marker} from './resolve-marker.js'
import type {BinaryPackage, PackageUniverse} from './types.js'

/**
 * Choose the binary packages a recipe's package list needs, giving the same answer as
 * `apt-get install --no-install-recommends <requests>` on an empty system (see README.md for the rule), then
 * optionally add the Essential set and check Conflicts/Breaks. Pure: the universe comes in as data.
 */

export interface PackageRequest {
  name: string
  /** Exact version wanted (apt's `name=version`); default: the candidate (highest version). */
  version?: string
  /** The recipe line that asked for it, for diagnostics. */
  location?: Location
}

export interface ResolveOptions {
  /** Names never installed; a dependency on one of them counts as met and is not followed. */
  exclude: string[]
  /** Also install every `Essential: yes` package and what it needs (apt does not do this by itself). */
  essential: boolean
}

export interface Resolution {
  /** The apt-equivalent closure of the requests, sorted by name. */
  packages: BinaryPackage[]
  /** Packages beyond that closure (the Essential set and its dependencies), sorted by name. */
  added: Array<{pkg: BinaryPackage; reason: string}>
  /** Excluded names that a chosen package depends on, sorted. */
  excluded: string[]
  /** Why each chosen package is in: the chain of steps from a request (or from the Essential set). */
  reasons: Map<string, string[]>
}

export function resolve(universe: PackageUniverse, requests: PackageRequest[], opts: ResolveOptions): Resolution {
  const index = UniverseIndex.of(universe)
  try {
    return resolveWith(index, requests, opts)
  } finally {
    index.resetCandidates()
  }
}

function resolveWith(index: UniverseIndex, requests: PackageRequest[], opts: ResolveOptions): Resolution {
  const excluded = new Set(opts.exclude)
  const diagnostics: Diagnostic[] = []
  const roots: Array<{pkg: BinaryPackage; request: PackageRequest}> = []

  for (const request of requests) {
    const pkg = pickRequested(index, request, excluded, diagnostics)
    if (pkg && !roots.some((r) => r.pkg.name === pkg.name)) roots.push({pkg, request})
  }

  const marker = new Marker(index, excluded)
  const rootLocation = new Map<string, Location | undefined>()
  // apt marks every requested package first and only then installs their dependencies, in command-line
  // order, so a request satisfies an OR group met earlier in the walk.
  for (const {pkg, request} of roots) {
    marker.markRoot(pkg, 'requested')
    rootLocation.set(pkg.name, request.location)
  }
  let unsatisfiable = false
  // Unmet groups of the roots, already explained: the final check must not report them twice.
  const reported = new Set<string>()
  const report = (f: Failure): void => {
    unsatisfiable = true
    // Protected packages stay marked when they fail, so the whole explained tree is already reported.
    const walk = (x: Failure): void => {
      reported.add(`${x.pkg.name}\u0000${formatAlternatives(x.group)}`)
      x.tried.forEach(walk)
    }
    walk(f)
  }
  for (const {pkg, request} of roots) {
    for (const f of marker.install(pkg, {via: 'requested'}, 0, true)) {
      report(f)
      diagnostics.push(explainFailure(index, f, `package '${request.name}'`, request.location))
    }
  }
  // apt's answer, before anything keel adds on top of it.
  const closure = new Map(marker.marked)

  if (opts.essential) {
    const essentials: BinaryPackage[] = []
    for (const n of index.names()) {
      const p = index.candidate(n)!
      if (p.essential && !excluded.has(n)) essentials.push(p)
    }
    essentials.sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const pkg of essentials) marker.markRoot(pkg, 'essential')
    for (const pkg of essentials) {
      for (const f of marker.install(pkg, {via: 'essential'}, 0, true)) {
        report(f)
        diagnostics.push(explainFailure(index, f, `essential package '${pkg.name}'`, undefined))
      }
    }
  }

  // Marking the Essential set may displace a package of the closure (a conflict unmarks it): say so.
  for (const [name, pkg] of closure) {
    if (marker.marked.get(name) === pkg) continue
    unsatisfiable = true
    diagnostics.push(error(`${name} ${pkg.version} is needed by the package list but conflicts with the Essential set`, rootLocation.get(name)))
  }

  const locate = (name: string): Location | undefined => rootLocation.get(marker.rootOf(name))
  const broken = checkAllMet(marker, locate, reported)
  if (broken.length > 0) unsatisfiable = true
  diagnostics.push(...broken)
  if (diagnostics.length > 0) throw new DiagnosticsError(diagnostics, unsatisfiable ? 'unsatisfiable' : 'input')

  const conflicts = findConflicts(index, marker.marked, locate)
  if (conflicts.length > 0) throw new DiagnosticsError(conflicts, 'conflict')

  const byName = (a: BinaryPackage, b: BinaryPackage): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  const all = [...marker.marked.values()].sort(byName)
  const reasons = new Map<string, string[]>()
  for (const p of all) reasons.set(p.name, marker.reasonChain(p.name))
  return {
    packages: all.filter((p) => closure.has(p.name)),
    added: all.filter((p) => !closure.has(p.name)).map((pkg) => ({pkg, reason: reasons.get(pkg.name)!.join(' → ')})),
    excluded: [...marker.excludedUsed].sort(),
    reasons,
  }
}

/** The stanza a request names: its candidate, a requested version, or the single provider of a virtual name. */
function pickRequested(
  index: UniverseIndex,
  request: PackageRequest,
  excluded: ReadonlySet<string>,
  diagnostics: Diagnostic[],
): BinaryPackage | undefined {
  const at = request.location
  if (excluded.has(request.name)) {
    diagnostics.push(error(`package '${request.name}' is both requested and excluded`, at))
    return undefined
  }
  if (!index.hasName(request.name)) {
    const providers = [...new Set(index.providersOf(request.name).filter((p) => index.isCandidate(p.pkg)).map((p) => p.pkg.name))].sort()
    // apt installs the provider of a virtual package when there is exactly one.
    if (providers.length === 1 && request.version === undefined) return index.candidate(providers[0]!)
    if (providers.length > 1) {
      diagnostics.push(error(`'${request.name}' is a virtual package provided by ${providers.join(', ')}; name one of them`, at))
      return undefined
    }
    const guess = didYouMean(request.name, index.names())
    diagnostics.push(error(`unknown package '${request.name}'${guess ? `; did you mean '${guess}'?` : ''}`, at))
    return undefined
  }
  if (request.version === undefined) return index.candidate(request.name)
  const exact = index.allVersions(request.name).find((p) => p.version === request.version)
  if (!exact) {
    const available = index.allVersions(request.name).map((p) => p.version).join(', ')
    diagnostics.push(error(`package '${request.name}' has no version '${request.version}' (available: ${available})`, at))
    return undefined
  }
  index.setCandidate(exact)
  return exact
}

/** Every chosen package must have each dependency group met by the chosen set (or an excluded name). */
function checkAllMet(marker: Marker, locate: (name: string) => Location | undefined, reported: ReadonlySet<string>): Diagnostic[] {
  const out: Diagnostic[] = []
  for (const name of [...marker.marked.keys()].sort()) {
    const pkg = marker.marked.get(name)!
    for (const group of marker.index.depends(pkg)) {
      if (marker.satisfied(group) || reported.has(`${name}\u0000${formatAlternatives(group)}`)) continue
      out.push(
        error(`dependency '${formatAlternatives(group)}' of ${pkg.name} ${pkg.version} is not met by the chosen packages`, locate(name), [
          {message: `why ${pkg.name} is in: ${marker.reasonChain(name).join(' → ')}`},
        ]),
      )
    }
  }
  return out
}

/** Conflicts and Breaks within the chosen set, through Provides too; a package never conflicts with itself. */
function findConflicts(
  index: UniverseIndex,
  chosen: ReadonlyMap<string, BinaryPackage>,
  locate: (name: string) => Location | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = []
  const get = (n: string): BinaryPackage | undefined => chosen.get(n)
  for (const name of [...chosen.keys()].sort()) {
    const pkg = chosen.get(name)!
    for (const rel of index.negatives(pkg)) {
      for (const other of index.answers(rel, get)) {
        if (other === pkg) continue
        out.push(
          error(`${pkg.name} ${pkg.version} conflicts with ${other.name} ${other.version} (${formatRelation(rel)})`, locate(name), [
            {message: `${other.name} is needed by the request at this location`, location: locate(other.name)},
          ]),
        )
      }
    }
  }
  return out
}

