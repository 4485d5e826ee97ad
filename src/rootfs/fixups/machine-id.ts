import type {Fixup, FixupResult} from './types.js'
import {ResultBuilder} from './util.js'

/**
 * systemd's postinst runs systemd-machine-id-setup, which would bake one id into every machine. The image
 * ships "uninitialized" instead: keel's initrd commits a new id on the first boot, after Ignition, with the
 * presets Ignition wrote (src/initramfs/machine-id.ts); should that fail, systemd in ROOT still sees
 * "uninitialized", treats the boot as the first and does it (machine-id(5)). An empty file would mean
 * "no id yet" but not "first boot".
 */
export const MACHINE_ID_CONTENT = 'uninitialized\n'

export const machineIdFixup: Fixup = {
  name: 'machine-id',
  replaces: 'systemd postinst (systemd-machine-id-setup)',
  async run(ctx): Promise<FixupResult> {
    const result = new ResultBuilder()
    ctx.tree.writeFile('etc/machine-id', MACHINE_ID_CONTENT, {mode: 0o444, owner: 'keel:machine-id'})
    result.wrote('etc/machine-id')
    if (ctx.tree.get('var/lib/dbus/machine-id')) {
      ctx.tree.remove('var/lib/dbus/machine-id')
      result.removed('var/lib/dbus/machine-id')
    }
    return result.result()
  },
}
