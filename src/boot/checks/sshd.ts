import {equals, FACT_PRELUDE, parseFacts, verdict} from './facts.js'
import type {Check, CheckOutcome} from './types.js'

/**
 * Extra check: sshd came up on its first start with exactly one host key, an Ed25519 one made on the machine
 * (the openssh-server fix-up replaces `ssh-keygen -A`, the slowest first-boot step under emulation).
 */

export const SSHD_SCRIPT = `${FACT_PRELUDE}
fact active "$(systemctl is-active ssh.service)"
fact host-keys "$(ls /etc/ssh/ | grep '^ssh_host_.*_key$' | sort)"
`

export function sshdVerdict(stdout: string): CheckOutcome {
  const facts = parseFacts(stdout)
  return verdict(
    [equals(facts, 'active', 'active', 'ssh.service'), equals(facts, 'host-keys', 'ssh_host_ed25519_key', 'host keys')],
    'ssh.service active with one host key (Ed25519)',
    facts,
  )
}

export const sshdCheck: Check = {
  id: 7,
  name: 'sshd',
  title: 'sshd is active with exactly one host key (Ed25519)',
  needs: 'shared-boot',
  async run({guest}) {
    return sshdVerdict((await guest!.sh('sudo bash -s', {input: SSHD_SCRIPT})).stdout)
  },
}
