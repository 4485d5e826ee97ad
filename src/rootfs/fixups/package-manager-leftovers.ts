import type {Fixup, FixupResult} from './types.js'
import {ResultBuilder} from './util.js'

/**
 * The image has no apt or dpkg (/usr is read-only and replaced whole), so their state and configuration are
 * dead weight that would also mislead tools probing for a package manager. Paths are removed if present;
 * usr/sbin/policy-rc.d is the chroot-era "don't start services" hook some builders leave behind.
 */
export const PACKAGE_MANAGER_PATHS: readonly string[] = [
  'etc/apt',
  'etc/dpkg',
  'usr/sbin/policy-rc.d',
  'var/cache/apt',
  'var/cache/debconf',
  'var/lib/apt',
  'var/lib/dpkg',
  'var/log/apt',
  'var/log/dpkg.log',
]

export const packageManagerLeftoversFixup: Fixup = {
  name: 'package-manager-leftovers',
  replaces: 'nothing: removes apt/dpkg state the image never uses',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    for (const path of PACKAGE_MANAGER_PATHS) {
      if (ctx.tree.get(path) && !ctx.tree.symlinkInParents(path)) {
        ctx.tree.remove(path)
        result.removed(path)
      }
    }
    return result.result()
  },
}
