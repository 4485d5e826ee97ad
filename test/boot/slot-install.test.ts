import {describe, expect, it} from 'vitest'
import {decodeAttributes} from '../../src/disk/attributes.js'
import {loadLayout} from '../../src/disk/layout.js'
import {planDisk, planToGptTable} from '../../src/disk/plan.js'
import {cmdlinePieces} from '../../src/boot/slot-install-io.js'
import {planSlotInstall} from '../../src/boot/slot-install.js'

const HASH = 'b124049f09417c4028732c8bbd82df8b48bcfc9d0113b46b088f133c9ca78e00'
const OTHER = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'
const built = planToGptTable(planDisk(loadLayout('qemu'), {seed: 'test', architecture: 'x86-64', slots: {A: {rootHash: HASH}}}))
const cmdline = {root: 'PARTLABEL=ROOT', platform: 'qemu', extra: ['console=ttyS0']}
const byName = (t: typeof built, n: string) => t.partitions.find((p) => p.name === n)!

describe('planSlotInstall (a slot installed as an updater does it)', () => {
  it('a new release in B: DPS PARTUUIDs from its root hash, one try, preferred over A in the GPT bits', () => {
    const plan = planSlotInstall(built, ['keel-a.conf'], {slot: 'B', rootHash: OTHER, usrFs: 'erofs', version: '2', tries: 1, cmdline}, 'default keel-[ab][+.]*\n')
    expect(plan.partitions.usr.guid).toBe('00112233-4455-6677-8899-aabbccddeeff')
    expect(plan.partitions.verity.guid).toBe('00112233-4455-6677-8899-aabbccddeeff')
    expect(Object.keys(plan.writeFiles).sort()).toEqual(['loader/entries/keel-b+1.conf', 'loader/loader.conf'])
    expect(plan.writeFiles['loader/loader.conf']).toMatch(/^default keel-\[ab\]\[\+\.\]\*$/m)
    const b = decodeAttributes(byName(plan.table, 'USR-B').attributes)
    const a = decodeAttributes(byName(plan.table, 'USR-A').attributes)
    expect([b.priority, b.tries, b.successful]).toEqual([2, 1, false])
    expect([a.priority, a.successful]).toEqual([1, true])
    expect(plan.cmdline).toContain(`usrhash=${OTHER}`)
  })

  it('a byte copy of A: same root hash, so B gets its own UUIDs and its entry names them explicitly', () => {
    const plan = planSlotInstall(built, ['keel-a.conf', 'keel-b+0-1.conf'], {slot: 'B', rootHash: HASH, usrFs: 'erofs', version: '1', cmdline}, 'default keel-a.conf\n')
    const a = byName(built, 'USR-A')
    expect(plan.partitions.usr.guid).not.toBe(a.guid)
    expect(plan.cmdline).toContain(`systemd.verity_usr_data=PARTUUID=${plan.partitions.usr.guid}`)
    expect(plan.cmdline).toContain(`systemd.verity_usr_hash=PARTUUID=${plan.partitions.verity.guid}`)
    expect(plan.cmdline).not.toContain(a.guid)
    expect(byName(plan.table, 'USR-B').guid).toBe(plan.partitions.usr.guid)
    // Known good (no tries): no counter, successful in the GPT; the old, failed B entry goes.
    expect(Object.keys(plan.writeFiles)).toContain('loader/entries/keel-b.conf')
    expect(plan.removeEntries).toEqual(['loader/entries/keel-b+0-1.conf'])
    expect(decodeAttributes(byName(plan.table, 'USR-B').attributes).successful).toBe(true)
  })

  it('before the first boot, loader.conf keeps naming the first-boot entry (Ignition must still run)', () => {
    const plan = planSlotInstall(built, ['keel-a-firstboot.conf', 'keel-a.conf'], {slot: 'B', rootHash: OTHER, usrFs: 'erofs', version: '2', tries: 2, cmdline}, 'default keel-a-firstboot.conf\ntimeout 0\n')
    expect(plan.writeFiles['loader/loader.conf']).toBeUndefined()
  })

  it('refuses a disk without the slot, and a malformed hash', () => {
    expect(() => planSlotInstall({...built, partitions: built.partitions.filter((p) => !p.name.startsWith('USR-B'))}, [], {slot: 'B', rootHash: OTHER, usrFs: 'erofs', version: '2', cmdline})).toThrow(/no USR-B/)
    expect(() => planSlotInstall(built, [], {slot: 'B', rootHash: 'xyz', usrFs: 'erofs', version: '2', cmdline})).toThrow(/root hash/)
  })

  it('carries a slot entry\'s own arguments over to the copy, not the generated ones', () => {
    const opts = `root=PARTLABEL=ROOT rw mount.usr=/dev/mapper/usr mount.usrfstype=erofs mount.usrflags=ro usrhash=${HASH} systemd.verity_usr_data=PARTUUID=x systemd.verity_usr_hash=PARTUUID=y ignition.platform.id=qemu console=ttyS0,115200n8 console=tty0`
    expect(cmdlinePieces(opts)).toEqual({root: 'PARTLABEL=ROOT', platform: 'qemu', extra: ['console=ttyS0,115200n8', 'console=tty0']})
  })
})
