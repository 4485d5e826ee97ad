import {describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {planVerity} from '../../src/verity/tree.js'

const K = 4096

/** Levels as [blocks, offset] pairs, level 0 first. */
function levels(dataSize: number, opts = {}) {
  return planVerity(dataSize, opts).levels.map((l) => [l.blocks, l.offset])
}

describe('planVerity (4 KiB blocks, 128 digests per hash block)', () => {
  it('one data block: no tree at all, the superblock padded to one hash block', () => {
    const p = planVerity(K)
    expect(p).toMatchObject({dataBlocks: 1, levels: [], treeOffset: K, hashAreaSize: K, hashDeviceSize: K})
  })

  it('exactly 128 blocks fit one level of one block', () => {
    expect(levels(128 * K)).toEqual([[1, K]])
    expect(planVerity(128 * K).hashDeviceSize).toBe(2 * K)
  })

  it('129 blocks need two levels; the top level is stored first', () => {
    // level 1 (1 block) right after the superblock, then level 0 (2 blocks)
    expect(levels(129 * K)).toEqual([
      [2, 2 * K],
      [1, K],
    ])
    expect(planVerity(129 * K).hashAreaSize).toBe(4 * K)
  })

  it('128*128 blocks: two full levels; one more block adds a third', () => {
    expect(levels(128 * 128 * K)).toEqual([
      [128, 2 * K],
      [1, K],
    ])
    expect(levels((128 * 128 + 1) * K)).toEqual([
      [129, 4 * K],
      [2, 2 * K],
      [1, K],
    ])
    expect(planVerity((128 * 128 + 1) * K).hashDeviceSize).toBe((4 + 129) * K)
  })

  it('ignores a trailing partial block, as veritysetup does (4097 and 8191 bytes are one block)', () => {
    expect(planVerity(K + 1).dataBlocks).toBe(1)
    expect(planVerity(2 * K - 1).dataBlocks).toBe(1)
    expect(planVerity(10 * K, {dataBlocks: 3}).dataBlocks).toBe(3)
  })

  it('refuses data smaller than one block (veritysetup fails too)', () => {
    expect(() => planVerity(0)).toThrow(KeelError)
    expect(() => planVerity(512)).toThrow(/at least one 4096-byte block/)
    expect(() => planVerity(2 * K, {dataBlocks: 3})).toThrow(/only 2/)
  })
})

describe('planVerity with other geometry', () => {
  it('512-byte hash blocks hold 16 digests', () => {
    // 17 data blocks: level 0 = 2 blocks, level 1 = 1 block; superblock fills exactly one 512-byte block
    const p = planVerity(17 * K, {hashBlockSize: 512})
    expect(p.hashesPerBlock).toBe(16)
    expect(p.levels.map((l) => [l.blocks, l.offset])).toEqual([
      [2, 1024],
      [1, 512],
    ])
    expect(p.hashDeviceSize).toBe(2048)
  })

  it('1024-byte data blocks count in their own unit', () => {
    expect(planVerity(64 * 1024, {dataBlockSize: 1024}).dataBlocks).toBe(64)
  })

  it('a hash offset moves the superblock; the tree starts at the next hash block boundary', () => {
    const p = planVerity(16 * K, {hashOffset: 512})
    expect(p.treeOffset).toBe(K)
    expect(p.hashDeviceSize).toBe(2 * K) // what veritysetup --hash-offset 512 left: an 8 KiB file
    expect(p.hashAreaSize).toBe(2 * K - 512)
    const q = planVerity(5 * K, {hashOffset: 5 * K})
    expect(q).toMatchObject({treeOffset: 6 * K, hashDeviceSize: 7 * K, hashAreaSize: 2 * K})
  })

  it('without a superblock the tree starts at the hash offset', () => {
    expect(planVerity(16 * K, {superblock: false})).toMatchObject({treeOffset: 0, hashAreaSize: K, hashDeviceSize: K})
    expect(planVerity(K, {superblock: false})).toMatchObject({levels: [], hashAreaSize: 0, hashDeviceSize: 0})
    expect(planVerity(16 * K, {superblock: false, hashOffset: 8 * K}).levels[0]!.offset).toBe(8 * K)
  })

  it('rejects block sizes and offsets veritysetup rejects', () => {
    for (const dataBlockSize of [256, 1000, 1 << 20]) expect(() => planVerity(1 << 20, {dataBlockSize})).toThrow(/power of two/)
    expect(() => planVerity(1 << 20, {hashBlockSize: 1 << 20})).toThrow(/power of two/)
    expect(() => planVerity(1 << 20, {hashOffset: 100})).toThrow(/multiple of 512/)
    expect(() => planVerity(1 << 20, {hashOffset: 1024, superblock: false})).toThrow(/multiple of the hash block size/)
  })
})
