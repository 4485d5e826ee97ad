import {equals, FACT_PRELUDE, parseFacts, verdict} from './facts.js'
import {buildTestContainer} from './test-container.js'
import type {Check, CheckOutcome} from './types.js'

/**
 * Check 4: containerd runs, and runs a container from an OCI image tarball built on the host (busybox from
 * Debian, packed by oci-image.ts): copied in over ssh, imported with ctr, run once; the container must echo
 * the run's nonce back. No registry is involved.
 */

export const CONTAINER_TARBALL = '/tmp/keel-test-image.tar'
export const CTR_NAMESPACE = 'keel-test'

export function containerdScript(reference: string, nonce: string): string {
  const name = `keel-test-${nonce.slice(0, 12)}`
  return `${FACT_PRELUDE}
fact active "$(systemctl is-active containerd.service)"
if out=$(ctr -n ${CTR_NAMESPACE} images import ${CONTAINER_TARBALL} 2>&1); then fact import ok; else fact import "$(printf '%s' "$out" | tail -n 3)"; fi
fact images "$(ctr -n ${CTR_NAMESPACE} images ls -q 2>&1)"
fact echo "$(ctr -n ${CTR_NAMESPACE} run --rm ${reference} ${name} /bin/busybox echo ${nonce} 2>&1 | tail -n 3)"
ctr -n ${CTR_NAMESPACE} images rm ${reference} >/dev/null 2>&1
rm -f ${CONTAINER_TARBALL}
`
}

export function containerdVerdict(stdout: string, reference: string, nonce: string): CheckOutcome {
  const facts = parseFacts(stdout)
  return verdict(
    [
      equals(facts, 'active', 'active', 'containerd.service'),
      equals(facts, 'import', 'ok', 'ctr images import'),
      {what: 'imported image', ok: (facts.images ?? '').split(' ').includes(reference), saw: facts.images ?? '', want: reference},
      equals(facts, 'echo', nonce, 'the container\'s output'),
    ],
    `containerd active; ${reference} imported from an OCI tarball and run: it echoed the nonce`,
    facts,
  )
}

export const containerdCheck: Check = {
  id: 4,
  name: 'containerd',
  title: 'containerd runs a container from a locally built OCI image tarball',
  needs: 'shared-boot',
  async run({guest, cache, reporter}) {
    const image = await buildTestContainer({cache, reporter})
    const copy = await guest!.sh(`cat > ${CONTAINER_TARBALL}`, {input: image.archive})
    if (copy.code !== 0) return {status: 'fail', detail: `copying the image in failed: ${copy.stderr.trim()}`}
    const nonce = guest!.fixture.nonce
    const r = await guest!.sh('sudo bash -s', {input: containerdScript(image.reference, nonce), timeoutS: 300})
    const outcome = containerdVerdict(r.stdout, image.reference, nonce)
    return {...outcome, facts: {...outcome.facts, 'image-manifest': image.manifest.digest, 'image-bytes': String(image.archive.length)}}
  },
}
