import {existsSync, readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {type Diagnostic, error, hasErrors} from '../core/diagnostics.js'
import {DiagnosticsError, KeelError} from '../core/errors.js'
import type {Location} from '../core/source.js'
import {mergeLayers} from './merge.js'
import {parseRecipeFile, type RecipeLayer} from './parse.js'
import type {Recipe} from './types.js'
import {mergeUsr} from './usr.js'

export interface LoadedRecipe {
  recipe: Recipe
  /** Warnings found while loading (errors throw). */
  diagnostics: Diagnostic[]
}

/**
 * Read a recipe and everything it includes, validate each file, merge them. All problems of all files are
 * collected and thrown together as one DiagnosticsError.
 */
export function loadRecipe(path: string): LoadedRecipe {
  const file = resolve(path)
  if (!existsSync(file)) throw new KeelError(`recipe not found: ${path}`, 'input')
  const diagnostics: Diagnostic[] = []
  const layers: RecipeLayer[] = []
  const visit = (f: string, stack: string[], via?: Location): void => {
    if (stack.includes(f)) {
      diagnostics.push(error(`include cycle: ${[...stack, f].join(' -> ')}`, via))
      return
    }
    if (layers.some((l) => l.file === f)) return // a diamond: included once, at its first position
    if (!existsSync(f)) {
      diagnostics.push(error(`included recipe not found: ${f}`, via))
      return
    }
    const {layer, includes, diagnostics: found} = parseRecipeFile(displayPath(f), readFileSync(f, 'utf8'))
    diagnostics.push(...found)
    for (const inc of includes) visit(resolve(dirname(f), inc.path), [...stack, f], inc.location)
    if (!layer) return
    for (const spec of layer.files) {
      if (spec.source === undefined) continue
      spec.source = resolve(dirname(f), spec.source)
      if (!existsSync(spec.source)) diagnostics.push(error(`file source not found: ${spec.source}`, spec.location))
    }
    layers.push({...layer, file: f})
  }
  visit(file, [])
  // Checks that need every layer: a compression is valid or not for the filesystem in effect.
  diagnostics.push(...mergeUsr(layers).diagnostics)
  if (hasErrors(diagnostics)) throw new DiagnosticsError(diagnostics)
  return {recipe: mergeLayers(file, layers), diagnostics}
}

/** Paths in diagnostics are relative to the working directory when that is shorter, as compilers print them. */
function displayPath(f: string): string {
  const rel = f.startsWith(`${process.cwd()}/`) ? f.slice(process.cwd().length + 1) : f
  return rel.length < f.length ? rel : f
}
