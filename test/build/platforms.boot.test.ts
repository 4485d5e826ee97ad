import {copyFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bootAndWait} from '../../src/boot/run.js'
import type {BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {prepareBuildConfig} from '../../src/platforms/baked-config.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {repoRoot} from '../helpers/cli.js'

// `keel build --platform qemu,metal --config`: one build, two disks. The qemu qcow2 gets its Ignition config
// through fw_cfg as on a real QEMU host; the metal raw image boots with nothing but what is baked into it
// (no fw_cfg config: the baked /usr/lib/ignition/user.ign is the only source). Each boot runs the same checks
// from its config and reports them on the test channel (/dev/ttyS1), never the console.

const work = mkdtempSync(join(tmpdir(), 'keel-platforms-boot-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const MARKER = 'KEEL-PLATFORM-CHECKS-DONE'

const CHECK_SCRIPT = `#!/bin/bash
say() { echo "$*" > /dev/ttyS1; }
say "keel-check platform $(sed -n 's/.*ignition\\.platform\\.id=\\([^ ]*\\).*/\\1/p' /proc/cmdline)"
say "keel-check usr-source $(findmnt -no SOURCE /usr)"
say "keel-check usr-fstype $(findmnt -no FSTYPE /usr)"
say "keel-check usr-options $(findmnt -no OPTIONS /usr | tr ',' '\\n' | grep -x -e ro -e rw)"
say "keel-check usr-target $(dmsetup table usr | cut -d' ' -f3)"
if touch /usr/keel-probe 2>/dev/null; then say "keel-check usr-write allowed"; else say "keel-check usr-write refused"; fi
say "keel-check file $(stat -c %a /etc/keel-platform-test) $(cat /etc/keel-platform-test)"
say "keel-check oem $(blkid -s LABEL -o value /dev/disk/by-partlabel/OEM)"
say ${MARKER}
`

function ignitionConfig(source: string): string {
  const data = (text: string): string => `data:,${encodeURIComponent(text)}`
  return JSON.stringify({
    ignition: {version: '3.3.0'},
    storage: {
      files: [
        {path: '/etc/keel-platform-test', mode: 0o640, contents: {source: data(`${source}\n`)}},
        {path: '/etc/keel-check.sh', mode: 0o755, contents: {source: data(CHECK_SCRIPT)}},
      ],
    },
    systemd: {
      units: [
        {
          name: 'keel-check.service',
          enabled: true,
          contents: '[Unit]\nDescription=keel platform checks\nAfter=multi-user.target\n\n[Service]\nType=oneshot\nExecStart=/etc/keel-check.sh\n\n[Install]\nWantedBy=multi-user.target\n',
        },
      ],
    },
  })
}

function checks(channel: string[]): Map<string, string> {
  return new Map(
    channel
      .filter((l) => l.startsWith('keel-check '))
      .map((l) => {
        const [, name, ...rest] = l.trim().split(' ')
        return [name!, rest.join(' ')]
      }),
  )
}

describe('keel build --platform qemu,metal --config, booted', () => {
  let dir: string
  let manifest: BuildManifest

  beforeAll(async () => {
    copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
    const recipe = loadRecipe(join(work, 'base.yaml')).recipe
    const baked = join(work, 'baked.ign')
    writeFileSync(baked, ignitionConfig('baked into metal'))
    const {config, diagnostics} = prepareBuildConfig(ignitionConfig('baked into metal'), baked)
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    dir = join(work, 'out')
    manifest = await buildImage({recipe, platforms: ['qemu', 'metal'], outDir: dir, cache: new PackageCache(defaultCacheDir()), updateLock: true, config})
  }, 3_600_000)

  it('qemu: the qcow2 boots with its config from fw_cfg; /usr is the verity erofs, read-only', {timeout: 1_200_000}, async () => {
    const config = join(work, 'qemu.ign')
    writeFileSync(config, ignitionConfig('from fw_cfg'))
    const qcow2 = manifest.artifacts.find((a) => a.platform === 'qemu' && a.format === 'qcow2')!
    const boot = await bootAndWait({image: join(dir, qcow2.path), ignition: config, kvm: 'auto', timeoutS: 900, marker: MARKER, channel: true, consoleLog: join(work, 'qemu-console.log')})
    console.log(`qemu: ${boot.accel} to the marker in ${boot.secondsToMarker} s`)
    const c = checks(boot.channel)
    expect(c.get('platform')).toBe('qemu')
    expect(c.get('file')).toBe('640 from fw_cfg')
    expect({source: c.get('usr-source'), fstype: c.get('usr-fstype'), options: c.get('usr-options'), target: c.get('usr-target'), write: c.get('usr-write')}).toEqual({source: '/dev/mapper/usr', fstype: 'erofs', options: 'ro', target: 'verity', write: 'refused'})
    expect(c.get('oem')).toBe('OEM')
  })

  it('metal: the raw image boots with the baked config alone; /usr is the verity erofs, read-only', {timeout: 1_200_000}, async () => {
    const raw = manifest.artifacts.find((a) => a.platform === 'metal' && a.format === 'raw')!
    const boot = await bootAndWait({image: join(dir, raw.path), kvm: 'auto', timeoutS: 900, marker: MARKER, channel: true, consoleLog: join(work, 'metal-console.log')})
    console.log(`metal: ${boot.accel} to the marker in ${boot.secondsToMarker} s`)
    const c = checks(boot.channel)
    expect(c.get('platform')).toBe('metal')
    expect(c.get('file')).toBe('640 baked into metal')
    expect({source: c.get('usr-source'), fstype: c.get('usr-fstype'), options: c.get('usr-options'), target: c.get('usr-target'), write: c.get('usr-write')}).toEqual({source: '/dev/mapper/usr', fstype: 'erofs', options: 'ro', target: 'verity', write: 'refused'})
  })
})
