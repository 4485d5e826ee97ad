import {mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {GROW_ROOT_UNIT, installRootGrowth, REPART_DIR} from '../../src/build/root-growth.js'
import {loadLayout} from '../../src/disk/layout.js'
import {type DiskPlan, planDisk} from '../../src/disk/plan.js'
import {writeDisk} from '../../src/disk/write.js'
import {run} from '../../src/exec/run.js'
import {RootTree} from '../../src/rootfs/tree.js'
import {type SgdiskInfo, sgdiskInfo} from '../helpers/sgdisk.js'

// keel's ROOT growth definition given to the real systemd-repart (the same systemd 252 the image carries) on a
// disk keel wrote and then enlarged, as a cloud volume is larger than the image: sgdisk is the oracle for what
// moved (ROOT's end) and what must not (every other partition, its GUIDs and the A/B attribute bits).

const MiB = 1 << 20
const SIZES = {'EFI-SYSTEM': 8 * MiB, 'USR-A': 16 * MiB, 'USR-A-verity': MiB, 'USR-B': 16 * MiB, 'USR-B-verity': MiB, OEM: 4 * MiB, ROOT: 8 * MiB}
const GROWN_BY = 64 * MiB

async function table(disk: string, plan: DiskPlan): Promise<Map<string, SgdiskInfo>> {
  const rows = new Map<string, SgdiskInfo>()
  for (const p of plan.partitions) rows.set(p.name, await sgdiskInfo(disk, p.index))
  return rows
}

describe('ROOT growth: keel\'s repart definition on a keel disk made larger', () => {
  let dir: string
  let disk: string
  let plan: DiskPlan
  let tree: RootTree
  let before: Map<string, SgdiskInfo>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-grow-'))
    plan = planDisk(loadLayout('base'), {seed: 'grow-test', architecture: 'x86-64', sizes: SIZES, slots: {A: {rootHash: 'ab'.repeat(32)}}})
    disk = join(dir, 'disk.img')
    await writeDisk(plan, {}, disk)
    before = await table(disk, plan)
    tree = new RootTree(mkdtempSync(join(dir, 'tree-')))
    installRootGrowth(tree)
    truncateSync(disk, statSync(disk).size + GROWN_BY)
  })

  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('installs the definition, a first-boot unit off the critical path, and its .wants link', () => {
    const unit = readFileSync(tree.hostPath(`usr/lib/systemd/system/${GROW_ROOT_UNIT}`), 'utf8')
    expect(unit).toMatch(/^ConditionKernelCommandLine=ignition.firstboot$/m)
    expect(unit).toMatch(/^DefaultDependencies=no$/m)
    expect(unit).toContain(`ExecStart=/usr/bin/systemd-repart --dry-run=no --no-pager --definitions=/${REPART_DIR}\n`)
    expect(unit).toContain('ExecStart=/usr/lib/systemd/systemd-growfs /\n')
    expect(readlinkSync(tree.hostPath(`usr/lib/systemd/system/multi-user.target.wants/${GROW_ROOT_UNIT}`))).toBe(`../${GROW_ROOT_UNIT}`)
  })

  it('systemd-repart moves ROOT\'s end to the disk\'s end and leaves every other partition as it was', async () => {
    // repart is given the disk file instead of finding the disk behind / (what the unit does on the machine).
    await run('systemd-repart', ['--dry-run=no', '--no-pager', `--definitions=${tree.hostPath(REPART_DIR)}`, disk])
    const v = await run('sgdisk', ['-v', disk])
    expect(v.stdout).toMatch(/^No problems found\./m)
    const after = await table(disk, plan)
    const sectors = statSync(disk).size / 512
    const root = after.get('ROOT')!
    // The backup GPT (33 sectors) follows ROOT; repart ends partitions on a 4 KiB boundary.
    expect(sectors - 1 - root.last).toBeGreaterThanOrEqual(33)
    expect(sectors - 1 - root.last).toBeLessThanOrEqual(33 + 7)
    expect(root.last - before.get('ROOT')!.last).toBeGreaterThanOrEqual(GROWN_BY / 512 - 40)
    expect({...root, last: 0}).toEqual({...before.get('ROOT')!, last: 0})
    for (const [name, row] of before) if (name !== 'ROOT') expect(after.get(name), name).toEqual(row)
    // The A/B bits of slot A as the layout sets them (priority 1, successful, read-only) are among what survived.
    expect(after.get('USR-A')!.attributes).toBe('1101000000000000')
  })

  it('a second run finds nothing to do (the unit may run again after a disk is enlarged later)', async () => {
    const first = await table(disk, plan)
    await run('systemd-repart', ['--dry-run=no', '--no-pager', `--definitions=${tree.hostPath(REPART_DIR)}`, disk])
    expect(await table(disk, plan)).toEqual(first)
  })
})
