import {equals, FACT_PRELUDE, parseFacts, verdict, rootScriptCheck} from './facts.js'
import type {CheckOutcome} from './types.js'

/**
 * Extra check: ROOT fills its disk. keel test boots on an overlay larger than the image (as a cloud volume is
 * larger than the image written to it); on the first boot keel-grow-root moved ROOT's end to the disk's end and
 * grew the mounted ext4 into it. Sizes come from /sys (512-byte sectors) and statfs, so no tool in the image
 * has to agree with keel's idea of the layout.
 */

// The GPT's backup header and entries take the disk's last 33 sectors, and repart ends a partition on a
// 4 KiB boundary: ROOT is grown when at most that, plus one alignment step, is left after it.
export const MAX_SECTORS_LEFT_AFTER_ROOT = 33 + 8 + 2048

export const ROOT_GROWTH_SCRIPT = `${FACT_PRELUDE}
part=$(basename "$(readlink -f "$(findmnt -n -o SOURCE /)")")
disk=$(basename "$(readlink -f "/sys/class/block/$part/..")")
fact root-partition "$part"
fact unit "$(systemctl show -p Result --value keel-grow-root.service) $(systemctl is-active keel-grow-root.service)"
fact disk-sectors "$(cat "/sys/block/$disk/size")"
fact root-end "$(( $(cat "/sys/class/block/$part/start") + $(cat "/sys/class/block/$part/size") ))"
fact root-bytes "$(( $(cat "/sys/class/block/$part/size") * 512 ))"
fact fs-bytes "$(( $(stat -f -c '%b' /) * $(stat -f -c '%S' /) ))"
`

export function rootGrowthVerdict(stdout: string): CheckOutcome {
  const facts = parseFacts(stdout)
  const n = (name: string): number => Number(facts[name] ?? NaN)
  const left = n('disk-sectors') - n('root-end')
  // ext4 keeps a few percent for its own metadata (inode tables, journal): the size statfs reports is smaller.
  const fsShare = n('fs-bytes') / n('root-bytes')
  return verdict(
    [
      equals(facts, 'unit', 'success active', 'keel-grow-root.service'),
      {what: 'sectors after ROOT', ok: left >= 0 && left <= MAX_SECTORS_LEFT_AFTER_ROOT, saw: String(left), want: `≤ ${MAX_SECTORS_LEFT_AFTER_ROOT}`},
      {what: 'ext4 size / ROOT size', ok: fsShare > 0.9 && fsShare <= 1, saw: fsShare.toFixed(3), want: '> 0.9'},
    ],
    `ROOT (${facts['root-partition']}) ends ${left} sectors before the disk's end; ext4 fills ${(fsShare * 100).toFixed(1)} % of it (${(n('root-bytes') / 2 ** 30).toFixed(2)} GiB)`,
    facts,
  )
}

export const rootGrowthCheck = rootScriptCheck({id: 9, name: 'root-growth', needsDisk: true, title: 'ROOT grew to fill a disk larger than the image (partition and ext4)'}, ROOT_GROWTH_SCRIPT, rootGrowthVerdict)
