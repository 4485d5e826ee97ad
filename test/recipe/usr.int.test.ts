import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {makeUsrImage} from '../../src/fsimage/usr.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {overrideUsr} from '../../src/recipe/usr.js'
import {SYNTHETIC_EPOCH, syntheticTree} from '../fsimage/synthetic-tree.js'

// The recipe's usr: choice reaches the image as the pipeline passes it (makeUsrImage(tree, {...recipe.usr, …})),
// and squashfs-tools' own unsquashfs says which compressor and level the superblock records.
const work = mkdtempSync(join(tmpdir(), 'keel-recipe-usr-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

async function superblock(image: string): Promise<string> {
  return (await run('unsquashfs', ['-s', image])).stdout
}

describe('usr: from a recipe to the /usr image', () => {
  const tree = syntheticTree(join(work, 'tree'))

  it('squashfs zstd,19 in the recipe makes a squashfs image compressed with zstd at level 19', async () => {
    writeFileSync(join(work, 'small.yaml'), 'packages: [bash]\nusr:\n  filesystem: squashfs\n  compression: "zstd,19"\n')
    const {recipe} = loadRecipe(join(work, 'small.yaml'))
    const out = join(work, `usr.${recipe.usr.filesystem}`)
    const r = await makeUsrImage(tree, {...recipe.usr, output: out, seed: 'usr-choice', epoch: SYNTHETIC_EPOCH})
    expect(r.filesystem).toBe('squashfs')
    const text = await superblock(out)
    expect(text).toMatch(/^Found a valid SQUASHFS 4:0 superblock/m)
    expect(text).toMatch(/^Compression zstd$/m)
    expect(text).toMatch(/^\s*compression-level 19$/m)
  })

  it('the build flags override an erofs recipe: squashfs with its default zstd level', async () => {
    writeFileSync(join(work, 'erofs.yaml'), 'packages: [bash]\nusr: {filesystem: erofs, compression: "lz4hc,12"}\n')
    const usr = overrideUsr(loadRecipe(join(work, 'erofs.yaml')).recipe.usr, {filesystem: 'squashfs'})
    const out = join(work, 'flag.squashfs')
    await makeUsrImage(tree, {...usr, output: out, seed: 'usr-choice', epoch: SYNTHETIC_EPOCH})
    const text = await superblock(out)
    expect(text).toMatch(/^Compression zstd$/m)
    // No level chosen, so none recorded (mksquashfs writes compressor options only for a non-default level):
    // the recipe's erofs level did not leak into the squashfs choice.
    expect(text).not.toMatch(/compression-level/)
  })
})
