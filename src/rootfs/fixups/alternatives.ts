import {KeelError} from '../../core/errors.js'
import type {RootTree} from '../tree.js'
import type {Fixup, FixupResult} from './types.js'
import {existsInTree, resolveInTree, ResultBuilder} from './util.js'

/**
 * update-alternatives, natively. Each group below is copied from the `update-alternatives --install` calls
 * in a bookworm package's postinst (the package is named). A candidate counts when its path exists in the
 * tree; the group's link points at the highest-priority candidate, as update-alternatives' automatic mode
 * would choose (ties: the candidate listed first, i.e. installed first). Slave links are made only for
 * slaves whose target exists (update-alternatives drops dangling slaves too). Layout, as on Debian:
 * <link> → /etc/alternatives/<name> → <candidate path>. No /var/lib/dpkg/alternatives state: no dpkg.
 */
export interface AlternativeSlave {
  link: string
  name: string
  path: string
}

export interface AlternativeCandidate {
  package: string
  path: string
  priority: number
  slaves: AlternativeSlave[]
}

export interface AlternativeGroup {
  name: string
  link: string
  candidates: AlternativeCandidate[]
}

function xtables(name: string, variants: Array<{flavour: 'legacy' | 'nft'; priority: number}>): AlternativeGroup {
  return {
    name,
    link: `/usr/sbin/${name}`,
    candidates: variants.map(({flavour, priority}) => ({
      package: 'iptables',
      path: `/usr/sbin/${name}-${flavour}`,
      priority,
      slaves: [
        {link: `/usr/sbin/${name}-restore`, name: `${name}-restore`, path: `/usr/sbin/${name}-${flavour}-restore`},
        {link: `/usr/sbin/${name}-save`, name: `${name}-save`, path: `/usr/sbin/${name}-${flavour}-save`},
      ],
    })),
  }
}

export const ALTERNATIVES: readonly AlternativeGroup[] = [
  xtables('iptables', [{flavour: 'legacy', priority: 10}, {flavour: 'nft', priority: 20}]),
  xtables('ip6tables', [{flavour: 'legacy', priority: 10}, {flavour: 'nft', priority: 20}]),
  xtables('arptables', [{flavour: 'nft', priority: 20}]),
  xtables('ebtables', [{flavour: 'nft', priority: 20}]),
  {
    name: 'pager',
    link: '/usr/bin/pager',
    candidates: [
      {package: 'util-linux', path: '/bin/more', priority: 50, slaves: [{link: '/usr/share/man/man1/pager.1.gz', name: 'pager.1.gz', path: '/usr/share/man/man1/more.1.gz'}]},
      {package: 'less', path: '/usr/bin/less', priority: 77, slaves: [{link: '/usr/share/man/man1/pager.1.gz', name: 'pager.1.gz', path: '/usr/share/man/man1/less.1.gz'}]},
    ],
  },
  {
    name: 'awk',
    link: '/usr/bin/awk',
    candidates: [
      {package: 'mawk', path: '/usr/bin/mawk', priority: 5, slaves: [{link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/mawk.1.gz'}, {link: '/usr/bin/nawk', name: 'nawk', path: '/usr/bin/mawk'}, {link: '/usr/share/man/man1/nawk.1.gz', name: 'nawk.1.gz', path: '/usr/share/man/man1/mawk.1.gz'}]},
      {package: 'gawk', path: '/usr/bin/gawk', priority: 10, slaves: [{link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/gawk.1.gz'}, {link: '/usr/bin/nawk', name: 'nawk', path: '/usr/bin/gawk'}, {link: '/usr/share/man/man1/nawk.1.gz', name: 'nawk.1.gz', path: '/usr/share/man/man1/gawk.1.gz'}]},
    ],
  },
  {
    name: 'which',
    link: '/usr/bin/which',
    candidates: [{package: 'debianutils', path: '/usr/bin/which.debianutils', priority: 0, slaves: [{link: '/usr/share/man/man1/which.1.gz', name: 'which.1.gz', path: '/usr/share/man/man1/which.debianutils.1.gz'}]}],
  },
  {
    name: 'mt',
    link: '/bin/mt',
    candidates: [{package: 'cpio', path: '/bin/mt-gnu', priority: 10, slaves: [{link: '/usr/share/man/man1/mt.1.gz', name: 'mt.1.gz', path: '/usr/share/man/man1/mt-gnu.1.gz'}]}],
  },
  {
    name: 'builtins.7.gz',
    link: '/usr/share/man/man7/builtins.7.gz',
    candidates: [{package: 'bash', path: '/usr/share/man/man7/bash-builtins.7.gz', priority: 10, slaves: []}],
  },
]

/** The candidate update-alternatives' auto mode picks among those present, or undefined if none is. */
export function chooseAlternative(group: AlternativeGroup, present: (path: string) => boolean): AlternativeCandidate | undefined {
  let best: AlternativeCandidate | undefined
  for (const c of group.candidates) {
    if (present(c.path) && (!best || c.priority > best.priority)) best = c
  }
  return best
}

/** Place a link at an image path that may go through merged-/usr symlinks (e.g. /bin/...). */
function placeLink(tree: RootTree, link: string, target: string, result: ResultBuilder): void {
  const at = resolveInTree(tree, link, false)
  const existing = tree.entries.get(at)
  if (existing && existing.type !== 'symlink') throw new KeelError(`alternative link /${at} would replace a ${existing.type} shipped by ${existing.owner}`, 'conflict')
  tree.symlink(at, target, {owner: 'keel:alternatives'})
  result.wrote(at)
}

export const alternativesFixup: Fixup = {
  name: 'alternatives',
  replaces: 'update-alternatives --install in postinsts (iptables, util-linux, less, mawk, gawk, debianutils, cpio, bash)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    for (const group of ALTERNATIVES) {
      const chosen = chooseAlternative(group, (p) => existsInTree(tree, p))
      if (!chosen) continue
      placeLink(tree, `etc/alternatives/${group.name}`, chosen.path, result)
      placeLink(tree, group.link, `/etc/alternatives/${group.name}`, result)
      for (const slave of chosen.slaves) {
        if (!existsInTree(tree, slave.path)) continue
        placeLink(tree, `etc/alternatives/${slave.name}`, slave.path, result)
        placeLink(tree, slave.link, `/etc/alternatives/${slave.name}`, result)
      }
      result.fact('chosen', `${group.name}=${chosen.path}`)
    }
    return result.result()
  },
}
