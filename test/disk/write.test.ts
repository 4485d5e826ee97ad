import {mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {loadLayout} from '../../src/disk/layout.js'
import {planDisk} from '../../src/disk/plan.js'
import {writeDisk} from '../../src/disk/write.js'

const MiB = 1 << 20
const sizes = {'EFI-SYSTEM': 2 * MiB, 'USR-A': 2 * MiB, 'USR-A-verity': MiB, 'USR-B': 2 * MiB, 'USR-B-verity': MiB, OEM: MiB, ROOT: 2 * MiB}
const plan = planDisk(loadLayout('base'), {seed: 'w', architecture: 'x86-64', sizes, slots: {A: {}}})
const dir = mkdtempSync(join(tmpdir(), 'keel-write-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('writeDisk', () => {
  it('refuses content that does not fit, unknown partitions and images for empty slots, writing nothing', async () => {
    writeFileSync(join(dir, 'big.img'), Buffer.alloc(2 * MiB + 512, 1))
    writeFileSync(join(dir, 'small.img'), Buffer.alloc(512, 1))
    const out = join(dir, 'refused.img')
    await expect(writeDisk(plan, {'USR-A': join(dir, 'big.img'), SWAP: join(dir, 'small.img'), 'USR-B': join(dir, 'small.img')}, out)).rejects.toThrow(
      /no partition named SWAP in the plan; .*big\.img \(2\.0 MiB\) does not fit partition USR-A \(2\.0 MiB\); partition USR-B is planned empty/,
    )
    expect(readdirSync(dir).filter((f) => f.includes('refused'))).toEqual([])
  })

  it('writes a sparse file of the planned size: zero chunks are holes', async () => {
    const image = Buffer.alloc(2 * MiB)
    image.fill(7, 0, 4096)
    writeFileSync(join(dir, 'usr.img'), image)
    const out = join(dir, 'new-dir', 'sparse.img') // the output folder is created
    await writeDisk(plan, {'USR-A': join(dir, 'usr.img')}, out)
    const st = statSync(out)
    expect(st.size).toBe(plan.sizeBytes)
    // GPT (2 × ~17 KiB) plus one 4 MiB chunk at most; the 15 MiB of zeros stay unallocated.
    expect(st.blocks * 512).toBeLessThanOrEqual(5 * MiB)
    expect(readdirSync(join(dir, 'new-dir'))).toEqual(['sparse.img']) // no temp file left behind
  })
})
