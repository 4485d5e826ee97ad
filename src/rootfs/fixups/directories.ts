import {parseGroup} from './accounts-db.js'
import type {Fixup, FixupResult} from './types.js'
import {readTreeText, resolveInTree, ResultBuilder} from './util.js'

/**
 * What `systemd-tmpfiles --create` in postinsts would have made, split by where it belongs. systemd runs
 * tmpfiles.d at every boot (systemd-tmpfiles-setup.service), and /run, /tmp's contents, /var/lib/* state
 * dirs are recreated there, so the image carries only what must exist before that service runs or what the
 * image's read-only /usr layout needs: mount points, sticky temp dirs, root's home, and the persistent
 * journal directory systemd's postinst makes (its presence is what switches journald to persistent storage).
 */
export interface ImageDirectory {
  path: string
  mode: number
  uid: number
  /** A group name resolved against the image's /etc/group, or a number. */
  group: string | number
  why: string
}

export const IMAGE_DIRECTORIES: readonly ImageDirectory[] = [
  {path: 'dev', mode: 0o755, uid: 0, group: 0, why: 'devtmpfs mount point'},
  {path: 'proc', mode: 0o555, uid: 0, group: 0, why: 'procfs mount point'},
  {path: 'sys', mode: 0o555, uid: 0, group: 0, why: 'sysfs mount point'},
  {path: 'run', mode: 0o755, uid: 0, group: 0, why: 'tmpfs mount point'},
  {path: 'tmp', mode: 0o1777, uid: 0, group: 0, why: 'sticky, world-writable before tmp.mount'},
  {path: 'var/tmp', mode: 0o1777, uid: 0, group: 0, why: 'sticky, world-writable'},
  {path: 'root', mode: 0o700, uid: 0, group: 0, why: "root's home"},
  {path: 'home', mode: 0o755, uid: 0, group: 0, why: 'parent of user homes'},
  {path: 'var/log/journal', mode: 0o2755, uid: 0, group: 'systemd-journal', why: 'systemd postinst: persistent journal'},
]

export const directoriesFixup: Fixup = {
  name: 'directories',
  replaces: 'systemd-tmpfiles --create in postinsts (build-time subset; the rest runs at boot), systemd postinst mkdir /var/log/journal',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    const groups = parseGroup(readTreeText(tree, 'etc/group') ?? '')
    for (const dir of IMAGE_DIRECTORIES) {
      const gid = typeof dir.group === 'number' ? dir.group : groups.find((g) => g.name === dir.group)?.gid
      if (gid === undefined) {
        ctx.reporter.info(`directories: skipping /${dir.path}: group ${dir.group} does not exist`)
        continue
      }
      const path = resolveInTree(tree, dir.path)
      const existing = tree.entries.get(path)
      if (existing && existing.type !== 'dir') continue
      if (!existing) tree.mkdirp(path, {owner: 'keel:directories'})
      const entry = tree.entries.get(path)!
      tree.record({...entry, mode: dir.mode, uid: dir.uid, gid})
      result.wrote(path)
    }
    return result.result()
  },
}
