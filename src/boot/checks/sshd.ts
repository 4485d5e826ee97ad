import {equals, FACT_PRELUDE, parseFacts, verdict, rootScriptCheck} from './facts.js'
import type {CheckOutcome} from './types.js'

/**
 * Extra check: sshd serves port 22 — keel's sshd.socket (one sshd per connection) or Debian's ssh.service,
 * whichever the recipe enabled — with exactly one host key, an Ed25519 one made on the machine (the
 * openssh-server fix-up's keel-sshd-keygen.service replaces `ssh-keygen -A`, the slowest first-boot step under
 * emulation).
 */

export const SSHD_SCRIPT = `${FACT_PRELUDE}
fact socket "$(systemctl is-active sshd.socket)"
fact service "$(systemctl is-active ssh.service)"
fact keygen "$(systemctl show -p Result --value keel-sshd-keygen.service)"
fact host-keys "$(ls /etc/ssh/ | grep '^ssh_host_.*_key$' | sort)"
`

export function sshdVerdict(stdout: string): CheckOutcome {
  const facts = parseFacts(stdout)
  const serving = facts.socket === 'active' ? 'sshd.socket' : facts.service === 'active' ? 'ssh.service' : ''
  return verdict(
    [
      {what: 'sshd.socket or ssh.service active', ok: serving !== '', saw: `sshd.socket ${facts.socket ?? '?'}, ssh.service ${facts.service ?? '?'}`},
      equals(facts, 'keygen', 'success', 'keel-sshd-keygen.service result'),
      equals(facts, 'host-keys', 'ssh_host_ed25519_key', 'host keys'),
    ],
    `${serving} serves ssh with one host key (Ed25519)`,
    facts,
  )
}

export const sshdCheck = rootScriptCheck({id: 7, name: 'sshd', title: 'sshd serves port 22 with exactly one host key (Ed25519)'}, SSHD_SCRIPT, sshdVerdict)
