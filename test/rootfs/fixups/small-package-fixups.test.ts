import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {opensshServerFixup, SSH_HOSTKEY_CONFIG_PATH, SSH_KEYGEN_UNIT, SSH_KEYGEN_UNIT_PATH, SSH_SERVICE_DROPIN_PATH, SSHD_SERVICE_PATH, SSHD_SOCKET_PATH} from '../../../src/rootfs/fixups/openssh-server.js'
import {resolvedFixup} from '../../../src/rootfs/fixups/resolved.js'
import {BESIDE_THE_BOOT, rewriteBefore, unitOrderFixup} from '../../../src/rootfs/fixups/unit-order.js'
import {statOverridesFixup} from '../../../src/rootfs/fixups/statoverrides.js'
import {unitContext} from './ctx.js'
import {syntheticTree} from './synthetic-tree.js'

describe('openssh-server', () => {
  it('installs sshd_config, a unit that makes the host key on the machine, and per-connection sshd units; no keys', async () => {
    const tree = syntheticTree()
    tree.writeFile('usr/share/openssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n', {owner: 'openssh-server'})
    await opensshServerFixup.run(unitContext(tree, ['openssh-server']))
    expect(readFileSync(tree.hostPath('etc/ssh/sshd_config'), 'utf8')).toBe('Include /etc/ssh/sshd_config.d/*.conf\n')
    const text = (path: string): string => readFileSync(tree.hostPath(path), 'utf8')
    const keygen = text(SSH_KEYGEN_UNIT_PATH)
    expect(keygen).toMatch(/^ConditionPathExists=!\/etc\/ssh\/ssh_host_ed25519_key$/m)
    expect(keygen).toMatch(/^ExecStart=\/usr\/bin\/ssh-keygen -q -t ed25519 -N "" -f \/etc\/ssh\/ssh_host_ed25519_key$/m)
    // Not on the boot's critical path: no default ordering after basic.target, nothing but sshd waits for it.
    expect(keygen).toMatch(/^DefaultDependencies=no$/m)
    // Debian's ssh.service runs `sshd -t` first, which fails without a key; keel's per-connection sshd too.
    for (const unit of [text(SSH_SERVICE_DROPIN_PATH), text(SSHD_SERVICE_PATH)]) {
      expect(unit).toMatch(new RegExp(`^Wants=${SSH_KEYGEN_UNIT}$`, 'm'))
      expect(unit).toMatch(new RegExp(`^After=${SSH_KEYGEN_UNIT}( |$)`, 'm'))
    }
    expect(text(SSHD_SOCKET_PATH)).toMatch(/^ListenStream=22\nAccept=yes$/m)
    expect(text(SSHD_SOCKET_PATH)).toMatch(/^Conflicts=ssh.service$/m)
    expect(text(SSHD_SERVICE_PATH)).toMatch(/^ExecStart=-\/usr\/sbin\/sshd -i -e \$SSHD_OPTS$/m)
    expect(text(SSHD_SERVICE_PATH)).toMatch(/^StandardInput=socket$/m)
    // sshd looks only for the key the machine makes (no errors for the RSA/ECDSA keys that never exist).
    expect(text(SSH_HOSTKEY_CONFIG_PATH)).toMatch(/^HostKey \/etc\/ssh\/ssh_host_ed25519_key$/m)
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

describe('unit-order: packaged units beside the boot', () => {
  // The [Unit] sections as bookworm ships them (systemd 252.39-1~deb12u2, /lib/systemd/system/<unit>).
  const RESOLVED = [
    '[Unit]',
    'Description=Network Name Resolution',
    'DefaultDependencies=no',
    'After=systemd-sysctl.service systemd-sysusers.service',
    'Before=sysinit.target network.target nss-lookup.target shutdown.target initrd-switch-root.target',
    'Conflicts=shutdown.target initrd-switch-root.target',
    'Wants=nss-lookup.target',
    '',
    '[Service]',
    'Type=notify',
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n')
  const TIMESYNCD = [
    '[Unit]',
    'Description=Network Time Synchronization',
    'ConditionCapability=CAP_SYS_TIME',
    'ConditionVirtualization=!container',
    'DefaultDependencies=no',
    'After=systemd-sysusers.service',
    'Before=time-set.target sysinit.target shutdown.target',
    'Conflicts=shutdown.target',
    'Wants=time-set.target',
    '',
    '[Service]',
    'ExecStart=!!/lib/systemd/systemd-timesyncd',
    '',
  ].join('\n')
  const FLUSH = [
    '[Unit]',
    'Description=Flush Journal to Persistent Storage',
    'DefaultDependencies=no',
    'Wants=systemd-journald.service',
    'After=systemd-journald.service systemd-remount-fs.service',
    'Before=systemd-tmpfiles-setup.service',
    'RequiresMountsFor=/var/log/journal',
    'ConditionPathExists=!/etc/initrd-release',
    '',
  ].join('\n')
  const UTMP = [
    '[Unit]',
    'Description=Record System Boot/Shutdown in UTMP',
    'DefaultDependencies=no',
    'RequiresMountsFor=/var/log/wtmp',
    'Conflicts=shutdown.target',
    'After=systemd-remount-fs.service systemd-tmpfiles-setup.service auditd.service',
    'Before=sysinit.target shutdown.target',
    '',
  ].join('\n')
  // `unexpected`: the unit as a changed upstream might ship it; it must be left as shipped.
  const cases = [
    {
      name: 'systemd-resolved.service',
      package: 'systemd-resolved',
      shipped: RESOLVED,
      before: ['Before=nss-lookup.target network-online.target shutdown.target initrd-switch-root.target'],
      unexpected: RESOLVED.replace('Before=sysinit.target ', 'Before='),
    },
    {
      name: 'systemd-timesyncd.service',
      package: 'systemd-timesyncd',
      shipped: TIMESYNCD,
      before: ['Before=time-set.target shutdown.target'],
      unexpected: TIMESYNCD.replace('time-set.target sysinit.target', 'sysinit.target'),
    },
    {name: 'systemd-journal-flush.service', package: 'systemd', shipped: FLUSH, before: [] as string[], unexpected: FLUSH.replace(/^Before=.*$/m, 'Before=sysinit.target')},
    {
      name: 'systemd-update-utmp.service',
      package: 'systemd',
      shipped: UTMP,
      before: ['Before=shutdown.target'],
      unexpected: UTMP.replace('Before=sysinit.target shutdown.target', 'Before=sysinit.target\nBefore=shutdown.target'),
    },
  ]

  it('covers every entry of BESIDE_THE_BOOT', () => {
    expect(cases.map((c) => `usr/lib/systemd/system/${c.name}`)).toEqual(BESIDE_THE_BOOT.map((e) => e.unit))
  })

  for (const {name, package: pkg, shipped, before, unexpected} of cases) {
    const entry = BESIDE_THE_BOOT.find((e) => e.unit === `usr/lib/systemd/system/${name}`)!

    it(`${name}: only the Before= line changes, to ${before.length ? before.join('') : 'none'}`, () => {
      expect(entry.package).toBe(pkg)
      const out = rewriteBefore(shipped, entry.rule)!
      expect(out.split('\n').filter((l) => l.startsWith('Before='))).toEqual(before)
      // Every other line as shipped, in order (After=, RequiresMountsFor= and the conditions stay).
      expect(out.split('\n')).toEqual(shipped.split('\n').flatMap((l) => (l.startsWith('Before=') ? before : [l])))
      expect(rewriteBefore(unexpected, entry.rule)).toBeUndefined()
    })

    it(`${name}: rewritten in the tree (mode kept) only with ${pkg} in the image; an unexpected unit stays as shipped`, async () => {
      const tree = syntheticTree()
      tree.writeFile(entry.unit, shipped, {mode: 0o644, owner: pkg})
      const result = await unitOrderFixup.run(unitContext(tree, [pkg]))
      expect(readFileSync(tree.hostPath(entry.unit), 'utf8').split('\n').filter((l) => l.startsWith('Before='))).toEqual(before)
      expect(tree.get(entry.unit)).toMatchObject({mode: 0o644, owner: 'keel:unit-order'})
      expect(result.written).toEqual([entry.unit])
      expect(result.facts.ordering).toEqual([`${name}: beside the boot`])
      const without = syntheticTree()
      without.writeFile(entry.unit, shipped, {mode: 0o644, owner: pkg})
      expect((await unitOrderFixup.run(unitContext(without))).written).toEqual([])
      const changed = syntheticTree()
      changed.writeFile(entry.unit, unexpected, {mode: 0o644, owner: pkg})
      const asShipped = await unitOrderFixup.run(unitContext(changed, [pkg]))
      expect(asShipped.written).toEqual([])
      expect(asShipped.facts.ordering).toEqual([`${name}: as shipped`])
      expect(readFileSync(changed.hostPath(entry.unit), 'utf8')).toBe(unexpected)
    })
  }
})
