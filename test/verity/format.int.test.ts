import {copyFile, mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {formatVerity, parseSalt} from '../../src/verity/format.js'
import {planVerity} from '../../src/verity/tree.js'
import {type OracleFlags, veritysetupFormat, veritysetupVerify, writePseudoRandomFile} from './oracle.js'

const KiB = 1024
const MiB = 1024 * KiB
const UUID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
const SALT = '5eedfa11' + 'c0ffee00'.repeat(7)

let dir: string
const sizes = [4 * KiB, MiB, MiB + 4 * KiB, MiB + 100, 8 * MiB, 64 * MiB]
const dataFile = (size: number) => join(dir, `data-${size}`)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-verity-'))
  for (const size of sizes) await writePseudoRandomFile(dataFile(size), size, `size ${size}`)
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

interface Case extends OracleFlags {
  size: number
  threads?: number
}

let serial = 0
/** Format with veritysetup and with keel, same parameters: the hash devices must be equal byte for byte. */
async function compare(c: Case): Promise<{ours: Buffer; rootHash: string}> {
  const n = serial++
  const theirsPath = join(dir, `theirs-${n}`)
  const oursPath = join(dir, `ours-${n}`)
  const theirRoot = await veritysetupFormat(dataFile(c.size), theirsPath, c)
  const result = await formatVerity(dataFile(c.size), oursPath, {
    salt: c.salt === undefined ? undefined : parseSalt(c.salt),
    uuid: c.uuid,
    dataBlockSize: c.dataBlockSize,
    hashBlockSize: c.hashBlockSize,
    hashOffset: c.hashOffset,
    dataBlocks: c.dataBlocks,
    superblock: !c.noSuperblock,
    threads: c.threads,
  })
  expect(result.rootHash).toBe(theirRoot)
  const [ours, theirs] = await Promise.all([readFile(oursPath), readFile(theirsPath)])
  expect(ours.length).toBe(theirs.length)
  expect(ours.equals(theirs)).toBe(true)
  expect(ours.length).toBe(planVerity(c.size, {...c, superblock: !c.noSuperblock}).hashDeviceSize)
  // veritysetup accepts what keel wrote (reading geometry and salt from our superblock when there is one).
  const verifyFlags = c.noSuperblock ? c : {hashOffset: c.hashOffset}
  expect(await veritysetupVerify(dataFile(c.size), oursPath, result.rootHash, verifyFlags)).toBe(true)
  await rm(theirsPath)
  return {ours, rootHash: result.rootHash}
}

describe('keel verity format equals veritysetup format, byte for byte', () => {
  it.each(sizes)('default geometry, %i bytes', async (size) => {
    await compare({size, salt: SALT, uuid: UUID})
  })

  it.each([
    [512, 512],
    [512, 4096],
    [1024, 512],
    [1024, 1024],
    [4096, 512],
    [4096, 1024],
    [1024, 4096],
  ])('data block %i, hash block %i, on 1 MiB + 4 KiB', async (dataBlockSize, hashBlockSize) => {
    await compare({size: MiB + 4 * KiB, salt: SALT, uuid: UUID, dataBlockSize, hashBlockSize})
  })

  it('512-byte blocks on 8 MiB: a four-level tree, hashed by three threads', async () => {
    expect(planVerity(8 * MiB, {dataBlockSize: 512, hashBlockSize: 512}).levels).toHaveLength(4)
    await compare({size: 8 * MiB, salt: SALT, uuid: UUID, dataBlockSize: 512, hashBlockSize: 512, threads: 3})
  })

  it.each([
    ['empty (-)', '-'],
    ['1 byte', '01'],
    ['3 bytes', 'abcdef'],
    ['256 bytes (the most that fits)', 'ab'.repeat(256)],
  ])('salt: %s', async (_, salt) => {
    await compare({size: MiB + 4 * KiB, salt, uuid: UUID, threads: 2})
  })

  it('the salt and UUID land in the superblock as given', async () => {
    const {ours} = await compare({size: MiB, salt: 'abcdef', uuid: UUID})
    expect(ours.subarray(16, 32).toString('hex')).toBe(UUID.replace(/-/g, ''))
    expect(ours.readUInt16LE(80)).toBe(3)
  })

  it('--no-superblock writes the tree only', async () => {
    const {ours} = await compare({size: MiB + 4 * KiB, salt: SALT, noSuperblock: true})
    expect(ours.subarray(0, 6).toString('latin1')).not.toBe('verity')
    await compare({size: 4 * KiB, salt: '-', noSuperblock: true})
  })

  it('--hash-offset into a separate file, with and without a superblock', async () => {
    await compare({size: MiB, salt: SALT, uuid: UUID, hashOffset: 512})
    await compare({size: 8 * MiB, salt: SALT, uuid: UUID, hashOffset: 64 * KiB})
    await compare({size: 8 * MiB, salt: SALT, hashOffset: 8 * KiB, noSuperblock: true})
  })

  it('--hash-offset with DATA == HASH appends the tree after the data, as veritysetup does', async () => {
    for (const noSuperblock of [false, true]) {
      const size = 8 * MiB
      const theirs = join(dir, `inplace-theirs-${noSuperblock}`)
      const ours = join(dir, `inplace-ours-${noSuperblock}`)
      await copyFile(dataFile(size), theirs)
      await copyFile(dataFile(size), ours)
      const flags = {salt: SALT, uuid: UUID, hashOffset: size, dataBlocks: size / 4096, noSuperblock}
      const theirRoot = await veritysetupFormat(theirs, theirs, flags)
      const r = await formatVerity(ours, ours, {salt: parseSalt(SALT), uuid: UUID, hashOffset: size, superblock: !noSuperblock})
      expect(r.rootHash).toBe(theirRoot)
      expect(r.dataBlocks).toBe(size / 4096)
      expect((await readFile(ours)).equals(await readFile(theirs))).toBe(true)
      // Formatting again: the file now ends with a tree, which is not data (veritysetup needs --data-blocks too).
      await expect(formatVerity(ours, ours, {salt: parseSalt(SALT), uuid: UUID, hashOffset: size, superblock: !noSuperblock})).rejects.toThrow(/would overwrite the data/)
      const again = await formatVerity(ours, ours, {salt: parseSalt(SALT), uuid: UUID, hashOffset: size, dataBlocks: size / 4096, superblock: !noSuperblock})
      expect(again.rootHash).toBe(theirRoot)
    }
  })

  it('refuses a hash offset inside the data of the same file, and leaves the file alone', async () => {
    const before = await readFile(dataFile(MiB))
    await expect(formatVerity(dataFile(MiB), dataFile(MiB), {hashOffset: 4096})).rejects.toThrow(/would overwrite the data/)
    expect((await readFile(dataFile(MiB))).equals(before)).toBe(true)
  })

  it('defaults are veritysetup\'s: random 32-byte salt and UUID, 4096-byte blocks', async () => {
    const a = await formatVerity(dataFile(MiB), join(dir, 'random-a'))
    const b = await formatVerity(dataFile(MiB), join(dir, 'random-b'))
    expect(a.salt).toMatch(/^[0-9a-f]{64}$/)
    expect(a.salt).not.toBe(b.salt)
    expect(a.uuid).not.toBe(b.uuid)
    expect(a).toMatchObject({dataBlocks: 256, dataBlockSize: 4096, hashBlockSize: 4096, hashOffset: 0, hashSize: 4 * 4096})
    expect(await veritysetupVerify(dataFile(MiB), join(dir, 'random-a'), a.rootHash)).toBe(true)
  })
})
