import {FACT_PRELUDE, parseFacts, verdict} from './facts.js'
import type {Check, CheckOutcome} from './types.js'

/**
 * Extra check: Ignition runs once. This first boot came up through the entry that carries
 * `ignition.firstboot`, and once the system was up keel-firstboot-done switched loader.conf's default to an
 * entry without it, so later boots are normal boots.
 */

// The ESP: where systemd-gpt-auto-generator automounted it (/boot, triggered by the ls), else a private mount.
export const FIRST_BOOT_SCRIPT = `${FACT_PRELUDE}
fact firstboot-arg "$(tr ' ' '\\n' < /proc/cmdline | grep -c '^ignition.firstboot')"
fact done-unit "$(systemctl show -p Result --value keel-firstboot-done.service) $(systemctl is-active keel-firstboot-done.service)"
ls /boot/loader/ >/dev/null 2>&1
dev=$(readlink -f /dev/disk/by-partlabel/EFI-SYSTEM)
esp=$(findmnt -n -o TARGET --source "$dev" | head -n 1)
if [ -z "$esp" ]; then esp=/run/keel-test-esp; mkdir -p "$esp"; mount -o ro -t vfat "$dev" "$esp"; fi
default=$(sed -n 's/^default //p' "$esp/loader/loader.conf")
fact loader-default "$default"
fact default-has-firstboot "$(grep '^options' "$esp/loader/entries/$default" 2>/dev/null | grep -c 'ignition.firstboot')"
fact default-entry-exists "$(test -f "$esp/loader/entries/$default" && echo yes || echo no)"
`

export function firstBootVerdict(stdout: string): CheckOutcome {
  const facts = parseFacts(stdout)
  const seen = (name: string) => facts[name] ?? ''
  return verdict(
    [
      {what: 'ignition.firstboot on this boot\'s command line', ok: seen('firstboot-arg') === '1', saw: seen('firstboot-arg'), want: '1'},
      {what: 'keel-firstboot-done.service', ok: seen('done-unit') === 'success active', saw: seen('done-unit'), want: 'success active'},
      {what: 'loader.conf default entry exists', ok: seen('default-entry-exists') === 'yes', saw: `${seen('loader-default')} ${seen('default-entry-exists')}`},
      {what: 'the default entry has no ignition.firstboot', ok: seen('default-has-firstboot') === '0', saw: seen('default-has-firstboot'), want: '0'},
    ],
    `first boot ran with ignition.firstboot; the default is now ${seen('loader-default')} (a normal boot)`,
    facts,
  )
}

export const firstBootCheck: Check = {
  id: 8,
  name: 'first-boot',
  title: 'Ignition runs once: the loader default is switched to the normal entry',
  needs: 'shared-boot',
  async run({guest}) {
    return firstBootVerdict((await guest!.sh('sudo bash -s', {input: FIRST_BOOT_SCRIPT})).stdout)
  },
}
