import type {Fixup, FixupResult} from './types.js'
import {ResultBuilder} from './util.js'

/**
 * /etc/hostname: absent. The installer (or base-files on a chroot build) writes the build host's name;
 * keel must not, and an absent file lets systemd use the transient name from DHCP, Ignition or the kernel
 * command line (hostname(5)). /etc/fstab: a comment only. The root, /usr (verity) and /var mounts come from
 * the kernel command line and systemd-gpt-auto/Ignition, not from a static table (see the disk layout note).
 */
export const FSTAB_TEXT = '# keel: mounts come from the kernel command line, GPT partition types and Ignition.\n'

export const hostnameFstabFixup: Fixup = {
  name: 'hostname-fstab',
  replaces: 'installer-written /etc/hostname and /etc/fstab',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    if (ctx.tree.get('etc/hostname')) {
      ctx.tree.remove('etc/hostname')
      result.removed('etc/hostname')
    }
    ctx.tree.writeFile('etc/fstab', FSTAB_TEXT, {mode: 0o644, owner: 'keel:hostname-fstab'})
    result.wrote('etc/fstab')
    return result.result()
  },
}
