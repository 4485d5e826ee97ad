import {cpSync, mkdtempSync, readFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {accountsFixup, UPDATED_STAMP} from '../../../src/rootfs/fixups/accounts.js'
import type {LockedPackage} from '../../../src/packages/types.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree, testRecipe} from './real-tree.js'

/**
 * Real bookworm packages (base-passwd's masters, systemd's and dbus's sysusers.d files, the postinst-created
 * accounts of openssh and udev) and the real systemd-sysusers as the oracle for the sysusers part.
 */
const PACKAGES = ['base-passwd', 'bash', 'systemd', 'systemd-timesyncd', 'systemd-resolved', 'dbus-system-bus-common', 'openssh-server', 'openssh-client', 'udev']
const recipe = testRecipe({
  groups: [{name: 'docker', system: true}],
  users: [{name: 'core', uid: 500, gecos: 'CoreOS Admin', home: '/home/core', shell: '/bin/bash', groups: ['sudo', 'docker', 'systemd-journal'], system: false}],
})

let tree: RootTree
let packages: LockedPackage[]
const bases: string[] = []
const read = (t: RootTree, p: string) => readFileSync(t.hostPath(p), 'utf8')
const lines = (text: string) => text.split('\n').filter(Boolean)

beforeAll(async () => {
  const built = await realTree(PACKAGES)
  ;({tree, packages} = built)
  bases.push(built.base)
  await accountsFixup.run(context(tree, packages, recipe))
})
afterAll(async () => {
  for (const b of bases) await rm(b, {recursive: true, force: true})
})

describe('accounts fix-up on real packages', () => {
  it('allocates sysusers.d accounts exactly as systemd-sysusers --root does on the same masters', async () => {
    const oracle = mkdtempSync(join(tmpdir(), 'keel-sysusers-oracle-'))
    bases.push(oracle)
    cpSync(tree.hostPath('usr/lib/sysusers.d'), join(oracle, 'usr/lib/sysusers.d'), {recursive: true})
    cpSync(tree.hostPath('usr/share/base-passwd/passwd.master'), join(oracle, 'etc/passwd'))
    cpSync(tree.hostPath('usr/share/base-passwd/group.master'), join(oracle, 'etc/group'))
    await run('systemd-sysusers', [`--root=${oracle}`])
    const theirPasswd = lines(readFileSync(join(oracle, 'etc/passwd'), 'utf8'))
    const theirGroup = lines(readFileSync(join(oracle, 'etc/group'), 'utf8'))
    const created = theirPasswd.filter((l) => !l.split(':')[1]!.startsWith('*'))
    expect(created.map((l) => l.split(':')[0])).toEqual(['messagebus', 'systemd-network', 'systemd-resolve', 'systemd-timesync'])
    const ourPasswd = lines(read(tree, 'etc/passwd'))
    for (const line of created) expect(ourPasswd).toContain(line)
    const ourGroups = new Map(lines(read(tree, 'etc/group')).map((l) => [l.split(':')[0], l.split(':').slice(0, 3).join(':')]))
    for (const line of theirGroup.filter((l) => l.split(':')[1] === 'x')) expect(ourGroups.get(line.split(':')[0])).toBe(line.split(':').slice(0, 3).join(':'))
  })

  it('leaves systemd-sysusers nothing to do: the result is complete and parses', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'keel-sysusers-recheck-'))
    bases.push(copy)
    for (const dir of ['etc', 'usr/lib/sysusers.d']) cpSync(tree.hostPath(dir), join(copy, dir), {recursive: true, dereference: false})
    const before = ['passwd', 'group', 'shadow', 'gshadow'].map((f) => readFileSync(join(copy, 'etc', f), 'utf8'))
    const r = await run('systemd-sysusers', [`--root=${copy}`])
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/Creating/)
    expect(['passwd', 'group', 'shadow', 'gshadow'].map((f) => readFileSync(join(copy, 'etc', f), 'utf8'))).toEqual(before)
  })

  it('creates the postinst accounts, the recipe group and user, with memberships', () => {
    const passwd = lines(read(tree, 'etc/passwd'))
    expect(passwd).toContain('sshd:x:100:65534::/run/sshd:/usr/sbin/nologin')
    expect(passwd).toContain('core:x:500:500:CoreOS Admin:/home/core:/bin/bash')
    expect(passwd[0]).toBe('root:x:0:0:root:/root:/bin/bash')
    const group = lines(read(tree, 'etc/group'))
    expect(group).toContain('sudo:x:27:core')
    expect(group).toContain('systemd-journal:x:999:core')
    expect(group).toContain('core:x:500:')
    for (const name of ['_ssh', 'input', 'sgx', 'kvm', 'render', 'docker']) expect(group.some((l) => l.startsWith(`${name}:x:1`))).toBe(true)
    expect(group.find((l) => l.startsWith('docker:'))).toMatch(/^docker:x:1\d\d:core$/)
  })

  it('writes locked shadow entries dated from SOURCE_DATE_EPOCH, mode 0640 root:shadow', () => {
    const shadow = lines(read(tree, 'etc/shadow'))
    expect(shadow[0]).toBe('root:*:19675:0:99999:7:::')
    expect(shadow).toContain('core:!:19675:0:99999:7:::')
    expect(shadow).toContain('systemd-network:!*:19675::::::')
    expect(shadow.every((l) => /^[^:]+:(\*|!|!\*):19675:/.test(l))).toBe(true)
    expect(lines(read(tree, 'etc/passwd')).length).toBe(shadow.length)
    for (const f of ['etc/shadow', 'etc/gshadow']) expect(tree.get(f)).toMatchObject({mode: 0o640, uid: 0, gid: 42})
    for (const f of ['etc/passwd', 'etc/group']) expect(tree.get(f)).toMatchObject({mode: 0o644, uid: 0, gid: 0})
  })

  it('stamps /etc as current with this /usr, so systemd-sysusers.service (ConditionNeedsUpdate=/etc) does not rerun at boot', () => {
    const epoch = context(tree, packages, recipe).sourceDateEpoch
    // systemd compares /usr's mtime with the stamp's, and at equal seconds with TIMESTAMP_NSEC.
    expect(read(tree, UPDATED_STAMP)).toBe(`TIMESTAMP_NSEC=${epoch}000000000\n`)
  })

  it('creates the home directory owned by the user, seeded from /etc/skel', () => {
    expect(tree.get('home/core')).toMatchObject({type: 'dir', mode: 0o700, uid: 500, gid: 500})
    expect(tree.get('home/core/.bashrc')).toMatchObject({type: 'file', uid: 500, gid: 500})
    expect(read(tree, 'home/core/.bashrc')).toBe(read(tree, 'etc/skel/.bashrc'))
  })

  it('is deterministic: a second build from the same packages gives the same bytes', async () => {
    const again = await realTree(PACKAGES)
    bases.push(again.base)
    await accountsFixup.run(context(again.tree, again.packages, recipe))
    for (const f of ['etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow']) expect(read(again.tree, f)).toBe(read(tree, f))
  })
})
