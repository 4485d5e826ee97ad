import type {Fixup, FixupResult} from './types.js'
import {hasPackage, readTreeText, ResultBuilder} from './util.js'

/**
 * openssh-server's postinst installs /etc/ssh/sshd_config from /usr/share/openssh/sshd_config (via ucf) and
 * generates host keys. Host keys must never be baked into an image every machine shares, so keel installs
 * the config and a unit that makes the missing key on the machine. Only an Ed25519 host key: `ssh-keygen -A`
 * (RSA-3072 + ECDSA + Ed25519) was the longest step of a first boot (≈16 s of 24 s under emulation), and
 * every maintained client speaks Ed25519.
 *
 * Two ways to run sshd, either enabled by the recipe: Debian's ssh.service (one daemon, Type=notify, started
 * before multi-user.target is reached: 2.4 s of the first boot's critical chain under emulation) and keel's
 * sshd.socket + sshd@.service, one `sshd -i` per connection, as Container Linux and Flatcar ship it: nothing
 * waits for a daemon at boot, and a connection that arrives early queues on the socket. Debian's own
 * ssh.socket (Accept=no) only starts ssh.service. Both wait for the host key unit; nothing else does.
 */
export const SSH_KEYGEN_UNIT = 'keel-sshd-keygen.service'
export const SSH_KEYGEN_UNIT_PATH = `usr/lib/systemd/system/${SSH_KEYGEN_UNIT}`
export const SSH_KEYGEN_UNIT_TEXT = `[Unit]
Description=keel: create this machine's SSH host key
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
# Early and beside the rest of the boot: /etc (on ROOT) is all it needs, and only sshd waits for it.
DefaultDependencies=no
After=local-fs.target
Conflicts=shutdown.target
Before=shutdown.target ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
`
export const SSH_SERVICE_DROPIN_PATH = 'usr/lib/systemd/system/ssh.service.d/keel-host-key.conf'
export const SSH_SERVICE_DROPIN = `# keel: the host key is made on the machine (${SSH_KEYGEN_UNIT}), before Debian's \`sshd -t\` check needs it.
[Unit]
Wants=${SSH_KEYGEN_UNIT}
After=${SSH_KEYGEN_UNIT}
`
export const SSHD_SOCKET_PATH = 'usr/lib/systemd/system/sshd.socket'
export const SSHD_SOCKET = `[Unit]
Description=keel: OpenSSH server socket (one sshd per connection)
Documentation=man:sshd(8) man:sshd_config(5)
Conflicts=ssh.service
Wants=${SSH_KEYGEN_UNIT}
ConditionPathExists=!/etc/ssh/sshd_not_to_be_run

[Socket]
ListenStream=22
Accept=yes

[Install]
WantedBy=sockets.target
`
export const SSHD_SERVICE_PATH = 'usr/lib/systemd/system/sshd@.service'
export const SSHD_SERVICE = `[Unit]
Description=keel: OpenSSH per-connection server
Documentation=man:sshd(8) man:sshd_config(5)
Wants=${SSH_KEYGEN_UNIT}
After=${SSH_KEYGEN_UNIT} auditd.service

[Service]
EnvironmentFile=-/etc/default/ssh
ExecStart=-/usr/sbin/sshd -i -e $SSHD_OPTS
StandardInput=socket
StandardError=journal
# sshd's privilege-separation directory; kept while other connections' daemons still use it.
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755
RuntimeDirectoryPreserve=yes
`
export const SSH_HOSTKEY_CONFIG_PATH = 'etc/ssh/sshd_config.d/05-keel-host-key.conf'
export const SSH_HOSTKEY_CONFIG = `# keel: the one host key ${SSH_KEYGEN_UNIT} creates on the machine.
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
    const files: Array<[string, string]> = [
      [SSH_KEYGEN_UNIT_PATH, SSH_KEYGEN_UNIT_TEXT],
      [SSH_SERVICE_DROPIN_PATH, SSH_SERVICE_DROPIN],
      [SSHD_SOCKET_PATH, SSHD_SOCKET],
      [SSHD_SERVICE_PATH, SSHD_SERVICE],
      [SSH_HOSTKEY_CONFIG_PATH, SSH_HOSTKEY_CONFIG],
    ]
    for (const [path, text] of files) {
      tree.writeFile(path, text, {mode: 0o644, owner: 'keel:openssh-server'})
      result.wrote(path)
    }
    return result.result()
  },
}
