import {describe, expect, it} from 'vitest'
import {FAST_INIT_PATH, FAST_INIT_RUN_FILE, fastInitOps, fastInitScript, HANDED_OVER_CONFIG_KEYS, INITRD_SYSTEMD} from '../../src/initramfs/fast-init.js'
import {LIVE_IMAGE_MARKER} from '../../src/initramfs/live.js'
import {BOOT_PREFETCH_LIST} from '../../src/rootfs/boot-prefetch.js'
import {MACHINE_ID_SCRIPT} from '../../src/initramfs/machine-id.js'
import {loadRecipe} from '../../src/recipe/load.js'

const input = {machineIdScript: MACHINE_ID_SCRIPT, liveMarker: LIVE_IMAGE_MARKER}
const script = fastInitScript(input)

describe('keel\'s initrd /init', () => {
  it('is /init, a bash script (the initrd has no /bin/sh)', () => {
    expect(fastInitOps(input)).toEqual([
      {op: 'write', path: 'usr/lib/keel/init', content: script, mode: 0o755},
      {op: 'symlink', path: 'init', target: 'usr/lib/keel/init'},
    ])
    expect(FAST_INIT_PATH).toBe('usr/lib/keel/init')
    expect(script.startsWith('#!/bin/bash\n')).toBe(true)
  })

  it('hands over to systemd\'s initrd with the kernel\'s arguments for init', () => {
    expect(INITRD_SYSTEMD).toBe('usr/lib/systemd/systemd')
    expect(script).toContain('exec /usr/lib/systemd/systemd "${init_args[@]}"')
    // live media, debugging options and a wish for systemd's initrd
    expect(script).toContain('[ -e /usr/bin/is-live-image ] && handover')
    expect(script).toMatch(/case "\$a" in rd\.\*\|systemd\.unit=\*\|keel\.init=systemd\|rootflags=\*\|rootfstype=\*\) handover/)
    // a config that needs the network, storage or kernel arguments
    expect(script).toContain('[ -e /run/ignition/neednet ] && handover')
    for (const key of HANDED_OVER_CONFIG_KEYS) expect(script).toContain(`*'${key}'*`)
  })

  it('runs Ignition\'s fetch-offline and files stages only on a first boot, then commits the machine ID', () => {
    const firstBoot = script.slice(script.indexOf('if has ignition.firstboot'))
    // fetch-offline starts before the drivers load and is waited for before its results are read
    expect(firstBoot).toContain('ignition fetch-offline & fetch_pid=$!')
    expect(firstBoot.indexOf('fetch-offline &')).toBeLessThan(firstBoot.indexOf('\nload_drivers\n'))
    expect(script.indexOf('wait "$fetch_pid"')).toBeLessThan(script.indexOf('[ -e /run/ignition/neednet ]'))
    expect(script).toContain('[ "$fetch_status" = 0 ] || handover "Ignition\'s fetch-offline stage failed"')
    expect(script).toContain('ignition files || handover')
    expect(script).toContain('KEEL_SYSROOT=/sysroot /usr/lib/keel/machine-id')
    expect(script.indexOf('ignition files')).toBeLessThan(script.indexOf('machine-id'))
    // /usr and ROOT are mounted before the files stage writes /etc
    expect(script.indexOf('/dev/mapper/usr /sysroot/usr')).toBeLessThan(script.indexOf('ignition files'))
  })

  it('opens /usr with systemd-veritysetup, masks ROOT\'s copy of that unit, leaves its mark in /run and switches root', () => {
    expect(script).toContain('DM_DISABLE_UDEV=1 /usr/lib/systemd/systemd-veritysetup attach usr "$data_dev" "$hash_dev" "$usrhash"')
    expect(script).toContain('ln -sf /dev/null /run/systemd/system/systemd-veritysetup@usr.service')
    expect(script).toContain(`echo keel-init > /${FAST_INIT_RUN_FILE}`)
    expect(script.trimEnd().split('\n').at(-1)).toBe('exec switch_root /sysroot /sbin/init "${init_args[@]}"')
  })

  it('opens /usr while fsck checks ROOT, and mounts only when both are done', () => {
    expect(script).toContain('"$usrhash" > /dev/console 2>&1 & verity_pid=$!')
    const fsck = script.indexOf('fsck -a "$root_dev"')
    expect(script.indexOf('verity_pid=$!')).toBeLessThan(fsck)
    expect(script.indexOf('wait "$verity_pid" || handover')).toBeGreaterThan(fsck)
    expect(script.indexOf('[ "$fsck_status" -lt 2 ] || handover')).toBeLessThan(script.indexOf('mount -o rw "$root_dev" /sysroot'))
  })

  it('reads the build\'s list of /usr files ahead once /usr is mounted, and stops that before switch_root or a handover', () => {
    expect(BOOT_PREFETCH_LIST).toBe('usr/lib/keel/boot-prefetch')
    expect(script).toContain('if [ -r /sysroot/usr/lib/keel/boot-prefetch ]; then')
    expect(script).toContain('(cd /sysroot/usr && mapfile -t files < lib/keel/boot-prefetch && exec cat -- "${files[@]}" > /dev/null 2>&1) & prefetch_pid=$!')
    expect(script.indexOf('prefetch_pid=$!')).toBeGreaterThan(script.indexOf('/dev/mapper/usr /sysroot/usr'))
    expect(script.indexOf('prefetch_pid=$!')).toBeLessThan(script.indexOf('ignition files'))
    const stop = '[ -n "$prefetch_pid" ] && kill "$prefetch_pid"'
    const handover = script.slice(script.indexOf('handover() {'), script.indexOf('exec /usr/lib/systemd/systemd'))
    expect(handover).toContain(stop)
    expect(handover).toContain('[ -n "$fetch_pid" ] && wait "$fetch_pid"')
    expect(script.trimEnd().split('\n').at(-2)).toBe(`${stop} 2>/dev/null`)
  })

  it('calls programs recipes/initrd.yaml keeps', () => {
    const kept = new Set(loadRecipe('recipes/initrd.yaml').recipe.exclude.keep.filter((p) => /^\/usr\/s?bin\//.test(p)).map((p) => p.slice(p.lastIndexOf('/') + 1)))
    // Every program the script runs by name (the rest are bash builtins, or absolute paths into the initrd).
    const programs = ['blkid', 'cat', 'dmsetup', 'fsck', 'ln', 'mkdir', 'modprobe', 'mount', 'sleep', 'sort', 'switch_root', 'umount', 'wc']
    for (const p of programs) expect(script, p).toMatch(new RegExp(`(^|[\\s|(;&])${p} `, 'm'))
    expect(programs.filter((p) => !kept.has(p))).toEqual([])
  })
})
