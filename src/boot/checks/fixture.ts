/**
 * What `keel test` asks of the first boot, as data (pure): the Ignition config creates user core with the
 * run's SSH key, writes a file with a mode, and enables a unit that prints a marker with the run's nonce.
 * The checks compare what they find in the guest against this same object.
 */

export interface TestFixture {
  user: string
  /** One OpenSSH public key line ('ssh-ed25519 AAAA… comment'). */
  publicKey: string
  /** Per-run random hex: a marker or a container echo from an earlier run can never pass for this one. */
  nonce: string
  file: {path: string; mode: number; content: string}
  unit: {name: string}
  /** The line the unit writes to the test channel (the guest's /dev/ttyS1) once the system is up. */
  marker: string
}

/** The serial port the marker unit writes to: the second one, which QEMU logs apart from the console. */
export const CHANNEL_DEVICE = '/dev/ttyS1'

export function testFixture(nonce: string, publicKey: string): TestFixture {
  if (!/^[0-9a-f]{8,64}$/.test(nonce)) throw new Error(`nonce must be lowercase hex: '${nonce}'`)
  return {
    user: 'core',
    publicKey: publicKey.trim(),
    nonce,
    file: {path: '/etc/keel-test/hello', mode: 0o640, content: `hello from keel test ${nonce}\n`},
    unit: {name: 'keel-test-ready.service'},
    marker: `KEEL-TEST-READY ${nonce}`,
  }
}

function dataUrl(text: string): string {
  return `data:,${encodeURIComponent(text)}`
}

/**
 * The unit that says the guest is ready for the checks. It is ordered after sshd — its socket (one sshd per
 * connection) or its daemon, whichever the image enables; the checks log in — and after keel-firstboot-done
 * (the first-boot check reads what that unit switched); After= without Wants= only orders, it pulls nothing in. It prints the marker to the journal and to the test channel.
 */
export function markerUnit(f: TestFixture): string {
  return [
    '[Unit]',
    'Description=keel test: the system is up',
    'After=sshd.socket ssh.service keel-firstboot-done.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/sh -c 'echo ${f.marker} | tee ${CHANNEL_DEVICE}'`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/** The Ignition config (spec 3.3.0) for a test boot. */
export function testIgnitionConfig(f: TestFixture): object {
  return {
    ignition: {version: '3.3.0'},
    passwd: {users: [{name: f.user, sshAuthorizedKeys: [f.publicKey]}]},
    storage: {files: [{path: f.file.path, mode: f.file.mode, contents: {source: dataUrl(f.file.content)}}]},
    systemd: {units: [{name: f.unit.name, enabled: true, contents: markerUnit(f)}]},
  }
}
