import {readFileSync} from 'node:fs'
import {parseGroup} from './accounts-db.js'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, listTreeDir, readTreeText, resolveInTree, ResultBuilder} from './util.js'

/**
 * base-files' postinst on a first install ("configure" with no old version), natively: copy the default
 * shell profiles and motd into place, create the FHS directories it makes, turn /var/run and /var/lock into
 * links to /run, and create the login accounting files. /etc/dpkg/origins and /usr/share/info/dir are left
 * out (no dpkg; info pages are excluded from images).
 */
const OWNER = 'keel:base-files'

/** install_from_default: [file in /usr/share/base-files, destination], copied only when absent. */
export const BASE_FILES_DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ['dot.profile', 'root/.profile'],
  ['dot.bashrc', 'root/.bashrc'],
  ['profile', 'etc/profile'],
  ['motd', 'etc/motd'],
]

/** install_directory / install_local_dir: created only when absent. Group by name (resolved in /etc/group). */
export const BASE_FILES_DIRECTORIES: ReadonlyArray<{path: string; mode: number; group: string}> = [
  ...['mnt', 'srv', 'opt', 'etc/opt', 'var/opt', 'media'].map((path) => ({path, mode: 0o755, group: 'root'})),
  {path: 'var/mail', mode: 0o2775, group: 'mail'},
  {path: 'run/lock', mode: 0o1777, group: 'root'},
  ...['', '/share', '/share/man', '/bin', '/games', '/lib', '/include', '/sbin', '/src', '/etc'].map((s) => ({path: `usr/local${s}`, mode: 0o755, group: 'root'})),
]

/** [link, target]: migrate_directory and the two ln -s calls. */
export const BASE_FILES_LINKS: ReadonlyArray<readonly [string, string]> = [
  ['var/run', '/run'],
  ['var/lock', '/run/lock'],
  ['var/spool/mail', '../mail'],
  ['usr/local/man', 'share/man'],
]

/** ensure_file_owner_mode: empty login accounting files. */
export const BASE_FILES_LOGS: ReadonlyArray<{path: string; mode: number; group: string}> = [
  {path: 'var/log/wtmp', mode: 0o664, group: 'utmp'},
  {path: 'var/log/btmp', mode: 0o660, group: 'utmp'},
  {path: 'var/log/lastlog', mode: 0o664, group: 'utmp'},
]

export const baseFilesFixup: Fixup = {
  name: 'base-files',
  replaces: 'base-files postinst (first configure)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'base-files')) return result.result()
    const groups = parseGroup(readTreeText(tree, 'etc/group') ?? '')
    const gid = (name: string) => groups.find((g) => g.name === name)?.gid ?? 0

    for (const [source, dest] of BASE_FILES_DEFAULTS) {
      const from = tree.get(`usr/share/base-files/${source}`)
      if (from?.type !== 'file' || tree.get(dest)) continue
      tree.writeFile(dest, readFileSync(tree.hostPath(from.path)), {mode: from.mode, owner: OWNER})
      result.wrote(dest)
    }
    for (const dir of BASE_FILES_DIRECTORIES) {
      if (tree.get(dir.path)) continue
      tree.mkdirp(dir.path, {mode: dir.mode, gid: gid(dir.group), owner: OWNER})
      result.wrote(dir.path)
    }
    for (const [link, target] of BASE_FILES_LINKS) {
      const existing = tree.get(link)
      if (existing?.type === 'symlink') continue
      if (existing?.type === 'dir') {
        const children = listTreeDir(tree, link)
        if (children.length > 0) ctx.reporter.info(`base-files: /${link} held ${children.join(', ')}; replaced by a link to ${target} as on Debian`)
        tree.remove(link)
        result.removed(link)
      } else if (existing) continue
      tree.symlink(resolveInTree(tree, link, false), target, {owner: OWNER})
      result.wrote(link)
    }
    for (const log of BASE_FILES_LOGS) {
      if (tree.get(log.path)) continue
      tree.writeFile(log.path, '', {mode: log.mode, gid: gid(log.group), owner: OWNER})
      result.wrote(log.path)
    }
    return result.result()
  },
}
