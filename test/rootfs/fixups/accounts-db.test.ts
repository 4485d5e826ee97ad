import {describe, expect, it} from 'vitest'
import {allocateId, epochDays, formatAccounts, parseGroup, parsePasswd} from '../../../src/rootfs/fixups/accounts-db.js'

describe('passwd/group parsing and formatting', () => {
  it('moves the masters\' password field into shadow, as pwconv does', () => {
    const users = parsePasswd('root:*:0:0:root:/root:/bin/bash\nsync:*:4:65534:sync:/bin:/bin/sync\n')
    expect(users[0]).toEqual({name: 'root', uid: 0, gid: 0, gecos: 'root', home: '/root', shell: '/bin/bash', shadowPassword: '*', shadowAging: '0:99999:7:::'})
    const groups = parseGroup('root:*:0:\nsudo:*:27:alice,bob\n')
    expect(groups[1]).toEqual({name: 'sudo', gid: 27, members: ['alice', 'bob'], shadowPassword: '*'})
  })

  it('keeps an existing shadow entry', () => {
    const [u] = parsePasswd('x1:x:7:7::/:/bin/sh\n', 'x1:!:1:2:3:4:5:6:\n')
    expect(u).toMatchObject({shadowPassword: '!', shadowAging: '2:3:4:5:6:'})
  })

  it('rejects malformed lines', () => {
    expect(() => parsePasswd('root:x:0:0\n')).toThrow(/7 fields/)
    expect(() => parseGroup('g:x:abc:\n')).toThrow(/numeric id/)
  })

  it('writes the four files with lastchg from SOURCE_DATE_EPOCH, byte for byte', () => {
    const db = {
      users: parsePasswd('root:*:0:0:root:/root:/bin/bash\n'),
      groups: parseGroup('root:*:0:\nshadow:*:42:\n'),
    }
    db.users.push({name: 'svc', uid: 999, gid: 999, gecos: 'A Service', home: '/', shell: '/usr/sbin/nologin', shadowPassword: '!*', shadowAging: ':::::'})
    db.groups.push({name: 'svc', gid: 999, members: ['root'], shadowPassword: '!*'})
    // 1_700_000_000 s = 19675.9 days: lastchg is the whole day, 19675.
    const files = formatAccounts(db, 1_700_000_000)
    expect(files.passwd).toBe('root:x:0:0:root:/root:/bin/bash\nsvc:x:999:999:A Service:/:/usr/sbin/nologin\n')
    expect(files.shadow).toBe('root:*:19675:0:99999:7:::\nsvc:!*:19675::::::\n')
    expect(files.group).toBe('root:x:0:\nshadow:x:42:\nsvc:x:999:root\n')
    expect(files.gshadow).toBe('root:*::\nshadow:*::\nsvc:!*::root\n')
    expect(epochDays(86399)).toBe(0)
    expect(epochDays(86400)).toBe(1)
  })
})

describe('allocateId', () => {
  it('walks down (sysusers) or up (adduser) to the first free id', () => {
    const used = new Set([999, 998, 100])
    expect(allocateId(100, 999, 'descending', (n) => !used.has(n), 'x')).toBe(997)
    expect(allocateId(100, 999, 'ascending', (n) => !used.has(n), 'x')).toBe(101)
  })

  it('fails with a conflict when the range is full', () => {
    expect(() => allocateId(5, 6, 'ascending', () => false, 'group g')).toThrow(/no free id left in 5-6 for group g/)
  })
})
