import {KeelError} from '../../core/errors.js'
import {enabledProfiles, PAM_TYPES, parsePamProfile, renderCommonFile} from './pam-auth-update.js'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, listTreeDir, readTreeText, ResultBuilder} from './util.js'

/**
 * PAM's shared stacks. libpam-runtime's postinst runs `pam-auth-update --package` (with --force when
 * /etc/pam.d/common-* do not exist yet), which builds the common-* files every PAM service includes; without
 * them sshd, sudo and login cannot authenticate anyone. libpam-modules' postinst creates
 * /etc/security/opasswd (0600) and /etc/environment. pam-auth-update's saved state (/var/lib/pam) is not
 * written: nothing on the image runs the tool again through dpkg.
 */
const OWNER = 'keel:pam'

export const pamFixup: Fixup = {
  name: 'pam',
  replaces: 'libpam-runtime postinst (pam-auth-update --package), libpam-modules postinst',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    if (hasPackage(ctx.packages, 'libpam-runtime')) {
      const profiles = listTreeDir(tree, 'usr/share/pam-configs')
        .filter((n) => !n.endsWith('~') && !/^#.+#$/.test(n))
        .map((n) => parsePamProfile(n, readTreeText(tree, `usr/share/pam-configs/${n}`) ?? ''))
      const enabled = enabledProfiles(profiles)
      result.fact('profiles', ...enabled.map((p) => p.name))
      for (const type of PAM_TYPES) {
        const target = `etc/pam.d/common-${type}`
        if (tree.get(target)) continue
        const template = readTreeText(tree, `usr/share/pam/common-${type}`)
        if (template === undefined) continue
        const text = renderCommonFile(template, type, enabled)
        if (text === undefined) throw new KeelError(`/usr/share/pam/common-${type} lacks pam-auth-update's block markers`, 'internal')
        tree.writeFile(target, text, {mode: 0o644, owner: OWNER})
        result.wrote(target)
      }
    }
    if (hasPackage(ctx.packages, 'libpam-modules')) {
      for (const [path, mode] of [['etc/security/opasswd', 0o600], ['etc/environment', 0o644]] as const) {
        if (tree.get(path)) continue
        tree.writeFile(path, '', {mode, owner: OWNER})
        result.wrote(path)
      }
    }
    return result.result()
  },
}
