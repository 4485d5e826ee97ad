import {describe, expect, it} from 'vitest'
import {containerdVerdict} from '../../../src/boot/checks/containerd.js'
import {parseFacts, verdict} from '../../../src/boot/checks/facts.js'
import {firstBootVerdict} from '../../../src/boot/checks/first-boot.js'
import {testFixture} from '../../../src/boot/checks/fixture.js'
import {ignitionVerdict} from '../../../src/boot/checks/ignition.js'
import {rootGrowthVerdict} from '../../../src/boot/checks/root-growth.js'
import {sshdVerdict} from '../../../src/boot/checks/sshd.js'
import {systemRunningVerdict} from '../../../src/boot/checks/system-running.js'
import {verityVerdict} from '../../../src/boot/checks/verity-usr.js'

// Canned guest output, as the check scripts print it on a good and on a broken image.

const HASH = '5d2f0c8a6e8b7d1c3a9f4e2b6c8d0a1f3e5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d'

describe('facts', () => {
  it('parses name=value lines, ignores the rest, keeps = inside values', () => {
    expect(parseFacts('a=1\nnoise here\nb-c=x=y\n  \nUPPER=no\nd=\n')).toEqual({a: '1', 'b-c': 'x=y', d: ''})
  })

  it('fails naming each expectation that did not hold, with what was seen and wanted', () => {
    expect(verdict([{what: 'x', ok: true, saw: '1'}, {what: 'y', ok: false, saw: '', want: '2'}, {what: 'z', ok: false, saw: 'q'}], 'all good')).toEqual({
      status: 'fail',
      detail: "y: (nothing), want '2'; z: 'q'",
    })
    expect(verdict([{what: 'x', ok: true, saw: '1'}], 'all good').status).toBe('pass')
  })
})

describe('check 1: ignition', () => {
  const f = testFixture('00112233445566778899', 'ssh-ed25519 AAAAkey keel-test')
  // sha256 of 'hello from keel test 00112233445566778899\n', computed with sha256sum
  const FILE_SHA = '5cb57bf62c2fe173065aa2e26beddc22bc46bdde86515959ccfdacf292975529'
  const good = (over: Record<string, string> = {}): string =>
    Object.entries({
      user: 'core:/home/core',
      'key-lines': '1',
      'key-owner': 'core',
      'file-mode': '640 root:root',
      'file-sha256': FILE_SHA,
      'unit-enabled': 'enabled',
      'unit-result': 'success',
      'unit-status': '0',
      'unit-marker-lines': '1',
      ...over,
    })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')

  it('passes when everything Ignition was asked for is there', () => {
    const r = ignitionVerdict(good(), f)
    expect(r.detail).toBe('core logs in with the key; /etc/keel-test/hello 640 as written; keel-test-ready.service ran and printed its marker')
    expect(r.status).toBe('pass')
  })

  it('fails on a wrong mode and a missing marker, naming both', () => {
    const r = ignitionVerdict(good({'file-mode': '644 root:root', 'unit-marker-lines': '0'}), f)
    expect(r.status).toBe('fail')
    expect(r.detail).toBe("/etc/keel-test/hello mode: '644 root:root', want '640 root:root'; keel-test-ready.service marker in the journal: '0', want '≥ 1'")
  })
})

describe('check 2: verity /usr', () => {
  const good = [
    'usr-source=/dev/mapper/usr',
    'usr-fstype=erofs',
    'usr-options=ro,relatime,user_xattr,acl,cache_strategy=readaround',
    'dm-target=verity',
    `dm-root-hash=${HASH}`,
    `cmdline-usrhash=${HASH}`,
    'device-ro=1',
    'usr-write=refused: touch: cannot touch \'/usr/.keel-test-write\': Read-only file system',
  ].join('\n')

  it('passes for the verity device with the pinned root hash, read-only', () => {
    const r = verityVerdict(good)
    expect(r.status).toBe('pass')
    expect(r.detail).toBe('/usr is /dev/mapper/usr (verity, root hash 5d2f0c8a6e8b… = usrhash), erofs ro; a write as root is refused (read-only file system)')
  })

  it('fails when the root hash is not the one on the command line, or a write went through', () => {
    const r = verityVerdict(good.replace(`cmdline-usrhash=${HASH}`, `cmdline-usrhash=${'0'.repeat(64)}`).replace(/usr-write=.*/, 'usr-write=allowed'))
    expect(r.status).toBe('fail')
    expect(r.detail).toContain('verity root hash = usrhash= on the command line')
    expect(r.detail).toContain("writing to /usr as root: 'allowed'")
  })

  it('fails for a plain read-only partition (no device-mapper)', () => {
    const r = verityVerdict('usr-source=/dev/vda3\nusr-options=ro\ndm-target=No such device or address\ndevice-ro=0\nusr-write=refused: Read-only file system')
    expect(r.status).toBe('fail')
    expect(r.detail).toMatch(/^\/usr source: '\/dev\/vda3', want '\/dev\/mapper\/usr'; device-mapper target of usr: 'No such device or address', want 'verity'/)
  })
})

