import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {opensshServerFixup, SSH_HOSTKEY_CONFIG_PATH, SSH_KEYGEN_DROPIN_PATH} from '../../../src/rootfs/fixups/openssh-server.js'
import {resolvedFixup} from '../../../src/rootfs/fixups/resolved.js'
import {statOverridesFixup} from '../../../src/rootfs/fixups/statoverrides.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('openssh-server', () => {
  it('installs sshd_config from the package template and a first-start host key drop-in, no keys', async () => {
    const tree = syntheticTree()
    tree.writeFile('usr/share/openssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n', {owner: 'openssh-server'})
    await opensshServerFixup.run(unitContext(tree, ['openssh-server']))
    expect(readFileSync(tree.hostPath('etc/ssh/sshd_config'), 'utf8')).toBe('Include /etc/ssh/sshd_config.d/*.conf\n')
    const dropin = readFileSync(tree.hostPath(SSH_KEYGEN_DROPIN_PATH), 'utf8')
    // keygen must run before Debian's `sshd -t`, which fails without keys: reset the list, keygen first.
    expect(dropin.split('\n').filter((l) => l.startsWith('ExecStartPre'))).toEqual([
      'ExecStartPre=',
      `ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || exec /usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'`,
      'ExecStartPre=/usr/sbin/sshd -t',
    ])
    // sshd looks only for the key the first start makes (no errors for the RSA/ECDSA keys that never exist).
    expect(readFileSync(tree.hostPath(SSH_HOSTKEY_CONFIG_PATH), 'utf8')).toMatch(/^HostKey \/etc\/ssh\/ssh_host_ed25519_key$/m)
    expect([...tree.entries.keys()].some((k) => k.includes('ssh_host_'))).toBe(false)
  })

  it('does nothing without the package, and keeps an sshd_config that exists', async () => {
    const tree = syntheticTree()
    expect((await opensshServerFixup.run(unitContext(tree))).written).toEqual([])
    tree.writeFile('usr/share/openssh/sshd_config', 'template\n', {owner: 'openssh-server'})
    tree.writeFile('etc/ssh/sshd_config', 'mine\n', {owner: 'x'})
    await opensshServerFixup.run(unitContext(tree, ['openssh-server']))
    expect(readFileSync(tree.hostPath('etc/ssh/sshd_config'), 'utf8')).toBe('mine\n')
  })
})

describe('systemd-resolved', () => {
  it('points /etc/resolv.conf at the stub resolver', async () => {
    const tree = syntheticTree()
    await resolvedFixup.run(unitContext(tree, ['systemd-resolved']))
    expect(tree.get('etc/resolv.conf')).toMatchObject({type: 'symlink', linkTarget: '../run/systemd/resolve/stub-resolv.conf'})
    const other = syntheticTree()
    await resolvedFixup.run(unitContext(other))
    expect(other.get('etc/resolv.conf')).toBeUndefined()
  })
})

describe('stat-overrides', () => {
  it('sets the dbus launch helper to root:messagebus 4754 and ssh-agent to root:_ssh 2755 in the manifest', async () => {
    const tree = syntheticTree()
    tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n', {owner: 'keel:accounts'})
    tree.writeFile('etc/group', 'root:x:0:\nmessagebus:x:998:\n_ssh:x:101:\n', {owner: 'keel:accounts'})
    tree.writeFile('usr/lib/dbus-1.0/dbus-daemon-launch-helper', 'elf', {mode: 0o755, owner: 'dbus-daemon'})
    tree.writeFile('usr/bin/ssh-agent', 'elf', {mode: 0o755, owner: 'openssh-client'})
    await statOverridesFixup.run(unitContext(tree, ['dbus-daemon', 'openssh-client']))
    expect(tree.get('usr/lib/dbus-1.0/dbus-daemon-launch-helper')).toMatchObject({mode: 0o4754, uid: 0, gid: 998, owner: 'dbus-daemon'})
    expect(tree.get('usr/bin/ssh-agent')).toMatchObject({mode: 0o2755, uid: 0, gid: 101})
  })

  it('falls back to setuid root for ping, through the merged-/usr link, as the postinst does without setcap', async () => {
    const tree = syntheticTree()
    tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n', {owner: 'keel:accounts'})
    tree.writeFile('etc/group', 'root:x:0:\n', {owner: 'keel:accounts'})
    tree.writeFile('usr/bin/ping', 'elf', {mode: 0o755, owner: 'iputils-ping'})
    await statOverridesFixup.run(unitContext(tree, ['iputils-ping']))
    expect(tree.get('usr/bin/ping')).toMatchObject({mode: 0o4755, uid: 0, gid: 0})
  })

  it('makes /etc/sudoers 0440 as sudo\'s postinst does (the .deb ships it 0644)', async () => {
    const tree = syntheticTree()
    tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n', {owner: 'keel:accounts'})
    tree.writeFile('etc/group', 'root:x:0:\n', {owner: 'keel:accounts'})
    tree.writeFile('etc/sudoers', 'root ALL=(ALL:ALL) ALL\n', {mode: 0o644, owner: 'sudo'})
    const r = await statOverridesFixup.run(unitContext(tree, ['sudo']))
    expect(tree.get('etc/sudoers')).toMatchObject({mode: 0o440, uid: 0, gid: 0, owner: 'sudo'})
    expect(r.facts.overridden).toEqual(['/etc/sudoers root:root 440'])
  })
})
