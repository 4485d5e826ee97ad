import {expect} from 'vitest'
import type {IgnitionConfig, TranslateOptionsWithSpec} from '../../src/ignition/index.js'
import type {Diagnostic} from '../../src/core/diagnostics.js'
import {brief, cc, dropin, file, fileText, unit} from './helpers.js'

/**
 * One case per key of the coverage list (issue 4): a cloud-config, and what the Ignition output must hold,
 * written by hand. keys.test.ts checks them; oracle.int.test.ts feeds every output to ignition-validate.
 */
export interface KeyCase {
  key: string
  input: string
  opts?: TranslateOptionsWithSpec
  /** false: the translation must fail (the check then looks at the diagnostics only). */
  translates?: boolean
  check(config: IgnitionConfig | undefined, diagnostics: string[], raw: Diagnostic[]): void
}

const hello = 'hello\n'

export const KEY_CASES: KeyCase[] = [
  {
    key: 'hostname → /etc/hostname (overwrite)',
    input: cc('hostname: node-1\n'),
    check(c) {
      expect(file(c, '/etc/hostname')).toMatchObject({overwrite: true, mode: 0o644})
      expect(fileText(c, '/etc/hostname')).toBe('node-1\n')
    },
  },
  {
    key: 'manage_etc_hosts: localhost → /etc/hosts',
    input: cc('hostname: node-1\nmanage_etc_hosts: localhost\n'),
    check(c) {
      expect(fileText(c, '/etc/hosts')).toBe('127.0.0.1 node-1\n')
      expect(file(c, '/etc/hosts')?.overwrite).toBe(true)
    },
  },
  {
    key: 'manage_etc_hosts: anything else is an error',
    input: cc('manage_etc_hosts: true\n'),
    translates: false,
    check(_c, d) {
      expect(d).toContain('2:error: invalid value true')
    },
  },
  {
    key: 'ssh_authorized_keys → core, merged with users[core]',
    input: cc('ssh_authorized_keys:\n  - ssh-ed25519 AAAA top\nusers:\n  - name: core\n    ssh_authorized_keys: [ssh-ed25519 BBBB user]\n    groups: [docker]\n'),
    check(c) {
      expect(c?.passwd?.users).toEqual([{name: 'core', sshAuthorizedKeys: ['ssh-ed25519 BBBB user', 'ssh-ed25519 AAAA top'], groups: ['docker']}])
    },
  },
  {
    key: 'users[]: every field, YAML 1.1 booleans, passwd verbatim',
    input: cc(
      [
        'users:',
        '  - name: elroy',
        '    passwd: $1$private_ipv4$public_ipv4/abc',
        '    gecos: arbitrary comment',
        '    homedir: /home/place',
        '    no-create-home: yes',
        '    primary-group: things',
        '    groups: [ping, pong]',
        '    no-user-group: on',
        '    system: y',
        '    no-log-init: True',
        '    shell: /bin/sh',
        '    ssh-authorized-keys: [somekey]',
        '',
      ].join('\n'),
    ),
    opts: {vars: {private_ipv4: '10.0.0.5', public_ipv4: '1.2.3.4'}},
    check(c, d) {
      expect(c?.passwd?.users).toEqual([
        {
          name: 'elroy',
          passwordHash: '$1$private_ipv4$public_ipv4/abc',
          gecos: 'arbitrary comment',
          homeDir: '/home/place',
          noCreateHome: true,
          primaryGroup: 'things',
          groups: ['ping', 'pong'],
          noUserGroup: true,
          system: true,
          noLogInit: true,
          shell: '/bin/sh',
          sshAuthorizedKeys: ['somekey'],
        },
      ])
      expect(d).toEqual([])
    },
  },
  {
    key: 'users[]: coreos-ssh-import-github/-url are reported',
    input: cc('users:\n  - name: core\n    coreos-ssh-import-github: octocat\n    coreos-ssh-import-url: https://example.invalid/keys\n'),
    check(c, d) {
      expect(c?.passwd?.users).toEqual([{name: 'core'}])
      expect(d.filter((x) => /cannot be carried over/.test(x)).map((x) => x.split(':')[0])).toEqual(['4', '5'])
    },
  },
  {
    key: 'write_files[]: path, content, permissions, owner user:group',
    input: cc("write_files:\n  - path: /etc/motd\n    content: hello\n    permissions: '0600'\n    owner: core:docker\n"),
    check(c) {
      expect(file(c, '/etc/motd')).toMatchObject({overwrite: true, mode: 0o600, user: {name: 'core'}, group: {name: 'docker'}})
      expect(fileText(c, '/etc/motd')).toBe('hello')
    },
  },
  {
    key: 'write_files[]: owner user, user.group, numeric ids; default mode 0644',
    input: cc('write_files:\n  - path: /etc/a\n    owner: core\n  - path: /etc/b\n    owner: core.wheel\n  - path: /etc/c\n    owner: "500:600"\n'),
    check(c) {
      expect(file(c, '/etc/a')).toMatchObject({mode: 420, user: {name: 'core'}})
      expect(file(c, '/etc/a')?.group).toBeUndefined()
      expect(file(c, '/etc/b')).toMatchObject({user: {name: 'core'}, group: {name: 'wheel'}})
      expect(file(c, '/etc/c')).toMatchObject({user: {id: 500}, group: {id: 600}})
      expect(fileText(c, '/etc/a')).toBe('')
    },
  },
  ...(['b64', 'base64'] as const).map(
    (enc): KeyCase => ({
      key: `write_files[]: encoding ${enc}`,
      input: cc(`write_files:\n  - path: /etc/x\n    encoding: ${enc}\n    content: aGVsbG8K\n`),
      check: (c) => expect(fileText(c, '/etc/x')).toBe(hello),
    }),
  ),
  ...(['gz', 'gzip'] as const).map(
    (enc): KeyCase => ({
      key: `write_files[]: encoding ${enc} with !!binary content`,
      input: cc(`write_files:\n  - path: /etc/x\n    encoding: ${enc}\n    content: !!binary H4sIAOC3tVQAA8tIzcnJ5wIAIDA6NgYAAAA=\n`),
      check: (c) => expect(fileText(c, '/etc/x')).toBe(hello),
    }),
  ),
  ...(['gz+b64', 'gzip+b64', 'gz+base64', 'gzip+base64'] as const).map(
    (enc): KeyCase => ({
      key: `write_files[]: encoding ${enc}`,
      input: cc(`write_files:\n  - path: /etc/x\n    encoding: ${enc}\n    content: H4sIAOC3tVQAA8tIzcnJ5wIAIDA6NgYAAAA=\n`),
      check: (c) => expect(fileText(c, '/etc/x')).toBe(hello),
    }),
  ),
  {
    key: 'write_files[]: !!binary content without encoding is the bytes',
    input: cc('write_files:\n  - path: /etc/x\n    content: !!binary aGVsbG8K\n'),
    check: (c) => expect(fileText(c, '/etc/x')).toBe(hello),
  },
  {
    key: 'write_files[]: undecodable content is an error at the content line',
    input: cc('write_files:\n  - path: /etc/x\n    encoding: base64\n    content: "hello world"\n'),
    translates: false,
    check: (_c, d) => expect(d).toContain('5:error: content cannot be decoded as "base64"'),
  },
  {
    key: 'write_files[]: large text is gzip-compressed, small text percent-encoded',
    input: cc(`write_files:\n  - path: /etc/big\n    content: "${'abc '.repeat(200)}"\n  - path: /etc/small\n    content: "a b"\n`),
    check(c) {
      expect(file(c, '/etc/big')?.contents.compression).toBe('gzip')
      expect(fileText(c, '/etc/big')).toBe('abc '.repeat(200))
      expect(file(c, '/etc/small')?.contents).toEqual({source: 'data:,a%20b'})
    },
  },
  {
    key: 'write_files[]: /run and /tmp are warned about, /usr is an error',
    input: cc('write_files:\n  - path: /run/x\n  - path: /tmp/y\n  - path: /tmp/../usr/z\n'),
    translates: false,
    check(_c, d) {
      expect(d.filter((x) => x.includes('tmpfs')).map((x) => x.split(':')[0])).toEqual(['3', '4'])
      expect(d).toContain('5:error: file cannot be written to a read-only filesystem')
    },
  },
  {
    key: 'YAML 1.1: permissions 0644 unquoted is octal (420)',
    input: cc('write_files:\n  - path: /etc/x\n    permissions: 0644\n  - path: /etc/y\n    permissions: 0755\n'),
    check(c, d) {
      expect(file(c, '/etc/x')?.mode).toBe(420)
      expect(file(c, '/etc/y')?.mode).toBe(493)
      expect(d).toEqual([])
    },
  },
  {
    key: 'YAML 1.1: a mode that looks like a decimal rewrite (420) gets a warning',
    input: cc('write_files:\n  - path: /etc/x\n    permissions: 420\n'),
    check(c, d) {
      expect(file(c, '/etc/x')?.mode).toBe(0o420)
      expect(d).toEqual(['4:warning: permissions 420 are read as octal 0420 (as coreos-cloudinit did); if you meant decimal 420 (= 0644), write 0644'])
    },
  },
  {
    key: 'YAML 1.1: window_start 10:00 stays a time (not 600)',
    input: cc('coreos:\n  locksmith:\n    window-start: 10:00\n    window-length: 1h\n'),
    check(c) {
      expect(dropin(c, 'locksmithd.service', '20-cloudinit.conf')).toBe('[Service]\nEnvironment="REBOOT_WINDOW_START=10:00"\nEnvironment="REBOOT_WINDOW_LENGTH=1h"\n')
    },
  },
  {
    key: 'coreos.locksmith: LOCKSMITHD_ variables',
    input: cc('coreos:\n  locksmith:\n    endpoint: http://10.0.0.1:2379\n    group: odd\n    etcd_cafile: /etc/ca.pem\n'),
    check(c) {
      expect(dropin(c, 'locksmithd.service', '20-cloudinit.conf')).toBe(
        '[Service]\nEnvironment="LOCKSMITHD_ENDPOINT=http://10.0.0.1:2379"\nEnvironment="LOCKSMITHD_ETCD_CAFILE=/etc/ca.pem"\nEnvironment="LOCKSMITHD_GROUP=odd"\n',
      )
    },
  },
  {
    key: 'coreos.units[]: name, content with [Install], enable (yes) → enabled',
    input: cc('coreos:\n  units:\n    - name: web.service\n      enable: yes\n      content: |\n        [Service]\n        ExecStart=/bin/true\n        [Install]\n        WantedBy=multi-user.target\n'),
    check(c, d) {
      expect(unit(c, 'web.service')).toEqual({name: 'web.service', enabled: true, contents: '[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n'})
      expect(d).toEqual([])
    },
  },
  {
    key: 'coreos.units[]: mask',
    input: cc('coreos:\n  units:\n    - name: update-engine.service\n      mask: true\n'),
    check: (c) => expect(unit(c, 'update-engine.service')).toEqual({name: 'update-engine.service', mask: true}),
  },
  {
    key: 'coreos.units[]: runtime cannot be expressed (warning)',
    input: cc('coreos:\n  units:\n    - name: a.service\n      runtime: true\n      content: "[Service]\\nExecStart=/bin/true\\n"\n'),
    check(c, d) {
      expect(unit(c, 'a.service')?.contents).toBe('[Service]\nExecStart=/bin/true\n')
      expect(d).toEqual(['5:warning: runtime: true cannot be expressed in Ignition: a.service is written to /etc/systemd/system and persists across reboots'])
    },
  },
  {
    key: 'coreos.units[]: command start without [Install] → wants link and a warning',
    input: cc('coreos:\n  units:\n    - name: once.service\n      command: start\n      content: "[Service]\\nType=oneshot\\nExecStart=/bin/true\\n"\n'),
    check(c, d) {
      expect(unit(c, 'once.service')?.enabled).toBeUndefined()
      expect(c?.storage?.links).toEqual([
        {path: '/etc/systemd/system/multi-user.target.wants/once.service', target: '/etc/systemd/system/once.service', overwrite: true, hard: false},
      ])
      expect(d).toHaveLength(1)
      expect(d[0]).toMatch(/^5:warning: command: start has no Ignition equivalent; once.service is enabled instead/)
    },
  },
  {
    key: 'coreos.units[]: command start on an image unit → enabled, with a warning',
    input: cc('coreos:\n  units:\n    - name: docker.socket\n      command: start\n'),
    check(c, d) {
      expect(unit(c, 'docker.socket')).toEqual({name: 'docker.socket', enabled: true})
      expect(d).toEqual(['5:warning: command: start has no Ignition equivalent; docker.socket is enabled instead, so it starts at every boot, not once'])
    },
  },
  {
    key: 'coreos.units[]: command start on an instance of a template without [Install] → wants link to the template',
    input: cc('coreos:\n  units:\n    - name: echo@.service\n      content: "[Service]\\nExecStart=/bin/echo %i\\n"\n    - name: echo@hi.service\n      command: start\n'),
    check(c) {
      expect(unit(c, 'echo@hi.service')).toEqual({name: 'echo@hi.service'})
      expect(c?.storage?.links).toEqual([
        {path: '/etc/systemd/system/multi-user.target.wants/echo@hi.service', target: '/etc/systemd/system/echo@.service', overwrite: true, hard: false},
      ])
    },
  },
  {
    key: 'coreos.units[]: drop-ins and drop_ins both read',
    input: cc(
      'coreos:\n  units:\n    - name: docker.service\n      drop-ins:\n        - name: 10-a.conf\n          content: "[Service]\\nEnvironment=A=1\\n"\n    - name: containerd.service\n      drop_ins:\n        - name: 10-b.conf\n          content: "[Service]\\nEnvironment=B=1\\n"\n',
    ),
    check(c) {
      expect(dropin(c, 'docker.service', '10-a.conf')).toBe('[Service]\nEnvironment=A=1\n')
      expect(dropin(c, 'containerd.service', '10-b.conf')).toBe('[Service]\nEnvironment=B=1\n')
    },
  },
  {
    key: 'coreos.units[]: .network/.netdev/.link become files under /etc/systemd/network',
    input: cc('coreos:\n  units:\n    - name: 50-eth0.network\n      content: "[Match]\\nName=eth0\\n"\n    - name: 10-bond.netdev\n      content: "[NetDev]\\nName=bond0\\n"\n'),
    check(c) {
      expect(c?.systemd).toBeUndefined()
      expect(fileText(c, '/etc/systemd/network/50-eth0.network')).toBe('[Match]\nName=eth0\n')
      expect(fileText(c, '/etc/systemd/network/10-bond.netdev')).toBe('[NetDev]\nName=bond0\n')
    },
  },
  {
    key: 'coreos.units[]: the same unit twice is merged',
    input: cc('coreos:\n  units:\n    - name: etcd2.service\n      command: start\n    - name: etcd2.service\n      drop-ins:\n        - name: 50-x.conf\n          content: "[Service]\\n"\n'),
    check(c) {
      expect(c?.systemd?.units).toEqual([{name: 'etcd2.service', enabled: true, dropins: [{name: '50-x.conf', contents: '[Service]\n'}]}])
    },
  },
  {
    key: 'coreos.etcd2: ETCD_ variables in a 20-cloudinit.conf drop-in',
    input: cc('coreos:\n  etcd2:\n    name: node1\n    discovery: https://discovery.etcd.io/abc\n    heartbeat-interval: 100\n    proxy: on\n    debug: false\n'),
    check(c) {
      expect(dropin(c, 'etcd2.service', '20-cloudinit.conf')).toBe(
        '[Service]\nEnvironment="ETCD_DISCOVERY=https://discovery.etcd.io/abc"\nEnvironment="ETCD_HEARTBEAT_INTERVAL=100"\nEnvironment="ETCD_NAME=node1"\nEnvironment="ETCD_PROXY=on"\n',
      )
    },
  },
  {
    key: 'service settings: quotes and backslashes are escaped for systemd, % specifiers kept',
    input: cc(`coreos:\n  etcd2:\n    name: '%H'\n    cors: 'say "hi" \\ bye'\n`),
    check(c) {
      expect(dropin(c, 'etcd2.service', '20-cloudinit.conf')).toBe('[Service]\nEnvironment="ETCD_CORS=say \\"hi\\" \\\\ bye"\nEnvironment="ETCD_NAME=%H"\n')
    },
  },
  {
    key: 'coreos.etcd (0.4): ETCD_SNAPSHOTCOUNT, and a retired warning',
    input: cc('coreos:\n  etcd:\n    addr: 10.0.0.1:4001\n    snapshot-count: 5000\n'),
    check(c, d) {
      expect(dropin(c, 'etcd.service', '20-cloudinit.conf')).toBe('[Service]\nEnvironment="ETCD_ADDR=10.0.0.1:4001"\nEnvironment="ETCD_SNAPSHOTCOUNT=5000"\n')
      expect(d).toEqual(['3:warning: deprecated key "etcd" (etcd is no longer shipped in Container Linux)'])
    },
  },
  {
    key: 'coreos.fleet: FLEET_ variables, and a retired warning',
    input: cc('coreos:\n  fleet:\n    metadata: role=web\n    etcd-request-timeout: 1.5\n'),
    check(c, d) {
      expect(dropin(c, 'fleet.service', '20-cloudinit.conf')).toBe('[Service]\nEnvironment="FLEET_ETCD_REQUEST_TIMEOUT=1.5"\nEnvironment="FLEET_METADATA=role=web"\n')
      expect(d).toEqual(['3:warning: deprecated key "fleet" (fleet is no longer shipped in Container Linux)'])
    },
  },
  {
    key: 'coreos.flannel → flanneld.service drop-in (not a /run file)',
    input: cc('coreos:\n  flannel:\n    interface: eth1\n    etcd-prefix: /coreos.com/network\n'),
    check(c) {
      expect(dropin(c, 'flanneld.service', '20-cloudinit.conf')).toBe('[Service]\nEnvironment="FLANNELD_ETCD_PREFIX=/coreos.com/network"\nEnvironment="FLANNELD_IFACE=eth1"\n')
      expect(c?.storage).toBeUndefined()
    },
  },
  {
    key: 'coreos.update → the update configuration file',
    input: cc('coreos:\n  update:\n    reboot-strategy: etcd-lock\n    group: beta\n    server: https://updates.example.invalid/v1/update/\n'),
    check(c) {
      expect(fileText(c, '/etc/keel/update.conf')).toBe('REBOOT_STRATEGY=etcd-lock\nGROUP=beta\nSERVER=https://updates.example.invalid/v1/update/\n')
      expect(file(c, '/etc/keel/update.conf')?.overwrite).toBe(true)
    },
  },
  {
    key: 'coreos.update: off (YAML 1.1 boolean spelling) also masks the reboot manager',
    input: cc('coreos:\n  update:\n    reboot-strategy: off\n'),
    check(c) {
      expect(fileText(c, '/etc/keel/update.conf')).toBe('REBOOT_STRATEGY=off\n')
      expect(unit(c, 'locksmithd.service')).toEqual({name: 'locksmithd.service', mask: true})
    },
  },
  {
    key: 'coreos.update: an invalid strategy (best-effort) is an error',
    input: cc('coreos:\n  update:\n    reboot-strategy: best-effort\n'),
    translates: false,
    check: (_c, d) => expect(d).toEqual(['4:error: invalid value best-effort']),
  },
  {
    key: 'coreos.oem → /etc/oem-release',
    input: cc('coreos:\n  oem:\n    id: rackspace\n    name: Rackspace Cloud Servers\n    version-id: 168.0.0\n    home-url: https://www.rackspace.com/\n    bug-report-url: https://github.com/coreos/coreos-overlay\n'),
    check(c) {
      expect(fileText(c, '/etc/oem-release')).toBe(
        'ID=rackspace\nVERSION_ID=168.0.0\nNAME="Rackspace Cloud Servers"\nHOME_URL="https://www.rackspace.com/"\nBUG_REPORT_URL="https://github.com/coreos/coreos-overlay"\n',
      )
    },
  },
  {
    key: 'variables: $private_ipv4 in an Exec line → ${KEEL_PRIVATE_IPV4} + EnvironmentFile and ordering',
    input: cc('coreos:\n  units:\n    - name: app.service\n      content: |\n        [Service]\n        ExecStart=/bin/app --bind=$private_ipv4 --literal=\\$public_ipv4\n'),
    check(c, d) {
      expect(unit(c, 'app.service')?.contents).toBe('[Service]\nExecStart=/bin/app --bind=${KEEL_PRIVATE_IPV4} --literal=\\$public_ipv4\n')
      expect(dropin(c, 'app.service', '10-keel-metadata.conf')).toBe(
        '[Unit]\nRequires=keel-metadata.service\nAfter=keel-metadata.service\n\n[Service]\nEnvironmentFile=/run/keel/metadata.env\n',
      )
      expect(d).toEqual([])
    },
  },
  {
    key: 'variables: a service using COREOS_PRIVATE_IPV4 (from /etc/environment upstream) gets the metadata environment',
    input: cc('coreos:\n  units:\n    - name: app.service\n      content: "[Service]\\nExecStart=/bin/app ${COREOS_PRIVATE_IPV4}\\n"\n'),
    check(c, d) {
      expect(unit(c, 'app.service')?.contents).toBe('[Service]\nExecStart=/bin/app ${COREOS_PRIVATE_IPV4}\n')
      expect(dropin(c, 'app.service', '10-keel-metadata.conf')).toContain('EnvironmentFile=/run/keel/metadata.env\n')
      expect(d).toEqual([])
    },
  },
  {
    key: 'variables: in service settings → a template rendered at boot',
    input: cc('coreos:\n  etcd2:\n    name: n1\n    advertise-client-urls: http://$public_ipv4:2379\n'),
    check(c) {
      expect(fileText(c, '/etc/keel/metadata/templates/etcd2.service.env')).toBe('ETCD_ADVERTISE_CLIENT_URLS="http://${KEEL_PUBLIC_IPV4}:2379"\n')
      expect(dropin(c, 'etcd2.service', '20-cloudinit.conf')).toBe(
        '[Unit]\nRequires=keel-metadata.service\nAfter=keel-metadata.service\n\n[Service]\nEnvironment="ETCD_NAME=n1"\nEnvironmentFile=/run/keel/metadata/etcd2.service.env\n',
      )
    },
  },
  {
    key: 'variables: --var substitutes at translate time, everywhere',
    input: cc('hostname: $private_ipv6\ncoreos:\n  etcd2:\n    advertise-client-urls: http://$public_ipv4:2379\n  units:\n    - name: app.service\n      content: "[Service]\\nExecStart=/bin/app $private_ipv4\\n"\n'),
    opts: {vars: {private_ipv4: '10.0.0.5', public_ipv4: '203.0.113.9', private_ipv6: 'fd00--1'}},
    check(c, d) {
      expect(unit(c, 'app.service')).toEqual({name: 'app.service', contents: '[Service]\nExecStart=/bin/app 10.0.0.5\n'})
      expect(dropin(c, 'etcd2.service', '20-cloudinit.conf')).toBe('[Service]\nEnvironment="ETCD_ADVERTISE_CLIENT_URLS=http://203.0.113.9:2379"\n')
      expect(fileText(c, '/etc/hostname')).toBe('fd00--1\n')
      expect(d).toEqual(['4:warning: deprecated key "etcd2" (etcd2 is no longer shipped in Container Linux)'])
    },
  },
  {
    key: 'variables: unresolvable under --strict → error with line:col',
    input: cc('coreos:\n  units:\n    - name: app.service\n      content: "[Service]\\nExecStart=/bin/app $private_ipv4\\n"\n'),
    opts: {strict: true},
    translates: false,
    check(_c, _d, raw) {
      expect(raw.map((x) => [x.severity, x.location?.line, x.location?.col, x.message])).toEqual([
        // column 47: the `$` itself, inside the double-quoted string
        ['error', 5, 47, '$private_ipv4 is not known at translate time (--strict); give --var private_ipv4=VALUE'],
      ])
    },
  },
  {
    key: 'variables: --platform without a metadata service (qemu) cannot fill them in at boot',
    input: cc('coreos:\n  flannel:\n    interface: $public_ipv4\n'),
    opts: {platform: 'qemu'},
    translates: false,
    check: (_c, d) => expect(d).toEqual(['4:error: $public_ipv4 cannot be filled in at boot on qemu (no metadata service there); give --var public_ipv4=VALUE']),
  },
  {
    key: 'variables: --platform with metadata (aws) keeps the boot-time reference',
    input: cc('coreos:\n  flannel:\n    interface: $public_ipv4\n'),
    opts: {platform: 'aws'},
    check: (c) => expect(fileText(c, '/etc/keel/metadata/templates/flanneld.service.env')).toBe('FLANNELD_IFACE="${KEEL_PUBLIC_IPV4}"\n'),
  },
  {
    key: 'header: missing #cloud-config is an error with a hint',
    input: 'hostname: x\n',
    translates: false,
    check(_c, _d, raw) {
      expect(raw).toHaveLength(1)
      expect(raw[0]).toMatchObject({severity: 'error', message: 'must be "#cloud-config" or begin with "#!"', location: {line: 1, col: 1}})
      expect(raw[0]!.notes?.[0]?.message).toMatch(/add "#cloud-config" as the first line/)
    },
  },
  {
    key: 'unknown keys are warnings with line:col',
    input: cc('hostname: a\nhostnme: b\ncoreos:\n  unitz: []\n'),
    check(c, _d, raw) {
      expect(raw.map((x) => [x.severity, x.location?.line, x.location?.col, x.message])).toEqual([
        ['warning', 3, 1, 'unrecognized key "hostnme"'],
        ['warning', 5, 3, 'unrecognized key "unitz"'],
      ])
      expect(fileText(c, '/etc/hostname')).toBe('a\n')
    },
  },
]
