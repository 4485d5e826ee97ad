import {createHash, generateKeyPairSync} from 'node:crypto'
import {copyFileSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {bootAndWait, type BootResult} from '../../src/boot/run.js'
import type {BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {prepareBuildConfig} from '../../src/platforms/baked-config.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {repoRoot} from '../helpers/cli.js'

// keel build --platform pxe,iso --config, then both live outputs boot under QEMU with no disk at all: PXE by
// QEMU's direct kernel boot (-kernel/-initrd/-append, as a PXE loader hands them over), the ISO as a CD.
// The baked Ignition config installs a check unit that reports on the test channel (the guest's ttyS1).

const work = mkdtempSync(join(tmpdir(), 'keel-live-boot-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const MARKER = 'KEEL-LIVE-CHECKS-DONE'

function sshPublicKey(): string {
  const {publicKey} = generateKeyPairSync('ed25519')
  const raw = publicKey.export({format: 'der', type: 'spki'}).subarray(-32)
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b])
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} keel-live-test`
}

const CHECK_SCRIPT = `#!/bin/bash
say() { echo "$*" > /dev/ttyS1; }
say "keel-check usr-source $(findmnt -no SOURCE /usr)"
say "keel-check usr-fstype $(findmnt -no FSTYPE /usr)"
say "keel-check usr-ro $(findmnt -no OPTIONS /usr | tr ',' '\\n' | grep -cx ro)"
say "keel-check usr-target $(dmsetup table usr | cut -d' ' -f3)"
say "keel-check usr-devices $(dmsetup deps -o devname usr | sed 's/.*: //')"
if touch /usr/keel-probe 2>/dev/null; then say "keel-check usr-write allowed"; else say "keel-check usr-write refused"; fi
say "keel-check root-fstype $(findmnt -no FSTYPE /)"
say "keel-check disks $(lsblk -dn -o TYPE | grep -c disk)"
say "keel-check file $(stat -c %a /etc/keel-test) $(cat /etc/keel-test)"
say "keel-check key $(cut -d' ' -f1-2 /home/core/.ssh/authorized_keys.d/ignition)"
say "keel-check user $(id -un 500) $(stat -c %U /home/core/.ssh)"
say "keel-check failed $(systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\\n' ' ')"
say ${MARKER}
`

function ignitionConfig(key: string, greeting = 'hello keel'): string {
  const data = (text: string): string => `data:,${encodeURIComponent(text)}`
  return JSON.stringify({
    ignition: {version: '3.3.0'},
    passwd: {users: [{name: 'core', sshAuthorizedKeys: [key]}]},
    storage: {
      files: [
        {path: '/etc/keel-test', mode: 0o640, contents: {source: data(`${greeting}\n`)}},
        {path: '/etc/keel-check.sh', mode: 0o755, contents: {source: data(CHECK_SCRIPT)}},
      ],
    },
    systemd: {
      units: [{
        name: 'keel-check.service',
        enabled: true,
        contents: '[Unit]\nDescription=keel live boot checks\nAfter=multi-user.target\n\n[Service]\nType=oneshot\nExecStart=/etc/keel-check.sh\n\n[Install]\nWantedBy=multi-user.target\n',
      }],
    },
  })
}

function checks(boot: BootResult): Map<string, string> {
  return new Map(
    boot.channel
      .filter((l) => l.startsWith('keel-check '))
      .map((l) => {
        const [, name, ...rest] = l.trim().split(' ')
        return [name!, rest.join(' ')]
      }),
  )
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

describe('keel build --platform pxe,iso: live systems boot with no disk', () => {
  const key = sshPublicKey()
  let dir: string
  let manifest: BuildManifest
  const artifact = (format: string) => manifest.artifacts.find((a) => a.format === format)!

  beforeAll(async () => {
    copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
    const recipe = loadRecipe(join(work, 'base.yaml')).recipe
    const {config} = prepareBuildConfig(ignitionConfig(key), 'live-checks.ign')
    dir = join(work, 'out')
    manifest = await buildImage({recipe, platforms: ['pxe', 'iso'], outDir: dir, cache: new PackageCache(defaultCacheDir()), config})
  }, 1_200_000)

  it('publishes the PXE kernel and initrd, the ISO, and their live command line', () => {
    expect(manifest.artifacts.filter((a) => a.platform !== 'update').map((a) => [a.path, a.format])).toEqual([
      ['keel-0.1.0-pxe.vmlinuz', 'kernel'],
      ['keel-0.1.0-pxe.initrd', 'initramfs'],
      ['keel-0.1.0-iso.iso', 'iso'],
    ])
    for (const a of manifest.artifacts) expect(sha256(join(dir, a.path)), a.path).toBe(a.sha256)
    const pxe = manifest.kernel.cmdlines!.pxe!
    expect(pxe.split(' ')).toEqual(expect.arrayContaining(['root=tmpfs', 'mount.usrfstype=squashfs', 'systemd.verity_usr_data=/dev/loop0', 'ignition.platform.id=metal', 'ignition.firstboot']))
    expect(manifest.kernel.cmdlines!.iso).toBe(pxe)
    console.log(`live: pxe initrd ${(artifact('initramfs').size / 2 ** 20).toFixed(1)} MiB, iso ${(artifact('iso').size / 2 ** 20).toFixed(1)} MiB; build ${Object.entries(manifest.timings).filter(([k]) => k.startsWith('convert')).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ')}`)
  })

  const expectLiveChecks = (boot: BootResult): void => {
    const c = checks(boot)
    expect(c.get('usr-source')).toBe('/dev/mapper/usr')
    expect(c.get('usr-fstype')).toBe('squashfs')
    expect(c.get('usr-ro')).toBe('1')
    expect(c.get('usr-target')).toBe('verity')
    // dm-verity sits on the two loop devices holding the image and its hash tree.
    expect(c.get('usr-devices')?.split(' ').sort()).toEqual(['(loop0)', '(loop1)'])
    expect(c.get('usr-write')).toBe('refused')
    expect(c.get('root-fstype')).toBe('tmpfs')
    expect(c.get('file')).toBe('640 hello keel')
    expect(c.get('key')).toBe(key.split(' ').slice(0, 2).join(' '))
    expect(c.get('user')).toBe('core core')
    expect(c.get('failed')).toBe('')
  }

  it('PXE: boots from the kernel and initrd alone (direct kernel boot), Ignition applied, /usr verity and read-only', {timeout: 1_000_000}, async () => {
    const boot = await bootAndWait({
      medium: {kernel: join(dir, artifact('kernel').path), initrd: join(dir, artifact('initramfs').path), append: manifest.kernel.cmdlines!.pxe!},
      kvm: 'auto', timeoutS: 900, marker: MARKER, channel: true, memoryMiB: 2048, consoleLog: join(work, 'pxe-console.log'),
    })
    console.log(`pxe: ${boot.accel} to the marker in ${boot.secondsToMarker} s`)
    expect(boot.ended).toBe('marker')
    expect(checks(boot).get('disks')).toBe('0')
    expectLiveChecks(boot)
  })

  it('ISO: boots from the CD through systemd-boot, same checks', {timeout: 1_000_000}, async () => {
    const boot = await bootAndWait({
      medium: {cdrom: join(dir, artifact('iso').path)},
      kvm: 'auto', timeoutS: 900, marker: MARKER, channel: true, memoryMiB: 2048, consoleLog: join(work, 'iso-console.log'),
    })
    console.log(`iso: ${boot.accel} to the marker in ${boot.secondsToMarker} s`)
    expect(boot.ended).toBe('marker')
    // The command line came from the ISO's boot entry.
    expect(boot.lines.some((l) => l.includes('Kernel command line:') && l.includes('root=tmpfs') && l.includes(`usrhash=`))).toBe(true)
    expectLiveChecks(boot)
  })

  it('ISO written to a USB stick: firmware finds the ESP in its GPT and starts the kernel from it', {timeout: 600_000}, async () => {
    // The ISO as a (virtio) disk on an overlay: no El Torito there, only the protective MBR, the GPT and the
    // ESP partition. Reaching the kernel is what differs from the CD boot; the rest is the same system.
    const boot = await bootAndWait({image: join(dir, artifact('iso').path), kvm: 'auto', timeoutS: 400, marker: /Linux version \d/, memoryMiB: 2048})
    console.log(`iso as a disk: ${boot.accel} to the kernel in ${boot.secondsToMarker} s`)
    expect(boot.ended).toBe('marker')
    expect(boot.lines.some((l) => /BdsDxe: starting .*Pci\(0x\w+,0x0\)/.test(l) && !l.includes('DVD'))).toBe(true)
  })

  it('PXE with ignition.config.url=: the initrd brings the network up and Ignition fetches the config over HTTP (before the baked one)', {timeout: 1_000_000}, async () => {
    const served = ignitionConfig(key, 'hello url')
    let requests = 0
    const server = createServer((req, res) => {
      requests++
      res.writeHead(req.url === '/config.ign' ? 200 : 404, {'content-type': 'application/json'}).end(req.url === '/config.ign' ? served : '')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      // QEMU's user network reaches the host's 127.0.0.1 as 10.0.2.2.
      const url = `http://10.0.2.2:${(server.address() as AddressInfo).port}/config.ign`
      const boot = await bootAndWait({
        medium: {kernel: join(dir, artifact('kernel').path), initrd: join(dir, artifact('initramfs').path), append: `${manifest.kernel.cmdlines!.pxe!} ignition.config.url=${url}`},
        kvm: 'auto', timeoutS: 900, marker: MARKER, channel: true, memoryMiB: 2048, consoleLog: join(work, 'pxe-url-console.log'),
      })
      console.log(`pxe (config URL): ${boot.accel} to the marker in ${boot.secondsToMarker} s`)
      expect(requests).toBeGreaterThan(0)
      expect(checks(boot).get('file')).toBe('640 hello url')
      expect(checks(boot).get('usr-target')).toBe('verity')
    } finally {
      server.close()
    }
  })
})
