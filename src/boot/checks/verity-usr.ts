import {equals, FACT_PRELUDE, parseFacts, verdict, rootScriptCheck} from './facts.js'
import type {CheckOutcome} from './types.js'

/**
 * Check 2: /usr is the dm-verity device, mounted read-only, and writing to it fails. The device-mapper table
 * must be a verity target whose root hash is the one the kernel command line pinned (usrhash=), so the
 * mount is checked against the hash the boot entry carried, not merely "some verity device".
 */

export const VERITY_SCRIPT = `${FACT_PRELUDE}
fact usr-source "$(findmnt -no SOURCE /usr)"
fact usr-fstype "$(findmnt -no FSTYPE /usr)"
fact usr-options "$(findmnt -no OPTIONS /usr)"
fact dm-target "$(dmsetup table usr 2>&1 | cut -d' ' -f3)"
fact dm-root-hash "$(dmsetup table usr 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "sha256") print $(i + 1)}')"
fact cmdline-usrhash "$(tr ' ' '\\n' < /proc/cmdline | sed -n 's/^usrhash=//p')"
fact usr-devices "$(dmsetup deps -o devname usr 2>&1 | sed 's/.*: //')"
fact root-fstype "$(findmnt -no FSTYPE /)"
fact device-ro "$(blockdev --getro /dev/mapper/usr 2>&1)"
if out=$(touch /usr/.keel-test-write 2>&1); then rm -f /usr/.keel-test-write; fact usr-write "allowed"; else fact usr-write "refused: $out"; fi
`

export function verityVerdict(stdout: string): CheckOutcome {
  const facts = parseFacts(stdout)
  const options = (facts['usr-options'] ?? '').split(',')
  const hash = facts['dm-root-hash'] ?? ''
  const write = facts['usr-write'] ?? ''
  return verdict(
    [
      equals(facts, 'usr-source', '/dev/mapper/usr', '/usr source'),
      equals(facts, 'dm-target', 'verity', 'device-mapper target of usr'),
      {what: 'verity root hash = usrhash= on the command line', ok: /^[0-9a-f]{64}$/.test(hash) && hash === facts['cmdline-usrhash'], saw: `${hash} vs ${facts['cmdline-usrhash'] ?? ''}`},
      {what: '/usr mount options', ok: options.includes('ro'), saw: facts['usr-options'] ?? '', want: 'ro,…'},
      equals(facts, 'device-ro', '1', 'block device read-only'),
      {what: 'writing to /usr as root', ok: write.startsWith('refused') && write.includes('Read-only file system'), saw: write, want: 'refused: … Read-only file system'},
    ],
    `/usr is /dev/mapper/usr (verity, root hash ${hash.slice(0, 12)}… = usrhash), ${facts['usr-fstype'] ?? '?'} ro; a write as root is refused (read-only file system)`,
    facts,
  )
}

export const verityUsrCheck = rootScriptCheck({id: 2, name: 'verity-usr', title: '/usr is a dm-verity device, mounted read-only; writing fails'}, VERITY_SCRIPT, verityVerdict)
