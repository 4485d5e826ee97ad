import {mkdtempSync, readFileSync, readlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SLOT_ENTRY_PATTERN} from '../../src/boot/entries.js'
import {FIRST_BOOT_DONE_UNIT, FIRST_BOOT_ENTRY, installBootAssessment, installFirstBootDone, NORMAL_ENTRY} from '../../src/build/first-boot.js'
import {RootTree} from '../../src/rootfs/tree.js'

describe('first boot runs Ignition once', () => {
  it('installs a statically enabled unit that points loader.conf at the normal entry and drops the first-boot entry, on the first boot only', () => {
    const tree = new RootTree(mkdtempSync(join(tmpdir(), 'keel-firstboot-')))
    const written = installFirstBootDone(tree)
    expect(written).toEqual([
      'usr/lib/keel/firstboot-done',
      `usr/lib/systemd/system/${FIRST_BOOT_DONE_UNIT}`,
      `usr/lib/systemd/system/multi-user.target.wants/${FIRST_BOOT_DONE_UNIT}`,
    ])
    const unit = readFileSync(tree.hostPath(`usr/lib/systemd/system/${FIRST_BOOT_DONE_UNIT}`), 'utf8')
    expect(unit).toMatch(/^ConditionKernelCommandLine=ignition.firstboot$/m)
    // Off the critical path: multi-user.target does not wait for it.
    expect(unit).toMatch(/^DefaultDependencies=no$/m)
    expect(unit).toMatch(/^ExecStart=\/usr\/lib\/keel\/firstboot-done$/m)
    expect(tree.get('usr/lib/keel/firstboot-done')).toMatchObject({type: 'file', mode: 0o755, uid: 0, gid: 0})
    expect(readlinkSync(tree.hostPath(`usr/lib/systemd/system/multi-user.target.wants/${FIRST_BOOT_DONE_UNIT}`))).toBe(`../${FIRST_BOOT_DONE_UNIT}`)
    const script = readFileSync(tree.hostPath('usr/lib/keel/firstboot-done'), 'utf8')
    expect(script).toContain(`default=${NORMAL_ENTRY}\n`)
    expect(script).toContain("default='keel-[ab][+.]*'")
    expect(script).toContain('s/^default .*/default $default/')
    expect(script).toContain(`rm -f "$esp/loader/entries/${FIRST_BOOT_ENTRY}"`)
    expect(SLOT_ENTRY_PATTERN).toBe('keel-[ab][+.]*')
    expect(script).toContain('/dev/disk/by-partlabel/EFI-SYSTEM')
    expect(FIRST_BOOT_ENTRY).not.toBe(NORMAL_ENTRY)
  })

  it('enables the boot health check statically, and refuses an image without systemd-bless-boot', () => {
    const tree = new RootTree(mkdtempSync(join(tmpdir(), 'keel-bless-')))
    expect(() => installBootAssessment(tree)).toThrow(/systemd-bless-boot/)
    for (const p of ['usr/lib/systemd/systemd-bless-boot', 'usr/lib/systemd/system-generators/systemd-bless-boot-generator', 'usr/lib/systemd/system/systemd-bless-boot.service', 'usr/lib/systemd/system/systemd-boot-check-no-failures.service']) {
      tree.writeFile(p, 'x', {owner: 'test'})
    }
    expect(installBootAssessment(tree)).toEqual(['usr/lib/systemd/system/boot-complete.target.requires/systemd-boot-check-no-failures.service'])
    expect(readlinkSync(tree.hostPath('usr/lib/systemd/system/boot-complete.target.requires/systemd-boot-check-no-failures.service'))).toBe('../systemd-boot-check-no-failures.service')
    expect(NORMAL_ENTRY).toBe('keel-a.conf')
  })
})
