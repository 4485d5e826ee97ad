import {sha256Hex} from '../../core/hashing.js'
import {FAST_INIT_RUN_FILE} from '../../initramfs/fast-init.js'
import {equals, FACT_PRELUDE, parseFacts, verdict, rootScriptCheck} from './facts.js'
import type {TestFixture} from './fixture.js'
import type {CheckOutcome} from './types.js'

/**
 * Check 1: Ignition ran. Logging in at all proves the key reached an authorized_keys file sshd reads; the
 * script then reads back the user, the key file Ignition wrote, the file with its mode and owner, and the
 * marker unit's result and journal (pure script and verdict; the run is one ssh call). Fact `initrd` says
 * which initrd path booted: keel's /init (keel-init) or systemd's (systemd), for the boot tests to assert.
 */

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

export function ignitionScript(f: TestFixture): string {
  const keyFile = `/home/${f.user}/.ssh/authorized_keys.d/ignition`
  return `${FACT_PRELUDE}
fact platform "$(tr ' ' '\\n' < /proc/cmdline | sed -n 's/^ignition\\.platform\\.id=//p')"
fact initrd "$(cat /${FAST_INIT_RUN_FILE} 2>/dev/null || echo systemd)"
fact user "$(getent passwd ${f.user} | cut -d: -f1,6)"
fact key-lines "$(grep -cxF ${shellQuote(f.publicKey)} ${keyFile} 2>/dev/null)"
fact key-owner "$(stat -c %U ${keyFile} 2>&1)"
fact file-mode "$(stat -c '%a %U:%G' ${f.file.path} 2>&1)"
fact file-sha256 "$(sha256sum < ${f.file.path} 2>&1 | cut -c1-64)"
fact unit-enabled "$(systemctl is-enabled ${f.unit.name} 2>&1)"
fact unit-result "$(systemctl show -p Result --value ${f.unit.name})"
fact unit-status "$(systemctl show -p ExecMainStatus --value ${f.unit.name})"
fact unit-marker-lines "$(journalctl -b -o cat -u ${f.unit.name} | grep -cxF ${shellQuote(f.marker)})"
`
}

export function ignitionVerdict(stdout: string, f: TestFixture): CheckOutcome {
  const facts = parseFacts(stdout)
  const mode = f.file.mode.toString(8)
  return verdict(
    [
      equals(facts, 'user', `${f.user}:/home/${f.user}`, 'user and home'),
      equals(facts, 'key-lines', '1', 'the key in authorized_keys.d/ignition'),
      equals(facts, 'key-owner', f.user, 'key file owner'),
      equals(facts, 'file-mode', `${mode} root:root`, `${f.file.path} mode`),
      equals(facts, 'file-sha256', sha256Hex(f.file.content), `${f.file.path} content`),
      equals(facts, 'unit-enabled', 'enabled', `${f.unit.name} enabled`),
      equals(facts, 'unit-result', 'success', `${f.unit.name} result`),
      equals(facts, 'unit-status', '0', `${f.unit.name} exit status`),
      {what: `${f.unit.name} marker in the journal`, ok: Number(facts['unit-marker-lines'] ?? 0) >= 1, saw: facts['unit-marker-lines'] ?? '', want: '≥ 1'},
    ],
    `${f.user} logs in with the key; ${f.file.path} ${mode} as written; ${f.unit.name} ran and printed its marker`,
    facts,
  )
}

export const ignitionCheck = rootScriptCheck({id: 1, name: 'ignition', title: 'Ignition ran: user with key, file with mode, unit with marker'}, ignitionScript, ignitionVerdict)
