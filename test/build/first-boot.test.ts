import {mkdtempSync, readFileSync, readlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {FIRST_BOOT_DONE_UNIT, FIRST_BOOT_ENTRY, installFirstBootDone, NORMAL_ENTRY} from '../../src/build/first-boot.js'
import {RootTree} from '../../src/rootfs/tree.js'

describe('first boot runs Ignition once', () => {
  it('installs a statically enabled unit that switches loader.conf to the normal entry on the first boot only', () => {
    const tree = new RootTree(mkdtempSync(join(tmpdir(), 'keel-firstboot-')))
    const written = installFirstBootDone(tree)
    expect(written).toEqual([
      'usr/lib/keel/firstboot-done',
      `usr/lib/systemd/system/${FIRST_BOOT_DONE_UNIT}`,
      `usr/lib/systemd/system/multi-user.target.wants/${FIRST_BOOT_DONE_UNIT}`,
    ])
    const unit = readFileSync(tree.hostPath(`usr/lib/systemd/system/${FIRST_BOOT_DONE_UNIT}`), 'utf8')
    expect(unit).toMatch(/^ConditionFirstBoot=yes$/m)
    expect(unit).toMatch(/^ExecStart=\/usr\/lib\/keel\/firstboot-done$/m)
    expect(tree.get('usr/lib/keel/firstboot-done')).toMatchObject({type: 'file', mode: 0o755, uid: 0, gid: 0})
    expect(readlinkSync(tree.hostPath(`usr/lib/systemd/system/multi-user.target.wants/${FIRST_BOOT_DONE_UNIT}`))).toBe(`../${FIRST_BOOT_DONE_UNIT}`)
    const script = readFileSync(tree.hostPath('usr/lib/keel/firstboot-done'), 'utf8')
    expect(script).toContain(`s/^default .*/default ${NORMAL_ENTRY}/`)
    expect(script).toContain('/dev/disk/by-partlabel/EFI-SYSTEM')
    expect(FIRST_BOOT_ENTRY).not.toBe(NORMAL_ENTRY)
  })
})
