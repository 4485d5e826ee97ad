import {describe, expect, it} from 'vitest'
import {markerUnit, testFixture, testIgnitionConfig} from '../../../src/boot/checks/fixture.js'

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyBytesForTheTestOnly0000000000000000 keel-test'

describe('the test Ignition config', () => {
  const f = testFixture('0123456789abcdef', `${KEY}\n`)

  it('creates core with the key, a 0640 file and the enabled marker unit', () => {
    const config = testIgnitionConfig(f) as any
    expect(config.ignition.version).toBe('3.3.0')
    expect(config.passwd.users).toEqual([{name: 'core', sshAuthorizedKeys: [KEY]}])
    expect(config.storage.files).toEqual([
      {path: '/etc/keel-test/hello', mode: 0o640, contents: {source: 'data:,hello%20from%20keel%20test%200123456789abcdef%0A'}},
    ])
    expect(config.systemd.units).toHaveLength(1)
    expect(config.systemd.units[0]).toMatchObject({name: 'keel-test-ready.service', enabled: true})
  })

  it('the unit waits for sshd and the first-boot switch and writes the marker to the test channel', () => {
    const unit = markerUnit(f)
    expect(unit).toContain('After=sshd.socket ssh.service keel-firstboot-done.service\n')
    expect(unit).toContain("ExecStart=/bin/sh -c 'echo KEEL-TEST-READY 0123456789abcdef | tee /dev/ttyS1'\n")
    expect(unit).toContain('WantedBy=multi-user.target\n')
    expect(f.marker).toBe('KEEL-TEST-READY 0123456789abcdef')
  })

  it('refuses a nonce that would need quoting in the unit', () => {
    expect(() => testFixture("abc'; rm -rf /", KEY)).toThrow(/hex/)
  })
})
