import type {Fixup, FixupResult} from './types.js'
import {hasPackage, ResultBuilder} from './util.js'

/** systemd-resolved's postinst points /etc/resolv.conf at the stub resolver's file in /run. */
export const RESOLV_CONF_TARGET = '../run/systemd/resolve/stub-resolv.conf'

export const resolvedFixup: Fixup = {
  name: 'systemd-resolved',
  replaces: 'systemd-resolved postinst (ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf)',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'systemd-resolved')) return result.result()
    ctx.tree.symlink('etc/resolv.conf', RESOLV_CONF_TARGET, {owner: 'keel:systemd-resolved'})
    result.wrote('etc/resolv.conf')
    return result.result()
  },
}
