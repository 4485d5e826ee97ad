import type {RootTree} from '../rootfs/tree.js'

/**
 * ROOT fills the disk it lands on. Images are built small (the layout's minimum) and written to disks of any
 * size: a 30 GiB cloud volume, a 500 GB server disk. On the first boot keel-grow-root moves ROOT's end to the
 * end of the disk with systemd-repart and grows the mounted ext4 with systemd-growfs (online resize), as Fedora
 * CoreOS does on its first boot. Only ROOT: the repart definitions name the root partition type and nothing
 * else, and repart leaves every partition no definition matches as it is (ESP, both /usr slots and their hash
 * partitions, OEM); it rewrites a partition's size only, so the A/B attribute bits survive.
 *
 * The definitions live in keel's own directory, not /usr/lib/repart.d: there systemd-repart.service would run
 * on every boot (its condition is a non-empty repart.d) and hold up sysinit.target. keel-grow-root runs beside
 * the boot (DefaultDependencies=no: multi-user.target does not wait for it), once, on the boot that carries
 * `ignition.firstboot`; a disk enlarged later is grown by running the unit again.
 */
export const GROW_ROOT_UNIT = 'keel-grow-root.service'
export const REPART_DIR = 'usr/lib/keel/repart.d'
const UNIT_PATH = `usr/lib/systemd/system/${GROW_ROOT_UNIT}`

/** `Type=root` is the DPS root partition of the machine's architecture: ROOT's type in images/layouts/base.yaml. */
const ROOT_DEFINITION = `# keel: ROOT grows to the end of its disk (keel-grow-root.service). No other partition is named,
# so systemd-repart leaves every other one as it is.
[Partition]
Type=root
`

const UNIT = `[Unit]
Description=keel: grow ROOT to fill its disk
Documentation=man:systemd-repart(8) man:systemd-growfs(8)
ConditionKernelCommandLine=ignition.firstboot
DefaultDependencies=no
After=local-fs.target
Conflicts=shutdown.target
Before=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
# repart finds the disk from the device / is mounted from and resizes the partition in place (BLKPG).
ExecStart=/usr/bin/systemd-repart --dry-run=no --no-pager --definitions=/${REPART_DIR}
ExecStart=/usr/lib/systemd/systemd-growfs /

[Install]
WantedBy=multi-user.target
`

/** Put the definitions, the unit and its static .wants link into /usr. Returns the paths written. */
export function installRootGrowth(tree: RootTree): string[] {
  const owner = 'keel:root-growth'
  const definition = `${REPART_DIR}/50-root.conf`
  tree.writeFile(definition, ROOT_DEFINITION, {owner})
  tree.writeFile(UNIT_PATH, UNIT, {owner})
  const wants = `usr/lib/systemd/system/multi-user.target.wants/${GROW_ROOT_UNIT}`
  tree.symlink(wants, `../${GROW_ROOT_UNIT}`, {owner})
  return [definition, UNIT_PATH, wants]
}
