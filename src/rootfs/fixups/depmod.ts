import {run} from '../../exec/run.js'
import type {Fixup, FixupResult} from './types.js'
import {listTreeDir, recordDiskChanges, resolveInTree, ResultBuilder, snapshotDisk} from './util.js'

/**
 * The kernel package's postinst (via /etc/kernel/postinst.d) runs depmod. keel runs `depmod -b <root> <kver>`
 * for each /usr/lib/modules/<kver> holding a modules.order (a real kernel tree, not a stray directory). The
 * kernel .deb ships /lib/modules; on merged-/usr that is usr/lib/modules, and depmod -b looks under
 * <root>/lib/modules, which the symlink makes the same place.
 */
export const MODULES_DIR = 'usr/lib/modules'

/** Kernel versions with a module tree, sorted. */
export function kernelVersions(names: string[], hasOrder: (kver: string) => boolean): string[] {
  return names.filter(hasOrder).sort()
}

export const depmodFixup: Fixup = {
  name: 'depmod',
  replaces: 'linux-image postinst (/etc/kernel/postinst.d, depmod)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    const modules = resolveInTree(tree, MODULES_DIR)
    const versions = kernelVersions(listTreeDir(tree, modules), (k) => tree.entries.get(`${modules}/${k}/modules.order`)?.type === 'file')
    for (const kver of versions) {
      const dir = `${modules}/${kver}`
      const before = snapshotDisk(tree, [dir])
      await run('depmod', ['-b', tree.dir, kver])
      const changes = recordDiskChanges(tree, before, snapshotDisk(tree, [dir]), 'keel:depmod')
      result.wrote(...changes.written)
      result.removed(...changes.removed)
      result.fact('kernels', kver)
    }
    return result.result()
  },
}
