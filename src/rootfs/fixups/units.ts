import {KeelError, ToolFailedError} from '../../core/errors.js'
import {run} from '../../exec/run.js'
import type {Fixup, FixupResult} from './types.js'
import {hasPackage, recordDiskChanges, resolveInTree, ResultBuilder, snapshotDisk} from './util.js'

/**
 * Unit enablement. Debian ships no preset files; its postinsts enable units one by one (deb-systemd-helper
 * enable, or systemctl enable in systemd's). With no preset file at all, systemd's built-in preset policy is
 * "enable everything", which PID 1 applies on a first boot (machine-id "uninitialized") — so keel writes two
 * preset files: 80-keel.preset (the recipe's disables, then Debian's default enables for packages in the
 * set, then the recipe's enables) and 99-keel-default.preset (`disable *`, as Fedora CoreOS does). Then
 * `systemctl --root preset-all` applies them, the recipe's lists are applied explicitly (so a misspelt unit
 * to enable is an error; masking a unit that does not exist is allowed), and the default target is set.
 * Everything systemctl links is recorded in the manifest by diffing the unit directories.
 */
export interface DefaultEnable {
  package: string
  unit: string
}

/** Units bookworm postinsts enable on a new install (read from the scripts; see the README). */
export const DEBIAN_DEFAULT_ENABLES: readonly DefaultEnable[] = [
  {package: 'systemd', unit: 'getty@tty1.service'},
  {package: 'systemd', unit: 'remote-fs.target'},
  {package: 'systemd', unit: 'systemd-pstore.service'},
  {package: 'systemd-timesyncd', unit: 'systemd-timesyncd.service'},
  {package: 'systemd-resolved', unit: 'systemd-resolved.service'},
  {package: 'openssh-server', unit: 'ssh.service'},
  {package: 'containerd', unit: 'containerd.service'},
  {package: 'e2fsprogs', unit: 'e2scrub_all.timer'},
  {package: 'e2fsprogs', unit: 'e2scrub_reap.service'},
  {package: 'util-linux', unit: 'fstrim.timer'},
]

export const DEFAULT_TARGET = 'multi-user.target'
export const KEEL_PRESET = 'usr/lib/systemd/system-preset/80-keel.preset'
export const DEFAULT_PRESET = 'usr/lib/systemd/system-preset/99-keel-default.preset'

/** A preset line for a unit, template instances as `enable name@.service instance`. */
function presetLine(verb: 'enable' | 'disable', unit: string): string {
  const m = /^(.+)@(.+)(\.[a-z]+)$/.exec(unit)
  return m && verb === 'enable' ? `enable ${m[1]}@${m[3]} ${m[2]}` : `${verb} ${unit}`
}

/** The text of 80-keel.preset. First match wins in preset files, so the recipe's disables come first. */
export function keelPresetText(debianDefaults: string[], units: {enable: string[]; disable: string[]; mask: string[]}): string {
  const off = new Set([...units.disable, ...units.mask])
  const lines = ['# keel: the recipe\'s disables, Debian\'s default enables, the recipe\'s enables.']
  for (const u of [...units.disable, ...units.mask]) lines.push(presetLine('disable', u))
  const enables = [...new Set([...debianDefaults, ...units.enable])].filter((u) => !off.has(u))
  for (const u of enables) lines.push(presetLine('enable', u))
  return `${lines.join('\n')}\n`
}

export const DEFAULT_PRESET_TEXT = '# keel: anything not named by an earlier preset file stays disabled, also on first boot.\ndisable *\n'

const UNIT_DIRS = ['etc/systemd', 'usr/lib/systemd']

async function systemctl(root: string, args: string[]): Promise<void> {
  try {
    await run('systemctl', [`--root=${root}`, '--no-reload', ...args], {env: {SYSTEMD_OFFLINE: '1', SYSTEMCTL_SKIP_SYSV: '1'}})
  } catch (err) {
    if (err instanceof ToolFailedError) {
      throw new KeelError(`systemctl ${args.join(' ')} failed in the image root:\n${err.stderrTail}`, 'input', 'check the unit names under units: in the recipe')
    }
    throw err
  }
}

export const unitsFixup: Fixup = {
  name: 'units',
  replaces: 'deb-systemd-helper enable / systemctl enable in postinsts; the recipe\'s units: section',
  async run(ctx): Promise<FixupResult> {
    const {tree, recipe} = ctx
    const result = new ResultBuilder()
    if (!tree.get(resolveInTree(tree, 'usr/lib/systemd/system'))) {
      const asked = [...recipe.units.enable, ...recipe.units.disable, ...recipe.units.mask]
      if (asked.length > 0) throw new KeelError(`the recipe's units: section names ${asked.join(', ')}, but the image has no systemd unit directory`, 'input', 'add systemd to the packages')
      ctx.reporter.info('units: no /usr/lib/systemd/system in the image; nothing to enable')
      return result.result()
    }
    const debianDefaults = DEBIAN_DEFAULT_ENABLES.filter((d) => hasPackage(ctx.packages, d.package)).map((d) => d.unit)
    tree.writeFile(KEEL_PRESET, keelPresetText(debianDefaults, recipe.units), {mode: 0o644, owner: 'keel:units'})
    tree.writeFile(DEFAULT_PRESET, DEFAULT_PRESET_TEXT, {mode: 0o644, owner: 'keel:units'})
    result.wrote(KEEL_PRESET, DEFAULT_PRESET)

    const before = snapshotDisk(tree, UNIT_DIRS)
    await systemctl(tree.dir, ['preset-all'])
    if (recipe.units.enable.length > 0) await systemctl(tree.dir, ['enable', ...recipe.units.enable])
    if (recipe.units.disable.length > 0) await systemctl(tree.dir, ['disable', ...recipe.units.disable])
    if (recipe.units.mask.length > 0) await systemctl(tree.dir, ['mask', ...recipe.units.mask])
    await systemctl(tree.dir, ['set-default', DEFAULT_TARGET])
    const changes = recordDiskChanges(tree, before, snapshotDisk(tree, UNIT_DIRS), 'keel:units')
    result.wrote(...changes.written)
    result.removed(...changes.removed)

    result.fact('debianDefaults', ...debianDefaults)
    result.fact('enabled', ...recipe.units.enable)
    result.fact('disabled', ...recipe.units.disable)
    result.fact('masked', ...recipe.units.mask)
    result.fact('defaultTarget', DEFAULT_TARGET)
    return result.result()
  },
}
