import {copyFile, mkdtemp, open, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {formatVerity, parseSalt} from '../../src/verity/format.js'
import {planVerity} from '../../src/verity/tree.js'
import {verifyVerity} from '../../src/verity/verify.js'
import {veritysetupVerify, writePseudoRandomFile} from './oracle.js'

const MiB = 1 << 20
let dir: string
let data: string
let hash: string
let rootHash: string
const size = 8 * MiB // 2048 blocks: level 0 = 16 hash blocks, level 1 = 1
const plan = planVerity(size)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-verity-verify-'))
  data = join(dir, 'data')
  hash = join(dir, 'hash')
  await writePseudoRandomFile(data, size)
  rootHash = (await formatVerity(data, hash, {salt: parseSalt('1234')})).rootHash
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** A copy of `path` with the byte at `offset` inverted. */
async function flipped(path: string, offset: number): Promise<string> {
  const copy = join(dir, `flipped-${offset}-${path.split('/').pop()}`)
  await copyFile(path, copy)
  const fh = await open(copy, 'r+')
  const b = Buffer.alloc(1)
  await fh.read(b, 0, 1, offset)
  b[0] = b[0]! ^ 0xff
  await fh.write(b, 0, 1, offset)
  await fh.close()
  return copy
}

describe('keel verity verify', () => {
  it('accepts an intact tree, hashing the data with threads', async () => {
    const r = await verifyVerity(data, hash, rootHash, {threads: 2})
    expect(r).toMatchObject({ok: true, corrupt: null, salt: '1234'})
    expect(r.plan.dataBlocks).toBe(2048)
  })

  it('names the data block that holds a flipped byte (veritysetup agrees it is corrupt)', async () => {
    const bad = await flipped(data, 1234 * 4096 + 17)
    expect((await verifyVerity(bad, hash, rootHash, {threads: 2})).corrupt).toEqual({area: 'data', level: null, block: 1234, offset: 1234 * 4096})
    expect(await veritysetupVerify(bad, hash, rootHash)).toBe(false)
  })

  it('names the hash block and level of a flipped byte in the tree', async () => {
    const level0 = plan.levels[0]!
    const badLevel0 = await flipped(hash, level0.offset + 5 * 4096 + 200)
    expect((await verifyVerity(data, badLevel0, rootHash)).corrupt).toEqual({area: 'hash', level: 0, block: 5, offset: level0.offset + 5 * 4096})
    expect(await veritysetupVerify(data, badLevel0, rootHash)).toBe(false)
    const level1 = plan.levels[1]!
    const badLevel1 = await flipped(hash, level1.offset + 3)
    expect((await verifyVerity(data, badLevel1, rootHash)).corrupt).toEqual({area: 'hash', level: 1, block: 0, offset: level1.offset})
    expect(await veritysetupVerify(data, badLevel1, rootHash)).toBe(false)
  })

  it('catches a non-zero byte in the padding after the last digest of a level', async () => {
    // 257 data blocks: level 0 has 3 hash blocks, the last holding one digest and 4064 bytes of zeros.
    const small = join(dir, 'small')
    const smallHash = join(dir, 'small.hash')
    await writePseudoRandomFile(small, 257 * 4096, 'small')
    const r = await formatVerity(small, smallHash, {salt: parseSalt('-')})
    const level0 = planVerity(257 * 4096).levels[0]!
    const bad = await flipped(smallHash, level0.offset + 2 * 4096 + 100)
    expect((await verifyVerity(small, bad, r.rootHash)).corrupt).toEqual({area: 'hash', level: 0, block: 2, offset: level0.offset + 2 * 4096})
    expect(await veritysetupVerify(small, bad, r.rootHash)).toBe(false)
  })

  it('a different root hash fails at the top of the tree', async () => {
    const wrong = rootHash.replace(/^./, (c) => (c === '0' ? '1' : '0'))
    expect((await verifyVerity(data, hash, wrong)).corrupt).toMatchObject({area: 'hash', level: 1, block: 0})
  })

  it('a single data block has no tree: the root is that block\'s digest', async () => {
    const one = join(dir, 'one')
    await writePseudoRandomFile(one, 4096, 'one')
    const r = await formatVerity(one, join(dir, 'one.hash'))
    expect((await verifyVerity(one, join(dir, 'one.hash'), r.rootHash)).ok).toBe(true)
    const bad = await flipped(one, 4095)
    expect((await verifyVerity(bad, join(dir, 'one.hash'), r.rootHash)).corrupt).toEqual({area: 'data', level: null, block: 0, offset: 0})
  })

  it('without a superblock, needs the salt and geometry', async () => {
    const bare = join(dir, 'bare.hash')
    const r = await formatVerity(data, bare, {salt: parseSalt('abcd'), superblock: false})
    expect((await verifyVerity(data, bare, r.rootHash, {superblock: false, salt: parseSalt('abcd')})).ok).toBe(true)
    expect((await verifyVerity(data, bare, r.rootHash, {superblock: false, salt: parseSalt('abce')})).ok).toBe(false)
    await expect(verifyVerity(data, bare, r.rootHash, {superblock: false})).rejects.toThrow(/salt must be given/)
    await expect(verifyVerity(data, bare, r.rootHash)).rejects.toThrow(/no verity superblock/)
  })

  it('refuses flags that contradict the superblock, and a broken superblock', async () => {
    await expect(verifyVerity(data, hash, rootHash, {dataBlockSize: 512})).rejects.toThrow(/superblock says the data block size is 4096, but 512/)
    await expect(verifyVerity(data, hash, rootHash, {salt: parseSalt('99')})).rejects.toThrow(/salt/)
    const badSignature = await flipped(hash, 0)
    const err = await verifyVerity(data, badSignature, rootHash).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KeelError)
    expect((err as KeelError).exit).toBe('integrity')
  })
})
