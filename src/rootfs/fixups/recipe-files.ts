import {readFileSync} from 'node:fs'
import {KeelError} from '../../core/errors.js'
import type {FileSpec} from '../../recipe/types.js'
import type {Fixup, FixupResult} from './types.js'
import {resolveInTree, ResultBuilder} from './util.js'

/**
 * The recipe's files: written after every package-derived fix-up (so a recipe can override a generated
 * /etc file) and before units and ldconfig (so a recipe's unit file can be enabled and its ld.so.conf.d
 * snippet counts). Parent directories are created root:root 0755; mode/uid/gid are the recipe's.
 */
export function fileContent(spec: FileSpec): string | Buffer {
  if (spec.content !== undefined) return spec.content
  if (spec.source !== undefined) {
    try {
      return readFileSync(spec.source)
    } catch (err) {
      throw new KeelError(`recipe file ${spec.path}: cannot read source ${spec.source}: ${(err as Error).message}`, 'input')
    }
  }
  throw new KeelError(`recipe file ${spec.path} has neither content nor source`, 'input')
}

export const recipeFilesFixup: Fixup = {
  name: 'recipe-files',
  replaces: 'nothing: the recipe\'s files: section',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    for (const spec of ctx.recipe.files) {
      // A recipe may name /lib/... or /bin/...: follow the merged-/usr links (never out of the root).
      const path = resolveInTree(ctx.tree, spec.path, false)
      const existing = ctx.tree.get(path)
      if (existing?.type === 'symlink') ctx.tree.remove(path)
      ctx.tree.writeFile(path, fileContent(spec), {mode: spec.mode, uid: spec.uid, gid: spec.gid, owner: 'keel:recipe-files'})
      result.wrote(path)
    }
    return result.result()
  },
}
