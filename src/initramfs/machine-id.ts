import type {InitrdOp} from './plan.js'

/**
 * The machine's first boot, finished in the initrd (pure: the files, as InitrdOps). The image ships
 * /etc/machine-id as "uninitialized"; left so, systemd in ROOT detects a first boot and walks every unit file
 * against the presets (1.6 s of the first boot under emulation) — work keel already did at build time, when
 * the units fix-up applied the image's presets. What is left of it is what Ignition asked for: its files stage
 * writes `enable`/`disable` lines to 20-ignition.preset and relies on that walk. So after Ignition, before the
 * switch to ROOT, this unit applies exactly those lines with `systemctl --root=/sysroot preset` and commits a
 * new machine ID, and ROOT's systemd starts a normal boot.
 *
 * Ignition's `enabled: false` writes `disable`: it is applied in full preset mode (disable means disable),
 * where the first-boot walk (enable-only) would have left an enabled unit enabled. Units that need the first
 * boot order on `ignition.firstboot` (ConditionKernelCommandLine=), not ConditionFirstBoot=.
 */

export const MACHINE_ID_UNIT = 'keel-machine-id.service'
export const MACHINE_ID_SCRIPT = 'usr/lib/keel/machine-id'
/** Where Ignition's files stage writes the presets of the units it enables or disables. */
export const IGNITION_PRESET = 'etc/systemd/system-preset/20-ignition.preset'

// bash: the initrd has no /bin/sh. Template lines are `enable name@.service inst1 inst2`.
const SCRIPT = `#!/bin/bash
# keel: apply the unit presets Ignition wrote and commit the machine ID, so systemd in ROOT starts a normal
# boot (no preset walk). See src/initramfs/machine-id.ts in keel.
set -eu
root=\${KEEL_SYSROOT:-/sysroot}
preset="$root/${IGNITION_PRESET}"
if [ -e "$preset" ]; then
  units=()
  while read -r verb unit instances; do
    case "$verb" in enable|disable) ;; *) continue ;; esac
    if [ -n "\${instances:-}" ] && [[ "$unit" == *@.* ]]; then
      for instance in $instances; do units+=("\${unit/@./@$instance.}"); done
    else
      units+=("$unit")
    fi
  done < "$preset"
  if [ \${#units[@]} -gt 0 ]; then
    echo "keel-machine-id: applying Ignition's presets: \${units[*]}"
    systemctl --root="$root" --preset-mode=full preset "\${units[@]}"
  fi
fi
id=
read -r id < "$root/etc/machine-id" || true
if [ -z "$id" ] || [ "$id" = uninitialized ]; then
  systemd-machine-id-setup --root="$root"
fi
`

const UNIT = `[Unit]
Description=keel: apply Ignition's unit presets and commit the machine ID before switching to ROOT
DefaultDependencies=no
After=sysroot.mount sysroot-usr.mount ignition-files.service
Before=initrd.target
ConditionPathExists=/sysroot/etc/machine-id

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/${MACHINE_ID_SCRIPT}
StandardOutput=journal+console
`

/** The script, the unit and its link into initrd.target. */
export function machineIdOps(): InitrdOp[] {
  return [
    {op: 'write', path: MACHINE_ID_SCRIPT, content: SCRIPT, mode: 0o755},
    {op: 'write', path: `usr/lib/systemd/system/${MACHINE_ID_UNIT}`, content: UNIT, mode: 0o644},
    {op: 'symlink', path: `usr/lib/systemd/system/initrd.target.wants/${MACHINE_ID_UNIT}`, target: `../${MACHINE_ID_UNIT}`},
  ]
}
