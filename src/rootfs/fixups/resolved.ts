import {readFileSync} from 'node:fs'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, ResultBuilder} from './util.js'

/** systemd-resolved's postinst points /etc/resolv.conf at the stub resolver's file in /run. */
export const RESOLV_CONF_TARGET = '../run/systemd/resolve/stub-resolv.conf'
export const RESOLVED_UNIT = 'usr/lib/systemd/system/systemd-resolved.service'

/**
 * keel's ordering for resolved: it starts beside the boot instead of before sysinit.target and network.target.
 * Upstream orders it before both, so every boot waits for it — under emulation its start (sandbox set-up, trust
 * anchors, sockets) was the longest link of ROOT's chain: 2.3-2.8 s, and the Ignition marker came a median
 * 0.5-2 s sooner without it (interleaved boots). Name lookups keep their contract: resolved is still before
 * nss-lookup.target (what units that resolve names at start order after, per systemd.special(7)) and, added
 * here, before network-online.target, so units that wait for the network also find DNS there. A dependency
 * cannot be dropped by a drop-in, so the packaged unit's Before= line is rewritten; anything else is kept.
 * Returns undefined when the unit does not have the line this expects (then it is left as Debian ships it).
 */
export function resolvedBesideTheBoot(unit: string): string | undefined {
  const line = /^Before=(.*)$/m.exec(unit)
  if (!line) return undefined
  const targets = line[1]!.split(/\s+/).filter(Boolean)
  if (!targets.includes('sysinit.target') || !targets.includes('network.target') || !targets.includes('nss-lookup.target')) return undefined
  const kept = targets.filter((t) => t !== 'sysinit.target' && t !== 'network.target')
  kept.splice(kept.indexOf('nss-lookup.target') + 1, 0, 'network-online.target')
  return unit.replace(line[0], `Before=${kept.join(' ')}`)
}

export const resolvedFixup: Fixup = {
  name: 'systemd-resolved',
  replaces: 'systemd-resolved postinst (ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf); keel: resolved ordered beside the boot',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'systemd-resolved')) return result.result()
    ctx.tree.symlink('etc/resolv.conf', RESOLV_CONF_TARGET, {owner: 'keel:systemd-resolved'})
    result.wrote('etc/resolv.conf')
    const entry = ctx.tree.get(RESOLVED_UNIT)
    if (entry?.type === 'file') {
      const reordered = resolvedBesideTheBoot(readFileSync(ctx.tree.hostPath(RESOLVED_UNIT), 'utf8'))
      if (reordered === undefined) {
        ctx.reporter.info(`systemd-resolved: ${RESOLVED_UNIT} has no Before=sysinit.target network.target nss-lookup.target line; its ordering is left as shipped`)
        result.fact('ordering', 'as shipped')
      } else {
        ctx.tree.writeFile(RESOLVED_UNIT, reordered, {mode: entry.mode, owner: 'keel:systemd-resolved'})
        result.wrote(RESOLVED_UNIT)
        result.fact('ordering', 'beside the boot')
      }
    }
    return result.result()
  },
}
