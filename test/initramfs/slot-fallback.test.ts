import {describe, expect, it} from 'vitest'
import {DEFAULT_INITRD_MODULES, planInitrd} from '../../src/initramfs/plan.js'
import {SLOT_FALLBACK_SCRIPT, SLOT_FALLBACK_UNIT, slotFallbackOps} from '../../src/initramfs/slot-fallback.js'

describe('the initrd slot fallback', () => {
  const ops = slotFallbackOps()
  const file = (path: string) => ops.find((o) => o.op === 'write' && o.path === path) as {content: string; mode: number} | undefined

  it('hooks the units that fail when /usr does not verify, and is part of every initrd with efivarfs', () => {
    for (const unit of ['systemd-veritysetup@usr.service', 'sysusr-usr.mount', 'sysroot-usr.mount']) {
      expect(file(`usr/lib/systemd/system/${unit}.d/keel-slot-fallback.conf`)?.content).toBe(`[Unit]\nOnFailure=${SLOT_FALLBACK_UNIT}\n`)
    }
    const plan = planInitrd({osRelease: {id: 'keel', name: 'keel', version: '1'}, loadModules: ['efivarfs']})
    expect(plan).toEqual(expect.arrayContaining(ops))
    expect(DEFAULT_INITRD_MODULES).toContain('efivarfs')
  })

  it('the script is bash (the initrd has no /bin/sh), reads systemd-boot\'s variables and reboots only after renaming', () => {
    const script = file(SLOT_FALLBACK_SCRIPT)!
    expect(script.mode).toBe(0o755)
    expect(script.content.startsWith('#!/bin/bash\n')).toBe(true)
    expect(script.content).toContain('LoaderEntrySelected')
    expect(script.content).toContain('LoaderBootCountPath')
    // efivarfs cannot seek: the variable is read through a pipe
    expect(script.content).toContain('cat "$f" | tail -c +5')
    expect(script.content.indexOf('mv "$esp/loader/entries/$current"')).toBeLessThan(script.content.indexOf('systemctl --force --force reboot'))
    // only a unit that failed by itself counts, never a timeout; every hooked unit is asked
    expect(script.content).toContain('for unit in systemd-veritysetup@usr.service sysusr-usr.mount sysroot-usr.mount; do')
    expect(script.content).toContain('exit-code|signal|core-dump) cause=$unit ;;')
    expect(file(`usr/lib/systemd/system/${SLOT_FALLBACK_UNIT}`)?.content).toMatch(/^DefaultDependencies=no$/m)
  })
})
