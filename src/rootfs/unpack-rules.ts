import {KeelError} from '../core/errors.js'
import type {LockedPackage} from '../packages/types.js'
import {parseRelations} from '../packages/relations.js'
import {satisfies} from '../packages/version.js'

/**
 * Who wins when packages ship the same path. Pure decisions over package indexes (the order the caller gave),
 * so the unpacked tree never depends on which decompressor finished first:
 *   - a non-directory shipped by two packages is a conflict unless one Replaces the other; the replacer's
 *     entry wins whichever was unpacked first. When both replace each other, the later one in the given
 *     order wins, as it would with dpkg unpacking in that order.
 *   - a directory shipped by several packages keeps the metadata of the earliest package in the given
 *     order; a directory a package actually ships beats one keel created implicitly as a parent.
 */

/** `replaces[i]` holds the indexes of the packages that package `i` replaces. */
export type ReplacesTable = ReadonlyArray<ReadonlySet<number>>

/**
 * Resolve every package's Replaces field against the package set: `foo (<< 2)` names foo only when the
 * locked foo's version satisfies the constraint. Architecture qualifiers are ignored (one architecture per
 * image, plus `all`).
 */
export function buildReplacesTable(packages: ReadonlyArray<Pick<LockedPackage, 'name' | 'version' | 'replaces'>>): ReplacesTable {
  const byName = new Map<string, number[]>()
  packages.forEach((p, i) => byName.set(p.name, [...(byName.get(p.name) ?? []), i]))
  return packages.map((p, i) => {
    const out = new Set<number>()
    if (!p.replaces) return out
    for (const group of parseRelations(p.replaces, {fieldName: `Replaces of ${p.name}`})) {
      for (const rel of group) {
        for (const j of byName.get(rel.name) ?? []) {
          if (j === i) continue
          if (rel.op && rel.version && !satisfies(packages[j]!.version, rel.op, rel.version)) continue
          out.add(j)
        }
      }
    }
    return out
  })
}

/** Does `challenger`'s entry take a path over from `holder`'s? undefined: neither replaces the other. */
export function challengerWins(challenger: number, holder: number, replaces: ReplacesTable): boolean | undefined {
  if (challenger === holder) return true // the same archive naming a path twice: its last entry wins
  const cReplacesH = replaces[challenger]?.has(holder) ?? false
  const hReplacesC = replaces[holder]?.has(challenger) ?? false
  if (cReplacesH && hReplacesC) return challenger > holder
  if (cReplacesH) return true
  if (hReplacesC) return false
  return undefined
}

/**
 * The order-independent check run once every package is unpacked: the package whose entry stayed at a
 * path must replace every other package that shipped it (or be replaced by none of them). Returns the
 * first offending pair, by index, or undefined.
 */
export function unresolvedClaim(holder: number, claimants: readonly number[], replaces: ReplacesTable): [number, number] | undefined {
  for (const other of [...claimants].sort((a, b) => a - b)) {
    if (other === holder) continue
    if (challengerWins(holder, other, replaces) !== true) return holder < other ? [holder, other] : [other, holder]
  }
  return undefined
}

/** Directory metadata precedence: explicit before implicit, then the earliest package. Lower wins. */
export function directoryRank(explicit: boolean, index: number): number {
  return (explicit ? 0 : 1 << 30) + index + 1
}

export function conflictError(path: string, a: string, b: string, detail = 'neither Replaces the other'): KeelError {
  return new KeelError(`packages ${a} and ${b} both ship /${path} (${detail})`, 'conflict', `add Replaces between them or drop one from the recipe`)
}
