import type {Fixup, FixupResult} from './types.js'
import {hasPackage, readTreeText, ResultBuilder} from './util.js'

/**
 * openssh-server's postinst installs /etc/ssh/sshd_config from /usr/share/openssh/sshd_config (via ucf) and
 * generates host keys. Host keys must never be baked into an image every machine shares, so keel installs
 * the config and adds a drop-in that generates the missing key before Debian's own `sshd -t` check on first
 * start. Only an Ed25519 host key: `ssh-keygen -A` (RSA-3072 + ECDSA + Ed25519) was the longest step of a
 * first boot (≈16 s of 24 s under emulation), and every maintained client speaks Ed25519.
 */
export const SSH_KEYGEN_DROPIN_PATH = 'usr/lib/systemd/system/ssh.service.d/keel-host-keys.conf'
export const SSH_KEYGEN_DROPIN = `# keel: host keys are per machine, created on first start (openssh-server's postinst did it at install).
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || exec /usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
ExecStartPre=/usr/sbin/sshd -t
`
export const SSH_HOSTKEY_CONFIG_PATH = 'etc/ssh/sshd_config.d/05-keel-host-key.conf'
export const SSH_HOSTKEY_CONFIG = `# keel: the one host key the first start creates (see ${'usr/lib/systemd/system/ssh.service.d/keel-host-keys.conf'}).
HostKey /etc/ssh/ssh_host_ed25519_key
`

export const opensshServerFixup: Fixup = {
  name: 'openssh-server',
  replaces: 'openssh-server postinst (create_sshdconfig, create_keys)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    if (!hasPackage(ctx.packages, 'openssh-server')) return result.result()
    const template = readTreeText(tree, 'usr/share/openssh/sshd_config')
    if (template !== undefined && !tree.get('etc/ssh/sshd_config')) {
      tree.writeFile('etc/ssh/sshd_config', template, {mode: 0o644, owner: 'keel:openssh-server'})
      result.wrote('etc/ssh/sshd_config')
    }
    tree.writeFile(SSH_KEYGEN_DROPIN_PATH, SSH_KEYGEN_DROPIN, {mode: 0o644, owner: 'keel:openssh-server'})
    result.wrote(SSH_KEYGEN_DROPIN_PATH)
    tree.writeFile(SSH_HOSTKEY_CONFIG_PATH, SSH_HOSTKEY_CONFIG, {mode: 0o644, owner: 'keel:openssh-server'})
    result.wrote(SSH_HOSTKEY_CONFIG_PATH)
    return result.result()
  },
}
