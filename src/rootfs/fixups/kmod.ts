import type {Fixup, FixupResult} from './types.js'
import {hasPackage, ResultBuilder} from './util.js'

/** kmod's postinst creates /etc/modules (modules to load at boot) when it is missing. */
export const ETC_MODULES_TEXT = `# /etc/modules: kernel modules to load at boot time.
#
# This file contains the names of kernel modules that should be loaded
# at boot time, one per line. Lines beginning with "#" are ignored.
# Parameters can be specified after the module name.

`

export const kmodFixup: Fixup = {
  name: 'kmod',
  replaces: 'kmod postinst (create_etc_modules)',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'kmod') || ctx.tree.get('etc/modules')) return result.result()
    ctx.tree.writeFile('etc/modules', ETC_MODULES_TEXT, {mode: 0o644, owner: 'keel:kmod'})
    result.wrote('etc/modules')
    return result.result()
  },
}
