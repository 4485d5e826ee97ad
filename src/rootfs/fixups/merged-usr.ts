import {KeelError} from '../../core/errors.js'
import type {Fixup, FixupResult} from './types.js'
import {ResultBuilder} from './util.js'

/**
 * Debian 12 images are merged-/usr: /bin, /sbin and /lib(64) are symlinks into /usr (usrmerge's postinst
 * converts an old layout; the unpacker makes the links up front). Every later fix-up relies on it (kernel
 * modules land in usr/lib/modules, alternatives name /bin paths), so a tree without them is an error.
 */
export const MERGED_USR_LINKS: ReadonlyArray<readonly [string, string]> = [
  ['bin', 'usr/bin'],
  ['sbin', 'usr/sbin'],
  ['lib', 'usr/lib'],
]

/** Problems with the merged-/usr layout, one message each (empty when fine). Pure over manifest entries. */
export function mergedUsrProblems(get: (path: string) => {type: string; linkTarget?: string} | undefined): string[] {
  const problems: string[] = []
  for (const [link, target] of MERGED_USR_LINKS) {
    const entry = get(link)
    if (!entry) problems.push(`/${link} is missing (expected a symlink to ${target})`)
    else if (entry.type !== 'symlink') problems.push(`/${link} is a ${entry.type}, not a symlink to ${target}`)
    else if (entry.linkTarget !== target && entry.linkTarget !== `/${target}`) problems.push(`/${link} points to ${entry.linkTarget}, not ${target}`)
  }
  return problems
}

export const mergedUsrFixup: Fixup = {
  name: 'merged-usr',
  replaces: 'usrmerge postinst (verification only: the unpacker creates the links)',
  async run(ctx): Promise<FixupResult> {
    const problems = mergedUsrProblems((p) => ctx.tree.get(p))
    if (problems.length > 0) throw new KeelError(`the rootfs is not merged-/usr:\n  ${problems.join('\n  ')}`, 'internal')
    const result = new ResultBuilder()
    result.fact('verified', ...MERGED_USR_LINKS.map(([l]) => `/${l}`))
    return result.result()
  },
}
