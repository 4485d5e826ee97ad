import type {ImageIdentity} from '../../recipe/types.js'
import type {Fixup, FixupResult} from './types.js'
import {ResultBuilder} from './util.js'

/**
 * os-release(5) for the image, replacing the one base-files ships (which says Debian). The channel goes in
 * VARIANT_ID, the field os-release defines for "which edition of this OS", so update agents can read it
 * without a keel-specific key; BUILD_ID is left out because it would have to be a timestamp or a hash of
 * the finished image, which does not exist yet.
 */
function quote(value: string): string {
  return `"${value.replace(/(["\\`$])/g, '\\$1')}"`
}

export function osReleaseText(image: ImageIdentity): string {
  const fields: Array<[string, string]> = [
    ['NAME', image.name],
    ['ID', image.id],
    ['ID_LIKE', 'debian'],
    ['VERSION', `${image.version} (${image.channel})`],
    ['VERSION_ID', image.version],
    ['PRETTY_NAME', `${image.name} ${image.version} (${image.channel})`],
    ['VARIANT_ID', image.channel],
  ]
  return fields.map(([k, v]) => `${k}=${quote(v)}\n`).join('')
}

export const osReleaseFixup: Fixup = {
  name: 'os-release',
  replaces: "base-files' /usr/lib/os-release and /etc/os-release",
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    ctx.tree.writeFile('usr/lib/os-release', osReleaseText(ctx.recipe.image), {mode: 0o644, owner: 'keel:os-release'})
    ctx.tree.symlink('etc/os-release', '../usr/lib/os-release', {owner: 'keel:os-release'})
    result.wrote('usr/lib/os-release', 'etc/os-release')
    return result.result()
  },
}
