import {rmSync} from 'node:fs'
import {run} from '../../exec/run.js'
import type {Fixup, FixupResult} from './types.js'
import {recordDiskChanges, ResultBuilder, snapshotDisk} from './util.js'

/**
 * libc-bin's trigger runs ldconfig after every library install. `ldconfig -r <root>` builds
 * /etc/ld.so.cache from the tree's /etc/ld.so.conf(.d) without root; -X skips updating the shared
 * libraries' symlinks (the packages ship them, and ldconfig would otherwise create links the manifest does
 * not know). The cache holds no timestamps, so equal trees give equal bytes (tested); it does name the
 * host ldconfig's glibc version, so hosts with a different libc-bin give a different cache. ldconfig's
 * aux-cache (inodes and mtimes of the build host, only a speed-up for the next run) is deleted.
 */
export const LD_SO_CACHE = 'etc/ld.so.cache'
export const AUX_CACHE = 'var/cache/ldconfig/aux-cache'

export const ldconfigFixup: Fixup = {
  name: 'ldconfig',
  replaces: 'libc-bin ldconfig trigger (ldconfig)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    if (!tree.get('etc/ld.so.conf') && !tree.get('etc/ld.so.conf.d')) {
      ctx.reporter.info('ldconfig: no /etc/ld.so.conf in the tree; skipped')
      return result.result()
    }
    const before = snapshotDisk(tree, ['etc', 'var/cache/ldconfig'])
    await run('ldconfig', ['-X', '-r', tree.dir])
    if (!tree.get(AUX_CACHE)) rmSync(tree.hostPath(AUX_CACHE), {force: true})
    const changes = recordDiskChanges(tree, before, snapshotDisk(tree, ['etc', 'var/cache/ldconfig']), 'keel:ldconfig')
    result.wrote(...changes.written)
    result.removed(...changes.removed)
    return result.result()
  },
}
