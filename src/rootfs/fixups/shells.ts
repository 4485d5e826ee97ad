import type {RootTree} from '../tree.js'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, listTreeDir, readTreeText, resolveInTree, ResultBuilder} from './util.js'

/**
 * /etc/shells, as debianutils' postinst builds it on a first install: copy /usr/share/debianutils/shells,
 * then `update-shells` adds every shell listed there and in /usr/share/debianutils/shells.d/* (files in
 * C order), each also under its real path when the directory is a link (/bin/bash and /usr/bin/bash on
 * merged /usr). No /var/lib/shells.state: the image has no dpkg to trigger update-shells again.
 */
const TEMPLATE = 'usr/share/debianutils/shells'
const PACKAGE_DIR = 'usr/share/debianutils/shells.d'

/** Shell paths listed in a file: the part of each line before '#', if any. */
function listedShells(text: string): string[] {
  return text.split('\n').map((l) => l.split('#')[0]!).filter((l) => l !== '')
}

/** Pure: the /etc/shells text from the template's lines, the package lists, and a realpath for a shell's directory. */
export function shellsText(template: string, packageLists: string[], realDir: (dir: string) => string): string {
  const wanted: string[] = []
  for (const text of [template, ...packageLists]) {
    for (const shell of listedShells(text)) {
      wanted.push(shell)
      const slash = shell.lastIndexOf('/')
      const real = `${realDir(shell.slice(0, slash) || '/')}/${shell.slice(slash + 1)}`.replace(/^\/\//, '/')
      if (real !== shell) wanted.push(real)
    }
  }
  const out: string[] = []
  const seen = new Set<string>()
  for (const line of template.split('\n').slice(0, template.endsWith('\n') ? -1 : undefined)) {
    const shell = line.split('#')[0]!
    if (shell === '' || !seen.has(shell)) {
      out.push(line)
      if (shell !== '') seen.add(shell)
    }
  }
  for (const shell of wanted) {
    if (!seen.has(shell)) {
      out.push(shell)
      seen.add(shell)
    }
  }
  return out.map((l) => `${l}\n`).join('')
}

function realDirIn(tree: RootTree): (dir: string) => string {
  return (dir) => `/${resolveInTree(tree, dir)}`
}

export const shellsFixup: Fixup = {
  name: 'shells',
  replaces: 'debianutils postinst (cp shells, update-shells)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    const template = readTreeText(tree, TEMPLATE)
    if (!hasPackage(ctx.packages, 'debianutils') || template === undefined || tree.get('etc/shells')) return result.result()
    const lists = listTreeDir(tree, PACKAGE_DIR).map((n) => readTreeText(tree, `${PACKAGE_DIR}/${n}`) ?? '')
    tree.writeFile('etc/shells', shellsText(template, lists, realDirIn(tree)), {mode: 0o644, owner: 'keel:shells'})
    result.wrote('etc/shells')
    return result.result()
  },
}
