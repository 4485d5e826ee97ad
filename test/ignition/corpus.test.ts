import {describe, expect, it} from 'vitest'
import {sortDiagnostics} from '../../src/core/diagnostics.js'
import {checkIgnition, SPEC_VERSIONS, translate} from '../../src/ignition/index.js'
import {brief, corpusFiles} from './helpers.js'

/**
 * The real cloud-configs of the corpus (test/fixtures/cloud-config, README.md there says what each
 * exercises). Each either translates, or fails with the first error named here (line in the original
 * bytes, message). Templates committed unrendered fail where the placeholder breaks YAML or a value.
 */
export const CORPUS_OUTCOME: Record<string, 'ok' | {line: number; message: string}> = {
  '01-coreos-kubernetes-aws-cloud-config-controller.gotmpl.yaml': {line: 82, message: 'Implicit map keys need to be followed by map values'},
  '01-coreos-kubernetes-aws-cloud-config-worker.gotmpl.yaml': {line: 65, message: 'Implicit map keys need to be followed by map values'},
  '02-coreos-kubernetes-vagrant-etcd-cloud-config.yaml': 'ok',
  '03-coreos-vagrant-user-data.sample.yaml': 'ok',
  '04-coreos-vagrant-user-data.sample-2014-etcd0.4.yaml': 'ok',
  '05-camlistore-gce-cloud-config.yaml': 'ok',
  '06-azurekubernetes-etcd-nodes.tf-tpl.yaml': {line: 7, message: 'Implicit keys need to be on a single line'},
  '07-joaocc-deis-user-data.tf-tpl.yaml': {line: 35, message: 'All mapping items must start at the same column'},
  '08-kraken-etcd.tf-tpl.yaml': {line: 35, message: 'invalid value ${coreos_reboot_strategy}'},
  '09-kraken-aws-master.tf-tpl.yaml': {line: 98, message: 'invalid value ${coreos_reboot_strategy}'},
  '10-kube-aws-2015-controller-gzip-b64.tmpl.yaml': {line: 41, message: 'content cannot be decoded as "gzip+base64"'},
  '11-deis-user-data.example-v1.13.yaml': 'ok',
  '12-deis-user-data-v0.14-etcd0.4.yaml': 'ok',
  '13-calico-demo-node-config.yaml': 'ok',
  '14-weave-azure-main-nodes-NO-HEADER.yaml': {line: 1, message: 'must be "#cloud-config" or begin with "#!"'},
  '15-cloudinit-test-unknown-keys.yaml': 'ok',
  // A quoted scalar continued left of its key: libyaml's leniency, reproduced with a warning.
  '16-cloudinit-test-kitchen-sink-oem-network.yaml': 'ok',
  '17-cloudinit-test-users-all-fields.yaml': 'ok',
  '18-cloudinit-docs-write-files-encodings.yaml': 'ok',
  '19-cloudinit-examples-docker-tls-socket.yaml': 'ok',
  '20-cloudinit-examples-flannel-config.yaml': 'ok',
  '21-cloudinit-examples-sshd-socket-override.yaml': 'ok',
  '22-cloudinit-examples-networkd-bond0.yaml': 'ok',
  '23-cloudinit-examples-timezone.yaml': 'ok',
  '24-dosxvpn-locksmith-window-gotmpl.yaml': 'ok',
  '25-coreos-sandbox-erb-ssh-import-github-etcd0.4.yaml': {line: 6, message: 'invalid value <%= ENV["UPDATE_STRATEGY"] %>'},
  '26-coreos-sandbox-readme-MALFORMED-indent.yaml': {line: 5, message: 'All mapping items must start at the same column'},
  '27-cloudinit-readme-users-md5-passwd.yaml': 'ok',
  '28-flatcar-docs-update-group-server.yaml': 'ok',
  '29-flatcar-docs-locksmith-endpoint.yaml': 'ok',
  '30-flatcar-docs-manage-etc-hosts.yaml': 'ok',
  '31-flatcar-docs-etcd2-discovery.yaml': 'ok',
}

describe('the cloud-config corpus', () => {
  const files = corpusFiles()

  it('covers every corpus file', () => {
    expect(files.map((f) => f.name)).toEqual(Object.keys(CORPUS_OUTCOME).sort())
    expect(Object.values(CORPUS_OUTCOME).filter((o) => o === 'ok')).toHaveLength(22)
  })

  it.each(files.map((f) => [f.name, f.text]))('%s', (name, text) => {
    const expected = CORPUS_OUTCOME[name]!
    const r = translate(text, name)
    const errors = sortDiagnostics(r.diagnostics).filter((d) => d.severity === 'error')
    if (expected === 'ok') {
      expect(brief(errors)).toEqual([])
      // Our own schema and rules for every spec accept what we wrote.
      for (const spec of SPEC_VERSIONS) {
        const out = translate(text, name, {spec}).config
        expect(brief(checkIgnition('out.ign', JSON.stringify(out, null, 1)).diagnostics)).toEqual([])
      }
    } else {
      expect(r.config).toBeUndefined()
      expect({line: errors[0]?.location?.line, message: errors[0]?.message}).toEqual(expected)
    }
  })
})
