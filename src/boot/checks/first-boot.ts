import {FACT_PRELUDE, parseFacts, verdict, rootScriptCheck} from './facts.js'
import type {CheckOutcome} from './types.js'

/**
 * Extra check: Ignition runs once. This first boot came up with `ignition.firstboot`, and once the system
 * was up keel-firstboot-done made the loader's default an entry without it, so later boots are normal boots.
 * loader.conf's `default` may be a glob (A/B entries with boot counting): every entry it matches counts.
 */

// The ESP: on /boot, where keel's boot.automount mounts it on the ls (src/build/esp-mount.ts), else a private mount.
// `case NAME in $default)` matches the entry file names against the default as a glob, as systemd-boot does.
export const FIRST_BOOT_SCRIPT = `${FACT_PRELUDE}
fact firstboot-arg "$(tr ' ' '\\n' < /proc/cmdline | grep -c '^ignition.firstboot')"
fact done-unit "$(systemctl show -p Result --value keel-firstboot-done.service) $(systemctl is-active keel-firstboot-done.service)"
ls /boot/loader/ >/dev/null 2>&1
dev=$(readlink -f /dev/disk/by-partlabel/EFI-SYSTEM)
fact esp-on-boot "$([ "$(findmnt -n -o SOURCE -t vfat /boot | head -n 1)" = "$dev" ] && echo 1 || echo 0)"
esp=$(findmnt -n -o TARGET --source "$dev" | head -n 1)
if [ -z "$esp" ]; then esp=/run/keel-test-esp; mkdir -p "$esp"; mount -o ro -t vfat "$dev" "$esp"; fi
default=$(sed -n 's/^default //p' "$esp/loader/loader.conf")
matched=""; flagged=0
for entry in "$esp"/loader/entries/*.conf; do
  name=$(basename "$entry")
  case "$name" in $default)
    matched="$matched $name"
    if grep '^options' "$entry" | grep -q 'ignition.firstboot'; then flagged=$((flagged + 1)); fi;;
  esac
done
fact loader-default "$default"
fact default-entries "$matched"
fact default-has-firstboot "$flagged"
`

export function firstBootVerdict(stdout: string): CheckOutcome {
  const facts = parseFacts(stdout)
  const seen = (name: string) => facts[name] ?? ''
  return verdict(
    [
      {what: 'ignition.firstboot on this boot\'s command line', ok: seen('firstboot-arg') === '1', saw: seen('firstboot-arg'), want: '1'},
      {what: 'keel-firstboot-done.service', ok: seen('done-unit') === 'success active', saw: seen('done-unit'), want: 'success active'},
      {what: 'the ESP mounted on /boot when read', ok: seen('esp-on-boot') === '1', saw: seen('esp-on-boot'), want: '1'},
      {what: `entries matching the loader default '${seen('loader-default')}'`, ok: seen('default-entries') !== '', saw: seen('default-entries')},
      {what: 'default entries with ignition.firstboot', ok: seen('default-has-firstboot') === '0', saw: seen('default-has-firstboot'), want: '0'},
    ],
    `first boot ran with ignition.firstboot; the default now boots ${seen('default-entries') || '?'} (normal boot)`,
    facts,
  )
}

export const firstBootCheck = rootScriptCheck({id: 8, name: 'first-boot', needsDisk: true, title: 'Ignition runs once: the loader default is switched to the normal entry'}, FIRST_BOOT_SCRIPT, firstBootVerdict)
