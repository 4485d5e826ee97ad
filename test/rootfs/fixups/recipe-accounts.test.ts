import {describe, expect, it} from 'vitest'
import {parseGroup, parsePasswd} from '../../../src/rootfs/fixups/accounts-db.js'
import {applyPackageAccounts, PACKAGE_ACCOUNTS} from '../../../src/rootfs/fixups/package-accounts.js'
import {addRecipeGroup, addRecipeUser} from '../../../src/rootfs/fixups/recipe-accounts.js'

const base = () => ({
  users: parsePasswd('root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'),
  groups: parseGroup('root:*:0:\nsudo:*:27:\nusers:*:100:\nnogroup:*:65534:\nmessagebus:x:998:\n'),
})

describe('package accounts (adduser/addgroup in postinsts)', () => {
  it('creates them like adduser --system: ascending from 100, sshd in nogroup', () => {
    const db = base()
    const made = applyPackageAccounts(db, new Set(['openssh-server', 'openssh-client', 'udev']))
    expect(made).toEqual({users: ['sshd'], groups: ['_ssh', 'input', 'sgx', 'kvm', 'render']})
    expect(db.users.find((u) => u.name === 'sshd')).toMatchObject({uid: 100, gid: 65534, home: '/run/sshd', shell: '/usr/sbin/nologin', shadowPassword: '*'})
    // gid 100 is 'users' in base-passwd, so the first system group gets 101.
    expect(db.groups.filter((g) => g.gid > 100 && g.gid < 200).map((g) => `${g.name}=${g.gid}`)).toEqual(['_ssh=101', 'input=102', 'sgx=103', 'kvm=104', 'render=105'])
  })

  it('skips packages not in the image and accounts that exist', () => {
    const db = base()
    expect(applyPackageAccounts(db, new Set(['dbus-system-bus-common']))).toEqual({users: ['messagebus'], groups: []})
    expect(db.users.find((u) => u.name === 'messagebus')?.gid).toBe(998)
    expect(applyPackageAccounts(db, new Set(['dbus-system-bus-common']))).toEqual({users: [], groups: []})
    expect(applyPackageAccounts(base(), new Set())).toEqual({users: [], groups: []})
  })

  it('names a real package for every entry', () => {
    for (const e of PACKAGE_ACCOUNTS) expect(e.command).toMatch(/^(adduser|addgroup) /)
  })
})

describe('recipe accounts', () => {
  it('adds the recipe user with its private group, supplementary groups and defaults', () => {
    const db = base()
    addRecipeGroup(db, {name: 'docker', system: true})
    const {user, createdGroup} = addRecipeUser(db, {name: 'core', uid: 500, gecos: 'CoreOS Admin', groups: ['sudo', 'docker'], system: false})
    expect(createdGroup).toBe(true)
    expect(user).toEqual({name: 'core', uid: 500, gid: 500, gecos: 'CoreOS Admin', home: '/home/core', shell: '/bin/bash', shadowPassword: '!', shadowAging: '0:99999:7:::'})
    expect(db.groups.find((g) => g.name === 'docker')).toMatchObject({gid: 101, members: ['core']})
    expect(db.groups.find((g) => g.name === 'sudo')?.members).toEqual(['core'])
  })

  it('allocates normal users from 1000 and system users from 100, upwards', () => {
    const db = base()
    expect(addRecipeUser(db, {name: 'alice', groups: [], system: false}).user).toMatchObject({uid: 1000, gid: 1000})
    expect(addRecipeUser(db, {name: 'bob', groups: [], system: false}).user).toMatchObject({uid: 1001, gid: 1001})
    expect(addRecipeUser(db, {name: 'svc', groups: [], system: true}).user).toMatchObject({uid: 100, gid: 101, home: '/nonexistent', shell: '/usr/sbin/nologin'})
    addRecipeGroup(db, {name: 'team', gid: 2000, system: false})
    expect(addRecipeUser(db, {name: 'carol', gid: 2000, groups: [], system: false})).toMatchObject({user: {uid: 1002, gid: 2000}, createdGroup: false})
  })

  it('refuses conflicts and unknown supplementary groups', () => {
    const db = base()
    expect(() => addRecipeUser(db, {name: 'root', groups: [], system: false})).toThrow(/already exists/)
    expect(() => addRecipeUser(db, {name: 'x', uid: 0, groups: [], system: false})).toThrow(/uid 0 is already used by root/)
    expect(() => addRecipeUser(db, {name: 'y', groups: ['wheel', 'sudo', 'docker'], system: false})).toThrow(/group\(s\) wheel, docker do not exist/)
    expect(() => addRecipeGroup(db, {name: 'sudo', gid: 28, system: true})).toThrow(/wants gid 28/)
    expect(() => addRecipeGroup(db, {name: 'mine', gid: 27, system: true})).toThrow(/gid 27 is already used by group sudo/)
  })
})
