import type {Fixup, FixupResult} from './types.js'
import {hasPackage, ResultBuilder} from './util.js'

/**
 * netbase's postinst writes /etc/hosts and /etc/networks on a first install. The hosts file names no host
 * (the hostname is per machine; nss-myhostname or the DHCP client resolve it).
 */
export const HOSTS_TEXT = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n'
export const NETWORKS_TEXT = 'default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n'

export const netbaseFixup: Fixup = {
  name: 'netbase',
  replaces: 'netbase postinst (create_hosts_file, create_networks_file)',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'netbase')) return result.result()
    for (const [path, text] of [['etc/hosts', HOSTS_TEXT], ['etc/networks', NETWORKS_TEXT]] as const) {
      if (ctx.tree.get(path)) continue
      ctx.tree.writeFile(path, text, {mode: 0o644, owner: 'keel:netbase'})
      result.wrote(path)
    }
    return result.result()
  },
}