describe('check 3: system running', () => {
  it('passes on running', () => {
    expect(systemRunningVerdict('state=running\n')).toEqual({status: 'pass', detail: 'running, no failed units', facts: {state: 'running', 'failed-units': ''}})
  })

  it('names the failed units when degraded', () => {
    const out = [
      'state=degraded',
      'failed: systemd-networkd-wait-online.service loaded failed failed Wait for Network to be Configured',
      'failed: ldconfig.service loaded failed failed Rebuild Dynamic Linker Cache',
    ].join('\n')
    const r = systemRunningVerdict(out)
    expect(r.status).toBe('fail')
    expect(r.detail).toBe('system is degraded — failed units: systemd-networkd-wait-online.service, ldconfig.service')
    expect(r.facts!['failed-units']).toBe('systemd-networkd-wait-online.service ldconfig.service')
  })

  it('says when the wait timed out with jobs still queued', () => {
    const r = systemRunningVerdict('state=\njob: 123 containerd.service start running\n')
    expect(r.detail).toBe('system is not up — jobs still queued: containerd.service start; no answer within 180 s')
  })
})

describe('check 4: containerd', () => {
  const ref = 'docker.io/keel/test-busybox:1'
  it('passes when the image was imported and the container echoed the nonce', () => {
    const r = containerdVerdict(`active=active\nimport=ok\nimages=${ref}\necho=abc123\n`, ref, 'abc123')
    expect(r.status).toBe('pass')
  })

  it('fails with the ctr error when the run fails', () => {
    const r = containerdVerdict(`active=active\nimport=ok\nimages=${ref}\necho=ctr: failed to create shim task: OCI runtime create failed\n`, ref, 'abc123')
    expect(r.status).toBe('fail')
    expect(r.detail).toBe("the container's output: 'ctr: failed to create shim task: OCI runtime create failed', want 'abc123'")
  })
})

describe('extras: sshd and first boot', () => {
  it('sshd: the socket or the service serves, and only the Ed25519 host key exists', () => {
    const socket = 'socket=active\nservice=inactive\nkeygen=success\nhost-keys=ssh_host_ed25519_key\n'
    expect(sshdVerdict(socket)).toMatchObject({status: 'pass', detail: 'sshd.socket serves ssh with one host key (Ed25519)'})
    expect(sshdVerdict(socket.replace('socket=active', 'socket=inactive').replace('service=inactive', 'service=active')).detail).toBe('ssh.service serves ssh with one host key (Ed25519)')
    expect(sshdVerdict(socket.replace('socket=active', 'socket=failed')).detail).toBe("sshd.socket or ssh.service active: 'sshd.socket failed, ssh.service inactive'")
    expect(sshdVerdict(socket.replace('host-keys=ssh_host_ed25519_key', 'host-keys=ssh_host_ecdsa_key ssh_host_ed25519_key ssh_host_rsa_key')).detail).toBe(
      "host keys: 'ssh_host_ecdsa_key ssh_host_ed25519_key ssh_host_rsa_key', want 'ssh_host_ed25519_key'",
    )
  })

  it('root growth: ROOT ends at the disk\'s end (the backup GPT after it) and ext4 fills it', () => {
    // As a 9 GiB disk showed it: 18874368 sectors, ROOT (vda7) ends 40 sectors before, 3.7 GiB of ext4.
    const grown = 'root-partition=vda7\nunit=success active\ndisk-sectors=18874368\nroot-end=18874328\nroot-bytes=4025462784\nfs-bytes=3883626496\n'
    expect(rootGrowthVerdict(grown)).toMatchObject({status: 'pass', detail: 'ROOT (vda7) ends 40 sectors before the disk\'s end; ext4 fills 96.5 % of it (3.75 GiB)'})
    // Not grown: the image's 2 GiB ROOT on a disk 1 GiB larger.
    const stuck = rootGrowthVerdict(grown.replace('root-end=18874328', 'root-end=16775168').replace('unit=success active', 'unit=exit-code failed'))
    expect(stuck.status).toBe('fail')
    expect(stuck.detail).toBe("keel-grow-root.service: 'exit-code failed', want 'success active'; sectors after ROOT: '2099200', want '≤ 2089'")
    // Partition grown, filesystem not.
    expect(rootGrowthVerdict(grown.replace('fs-bytes=3883626496', 'fs-bytes=2040109465')).detail).toBe("ext4 size / ROOT size: '0.507', want '> 0.9'")
  })

  it('first boot: flag on this boot, the default (a glob) matches only entries without it', () => {
    const good = 'firstboot-arg=1\ndone-unit=success active\nesp-on-boot=1\nloader-default=keel-[ab][+.]*\ndefault-entries= keel-a.conf\ndefault-has-firstboot=0\n'
    const r = firstBootVerdict(good)
    expect(r).toMatchObject({status: 'pass', detail: 'first boot ran with ignition.firstboot; the default now boots keel-a.conf (normal boot)'})
    const stuck = firstBootVerdict(good.replace('default-entries= keel-a.conf', 'default-entries= keel-a-firstboot.conf').replace('default-has-firstboot=0', 'default-has-firstboot=1'))
    expect(stuck.status).toBe('fail')
    expect(stuck.detail).toBe("default entries with ignition.firstboot: '1', want '0'")
    const none = firstBootVerdict(good.replace('default-entries= keel-a.conf', 'default-entries='))
    expect(none.detail).toBe("entries matching the loader default 'keel-[ab][+.]*': (nothing)")
    expect(firstBootVerdict(good.replace('esp-on-boot=1', 'esp-on-boot=0')).detail).toBe("the ESP mounted on /boot when read: '0', want '1'")
  })
})
