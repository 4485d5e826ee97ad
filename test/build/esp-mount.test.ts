import {mkdtempSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ESP_AUTOMOUNT_UNIT, ESP_MOUNT_UNIT, installEspMount} from '../../src/build/esp-mount.js'
import {RootTree} from '../../src/rootfs/tree.js'

describe('installEspMount', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-esp-mount-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))
  const tree = new RootTree(dir)
  const written = installEspMount(tree)
  const text = (unit: string): string => readFileSync(tree.hostPath(`usr/lib/systemd/system/${unit}`), 'utf8')

  it('mounts the partition labelled EFI-SYSTEM on /boot, root only, nothing executable', () => {
    const mount = text(ESP_MOUNT_UNIT)
    expect(mount).toMatch(/^What=\/dev\/disk\/by-partlabel\/EFI-SYSTEM$/m)
    expect(mount).toMatch(/^Where=\/boot$/m)
    expect(mount).toMatch(/^Type=vfat$/m)
    expect(mount).toMatch(/^Options=umask=0077,nosuid,nodev,noexec$/m)
  })

  it('mounts it on first access, from local-fs.target, through a static .wants link', () => {
    expect(text(ESP_AUTOMOUNT_UNIT)).toMatch(/^\[Automount\]\nWhere=\/boot\nTimeoutIdleSec=120$/m)
    expect(readlinkSync(tree.hostPath(`usr/lib/systemd/system/local-fs.target.wants/${ESP_AUTOMOUNT_UNIT}`))).toBe(`../${ESP_AUTOMOUNT_UNIT}`)
    expect(written).toEqual([
      `usr/lib/systemd/system/${ESP_MOUNT_UNIT}`,
      `usr/lib/systemd/system/${ESP_AUTOMOUNT_UNIT}`,
      `usr/lib/systemd/system/local-fs.target.wants/${ESP_AUTOMOUNT_UNIT}`,
    ])
    // A unit's name is its mount point's: systemd refuses boot.mount for any Where= but /boot.
    expect(ESP_MOUNT_UNIT).toBe('boot.mount')
  })
})
