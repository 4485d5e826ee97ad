import {generateKeyPairSync} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {bootAndWait, type BootResult} from '../../src/boot/run.js'
import {buildInitrd, type InitrdBuildResult} from '../../src/initramfs/build.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {ensureLock} from '../../src/packages/lock-recipe.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {buildRootfs} from '../../src/rootfs/build.js'
import {assembleImage, type FixtureImage} from './image-fixture.js'

// One real boot: recipes/base.yaml composed by the rootfs stage, an initrd from recipes/initrd.yaml, the disk
// assembled as src/boot/README.md describes, booted under QEMU (KVM when the probe says it works, else TCG)
// with an Ignition config. What Ignition did and how /usr is mounted are read back from the serial console.

const MARKER = 'KEEL-BOOT-MARKER-OK'
const work = mkdtempSync(join(tmpdir(), 'keel-boot-test-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

/** An OpenSSH public key line for an ed25519 key (the wire format is two length-prefixed strings). */
function sshPublicKey(): string {
  const {publicKey} = generateKeyPairSync('ed25519')
  const raw = publicKey.export({format: 'der', type: 'spki'}).subarray(-32)
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b])
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} keel-boot-test`
}

const CHECK_SCRIPT = `#!/bin/bash
say() { echo "$*" > /dev/ttyS0; }
# a getty prompt ('login: ', no newline) may be on the console already: start on a fresh line
say ""
say "keel-check usr-source $(findmnt -no SOURCE /usr)"
say "keel-check usr-fstype $(findmnt -no FSTYPE /usr)"
say "keel-check usr-target $(dmsetup table usr | cut -d' ' -f3)"
say "keel-check file $(stat -c %a /etc/keel-test) $(cat /etc/keel-test)"
say "keel-check key $(cut -d' ' -f1-2 /home/core/.ssh/authorized_keys.d/ignition)"
say "keel-check user $(id -un 500) $(stat -c %U /home/core/.ssh)"
if touch /usr/keel-probe 2>/dev/null; then say "keel-check usr-write allowed"; else say "keel-check usr-write refused"; fi
say ${MARKER}
`

function ignitionConfig(key: string): object {
  const data = (text: string): string => `data:,${encodeURIComponent(text)}`
  return {
    ignition: {version: '3.3.0'},
    passwd: {users: [{name: 'core', sshAuthorizedKeys: [key]}]},
    storage: {
      files: [
        {path: '/etc/keel-test', mode: 0o640, contents: {source: data('hello keel\n')}},
        {path: '/etc/keel-check.sh', mode: 0o755, contents: {source: data(CHECK_SCRIPT)}},
      ],
    },
    systemd: {
      units: [
        {
          name: 'keel-check.service',
          enabled: true,
          contents: '[Unit]\nDescription=keel boot test checks\nAfter=ssh.service\n\n[Service]\nType=oneshot\nExecStart=/etc/keel-check.sh\n\n[Install]\nWantedBy=multi-user.target\n',
        },
      ],
    },
  }
}

describe('a keel image boots in QEMU', () => {
  let image: FixtureImage
  let initrd: InitrdBuildResult
  let boot: BootResult
  const key = sshPublicKey()

  it('builds rootfs, initrd and disk, and boots to the marker with Ignition applied', {timeout: 1_200_000}, async () => {
    const cache = new PackageCache(defaultCacheDir())
    const base = loadRecipe('recipes/base.yaml').recipe
    const initrdRecipe = loadRecipe('recipes/initrd.yaml').recipe
    const {lock} = await ensureLock(base, {cache, lockPath: join(work, 'base.lock.json')})
    const {lock: initrdLock} = await ensureLock(initrdRecipe, {cache, lockPath: join(work, 'initrd.lock.json')})
    await buildRootfs({
      recipe: base,
      lock,
      cache,
      onTree: async (tree, epoch) => {
        const kver = tree.sorted().find((e) => /^usr\/lib\/modules\/[^/]+\/modules\.order$/.test(e.path))!.path.split('/')[3]!
        initrd = await buildInitrd({
          recipe: initrdRecipe,
          lock: initrdLock,
          cache,
          kernel: {modulesDir: tree.hostPath(`usr/lib/modules/${kver}`), version: kver},
          out: join(work, 'initrd.img'),
          sourceDateEpoch: epoch,
        })
        image = await assembleImage({tree, initrd: initrd.path, work, epoch})
      },
    })
    const config = join(work, 'config.ign')
    writeFileSync(config, JSON.stringify(ignitionConfig(key)))
    boot = await bootAndWait({image: image.disk, ignition: config, kvm: 'auto', timeoutS: 600, marker: MARKER, consoleLog: join(work, 'console.log')})
    console.log(`boot: ${boot.accel} to the marker in ${boot.secondsToMarker} s; initrd ${initrd.size} bytes (zstd) with ${initrd.modules.load.length} modules`)
    expect(boot.ended).toBe('marker')
    expect(['kvm', 'tcg']).toContain(boot.accel)
  })

  it('the initrd carried the modules /usr needs', () => {
    expect(initrd.modules.load).toEqual(expect.arrayContaining(['dm_verity', 'erofs', 'qemu_fw_cfg', 'virtio_blk']))
  })

  it('/usr is the verity device, erofs, read-only; Ignition wrote the file, the key and the unit', () => {
    const checks = new Map(
      boot.lines
        .filter((l) => l.startsWith('keel-check '))
        .map((l) => {
          const [, name, ...rest] = l.trim().split(' ')
          return [name!, rest.join(' ')]
        }),
    )
    expect(checks.get('usr-source')).toBe('/dev/mapper/usr')
    expect(checks.get('usr-fstype')).toBe('erofs')
    expect(checks.get('usr-target')).toBe('verity')
    expect(checks.get('usr-write')).toBe('refused')
    expect(checks.get('file')).toBe('640 hello keel')
    expect(checks.get('key')).toBe(key.split(' ').slice(0, 2).join(' '))
    expect(checks.get('user')).toBe('core core')
    // The command line the ESP entry carried is the one the kernel booted with.
    expect(boot.lines.some((l) => l.includes(`Kernel command line:`) && l.includes(`usrhash=${image.rootHash}`))).toBe(true)
  })
})
