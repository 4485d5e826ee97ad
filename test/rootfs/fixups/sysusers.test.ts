import {describe, expect, it} from 'vitest'
import {parseGroup, parsePasswd} from '../../../src/rootfs/fixups/accounts-db.js'
import {applySysusers, parseSysusers, splitSysusersFields} from '../../../src/rootfs/fixups/sysusers.js'

describe('sysusers.d parsing', () => {
  it('splits fields with quotes', () => {
    expect(splitSysusersFields('u systemd-network - "systemd Network Management"')).toEqual(['u', 'systemd-network', '-', 'systemd Network Management'])
    expect(splitSysusersFields("u  x\t1:2 'a b' /home/x   /bin/sh")).toEqual(['u', 'x', '1:2', 'a b', '/home/x', '/bin/sh'])
    expect(() => splitSysusersFields('u x - "open')).toThrow(/unterminated/)
  })

  it('parses u, g, m, r lines and skips comments', () => {
    const items = parseSysusers('# c\n\ng adm 4 -\nu! nobody 65534:65534 - /nonexistent /usr/sbin/nologin\nm alice adm\nr - 500-900\n', '/usr/lib/sysusers.d/t.conf')
    expect(items.map((i) => [i.type, i.name, i.id, i.home, i.shell, i.origin])).toEqual([
      ['g', 'adm', '4', undefined, undefined, '/usr/lib/sysusers.d/t.conf:3'],
      ['u', 'nobody', '65534:65534', '/nonexistent', '/usr/sbin/nologin', '/usr/lib/sysusers.d/t.conf:4'],
      ['m', 'alice', 'adm', undefined, undefined, '/usr/lib/sysusers.d/t.conf:5'],
      ['r', '-', '500-900', undefined, undefined, '/usr/lib/sysusers.d/t.conf:6'],
    ])
    expect(() => parseSysusers('x foo -\n', 'f')).toThrow(/f:1: unknown sysusers line type 'x'/)
  })
})

describe('applySysusers', () => {
  // Expected ids below are what systemd-sysusers 252 --root printed for bookworm's own files on top of
  // base-passwd's masters (basic.conf, dbus.conf, systemd-journal.conf, systemd-network.conf, ...):
  //   Creating group 'systemd-journal' with GID 999.  Creating group 'messagebus' with GID 998.
  //   Creating user 'messagebus' with UID 998 and GID 998.  ... 'systemd-timesync' with UID 995 and GID 995.
  const masters = () => ({
    users: parsePasswd('root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'),
    groups: parseGroup('root:*:0:\nadm:*:4:\nnogroup:*:65534:\n'),
  })
  const bookworm = [
    'g adm 4 -\nu root 0 - /root /bin/bash\nu _apt 42:65534 - /nonexistent /usr/sbin/nologin\nu nobody 65534:65534 - /nonexistent /usr/sbin/nologin\n',
    'u messagebus - "System Message Bus"\n',
    'g systemd-journal - -\n',
    'u systemd-network - "systemd Network Management"\n',
    'u systemd-resolve - "systemd Resolver"\n',
    'u systemd-timesync - "systemd Time Synchronization"\n',
  ]

  it('allocates like systemd-sysusers: g lines first, then each user with its group, downward from 999', () => {
    const db = masters()
    const out = applySysusers(db, bookworm.flatMap((t, i) => parseSysusers(t, `f${i}`)))
    const ids = (name: string) => {
      const u = db.users.find((x) => x.name === name)
      return u ? [u.uid, u.gid] : undefined
    }
    expect(db.groups.find((g) => g.name === 'systemd-journal')?.gid).toBe(999)
    expect(ids('messagebus')).toEqual([998, 998])
    expect(ids('systemd-network')).toEqual([997, 997])
    expect(ids('systemd-resolve')).toEqual([996, 996])
    expect(ids('systemd-timesync')).toEqual([995, 995])
    // _apt names gid 65534 explicitly: no '_apt' group appears (sysusers makes none either).
    expect(ids('_apt')).toEqual([42, 65534])
    expect(db.groups.some((g) => g.name === '_apt')).toBe(false)
    expect(out.usersCreated).toEqual(['_apt', 'messagebus', 'systemd-network', 'systemd-resolve', 'systemd-timesync'])
    expect(db.users.find((u) => u.name === 'messagebus')).toMatchObject({gecos: 'System Message Bus', home: '/', shell: '/usr/sbin/nologin', shadowPassword: '!*'})
  })

  it('does not touch accounts that exist and honours fixed ids', () => {
    const db = masters()
    applySysusers(db, parseSysusers('u root 0 - /x /bin/zsh\ng fixed 321 -\nu pinned 555 "Pinned"\n', 'f'))
    expect(db.users[0]).toMatchObject({name: 'root', home: '/root', shell: '/bin/bash'})
    expect(db.groups.find((g) => g.name === 'fixed')?.gid).toBe(321)
    expect(db.users.find((u) => u.name === 'pinned')).toMatchObject({uid: 555, gid: 555})
  })

  it('adds memberships and reports what it skipped', () => {
    const db = masters()
    const out = applySysusers(db, parseSysusers('m root adm\nm ghost adm\nm root nosuch\nr - 1-2\n', 'f'))
    expect(db.groups.find((g) => g.name === 'adm')?.members).toEqual(['root'])
    expect(out.membershipsAdded).toEqual(['root:adm'])
    expect(out.skipped).toEqual(['f:4: r line (keel allocates in its fixed range)', 'f:2: m line for unknown user ghost', 'f:3: m line for unknown group nosuch'])
  })
})
