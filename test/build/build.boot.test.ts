import {createHash, generateKeyPairSync} from 'node:crypto'
import {copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bootAndWait, type BootResult} from '../../src/boot/run.js'
import type {BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {repoRoot} from '../helpers/cli.js'

// keel build end to end, as the product runs it: recipes/base.yaml → qcow2 + manifest.json, twice (the bytes
// must be equal), then one real boot under QEMU (KVM when the probe says it works, else TCG) with an Ignition
// config. What Ignition did and how /usr is mounted are read back from the serial console.

const work = mkdtempSync(join(tmpdir(), 'keel-build-test-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const MARKER = 'KEEL-BOOT-MARKER-OK'

/** An OpenSSH public key line for an ed25519 key (the wire format is two length-prefixed strings). */
function sshPublicKey(): string {
  const {publicKey} = generateKeyPairSync('ed25519')
  const raw = publicKey.export({format: 'der', type: 'spki'}).subarray(-32)
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b])
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} keel-boot-test`
}

// Results go to the test channel (/dev/ttyS1, its own log on the host), never the console: there kernel
// and systemd lines can land in the middle of a check line.
const CHECK_SCRIPT = `#!/bin/bash
say() { echo "$*" > /dev/ttyS1; }
say "keel-check usr-source $(findmnt -no SOURCE /usr)"
say "keel-check usr-fstype $(findmnt -no FSTYPE /usr)"
say "keel-check usr-target $(dmsetup table usr | cut -d' ' -f3)"
say "keel-check file $(stat -c %a /etc/keel-test) $(cat /etc/keel-test)"
say "keel-check key $(cut -d' ' -f1-2 /home/core/.ssh/authorized_keys.d/ignition)"
say "keel-check user $(id -un 500) $(stat -c %U /home/core/.ssh)"
if touch /usr/keel-probe 2>/dev/null; then say "keel-check usr-write allowed"; else say "keel-check usr-write refused"; fi
say "keel-check sshd $(systemctl is-active ssh.service) $(ls /etc/ssh/ | grep -c '^ssh_host_.*_key$')"
say "keel-check firstboot-arg $(grep -c ignition.firstboot /proc/cmdline)"
# the ESP: where systemd-gpt-auto-generator automounted it (/boot, triggered by the ls), else a private mount
ls /boot/loader/ >/dev/null 2>&1
esp=$(findmnt -n -o TARGET --source "$(readlink -f /dev/disk/by-partlabel/EFI-SYSTEM)" | head -n 1)
if [ -z "$esp" ]; then esp=/run/keel-check-esp; mkdir -p "$esp"; mount -o ro -t vfat /dev/disk/by-partlabel/EFI-SYSTEM "$esp"; fi
say "keel-check loader-default $(sed -n 's/^default //p' "$esp/loader/loader.conf")"
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
          contents: '[Unit]\nDescription=keel boot test checks\nAfter=ssh.service keel-firstboot-done.service\n\n[Service]\nType=oneshot\nExecStart=/etc/keel-check.sh\n\n[Install]\nWantedBy=multi-user.target\n',
        },
      ],
    },
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

describe('keel build recipes/base.yaml --platform qemu', () => {
  const key = sshPublicKey()
  const builds: Array<{dir: string; manifest: BuildManifest}> = []
  let boot: BootResult

  beforeAll(async () => {
    // The recipe is copied so its lockfiles land in the test's own directory.
    copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
    const recipe = loadRecipe(join(work, 'base.yaml')).recipe
    for (const name of ['first', 'second']) {
      const dir = join(work, name)
      const manifest = await buildImage({recipe, platforms: ['qemu'], outDir: dir, cache: new PackageCache(defaultCacheDir())})
      builds.push({dir, manifest})
    }
  }, 1_200_000)

  it('writes the qcow2 and a manifest that describes it', () => {
    const {dir, manifest} = builds[0]!
    expect(manifest.artifacts).toHaveLength(1)
    const qcow2 = manifest.artifacts[0]!
    expect(qcow2).toMatchObject({format: 'qcow2', platform: 'qemu'})
    expect(sha256(join(dir, qcow2.path))).toBe(qcow2.sha256)
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest)
    expect(manifest.slots.A!.rootHash).toMatch(/^[0-9a-f]{64}$/)
    expect(manifest.kernel.cmdline).toContain(`usrhash=${manifest.slots.A!.rootHash}`)
    expect(manifest.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['systemd', 'containerd', 'linux-image-cloud-amd64']))
    console.log(`build: ${Object.entries(manifest.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ')}`)
  })

  it('gives the same bytes when built again from the same recipe and lockfile', () => {
    const [a, b] = builds
    expect(b!.manifest.artifacts[0]!.sha256).toBe(a!.manifest.artifacts[0]!.sha256)
    expect(sha256(join(b!.dir, b!.manifest.artifacts[0]!.path))).toBe(sha256(join(a!.dir, a!.manifest.artifacts[0]!.path)))
  })

  it('boots to the marker with Ignition applied', {timeout: 900_000}, async () => {
    const {dir, manifest} = builds[0]!
    const config = join(work, 'config.ign')
    writeFileSync(config, JSON.stringify(ignitionConfig(key)))
    boot = await bootAndWait({image: join(dir, manifest.artifacts[0]!.path), ignition: config, kvm: 'auto', timeoutS: 600, marker: MARKER, channel: true, consoleLog: join(work, 'console.log')})
    console.log(`boot: ${boot.accel} to the marker in ${boot.secondsToMarker} s`)
    expect(boot.ended).toBe('marker')
    expect(['kvm', 'tcg']).toContain(boot.accel)
  })

  it('/usr is the verity device, erofs, read-only; Ignition wrote the file, the key and the unit', () => {
    const checks = new Map(
      boot.channel
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
    // sshd came up on its first start with exactly one (Ed25519) host key, made on the machine.
    expect(checks.get('sshd')).toBe('active 1')
    // The first boot ran the one-shot entry (with ignition.firstboot); once up, the default is the normal one.
    expect(checks.get('firstboot-arg')).toBe('1')
    expect(checks.get('loader-default')).toBe('keel-a.conf')
    // The command line the ESP entry carried is the one the kernel booted with.
    const rootHash = builds[0]!.manifest.slots.A!.rootHash
    expect(boot.lines.some((l) => l.includes('Kernel command line:') && l.includes(`usrhash=${rootHash}`))).toBe(true)
  })
})
