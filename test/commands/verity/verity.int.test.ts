import {copyFile, mkdtemp, open, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {exitCode} from '../../../src/core/exit-codes.js'
import {keel} from '../../helpers/cli.js'
import {veritysetupFormat, writePseudoRandomFile} from '../../verity/oracle.js'

const UUID = '6a3e1c2b-9d8f-4e7a-b5c4-d3e2f1a0b9c8'
let dir: string
let data: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-verity-cli-'))
  data = join(dir, 'data')
  await writePseudoRandomFile(data, 300 * 4096)
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('keel verity format / verify (CLI)', () => {
  it('format prints the root hash veritysetup prints, and writes the same hash device', async () => {
    const theirRoot = await veritysetupFormat(data, join(dir, 'theirs'), {salt: 'c0ffee', uuid: UUID})
    const r = keel(['verity', 'format', data, join(dir, 'ours'), '--salt', 'c0ffee', '--uuid', UUID])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(`${theirRoot}\n`)
    expect((await readFile(join(dir, 'ours'))).equals(await readFile(join(dir, 'theirs')))).toBe(true)
  })

  it('--json prints exactly the documented fields, nothing else on stdout', () => {
    const r = keel(['verity', 'format', data, join(dir, 'json'), '--salt', '-', '--uuid', UUID, '--hash-block-size', '1024', '--json'])
    expect(r.status).toBe(0)
    const parsed = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(parsed).sort()).toEqual(['dataBlockSize', 'dataBlocks', 'hashBlockSize', 'hashOffset', 'hashSize', 'rootHash', 'salt', 'uuid'])
    // 300 blocks, 32 digests per 1 KiB hash block: level 0 = 10 blocks, level 1 = 1; superblock 1 block
    expect(parsed).toMatchObject({salt: '', uuid: UUID, dataBlocks: 300, dataBlockSize: 4096, hashBlockSize: 1024, hashOffset: 0, hashSize: 12 * 1024})
    expect(parsed.rootHash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('verify exits 0 on an intact tree and with the integrity code naming the corrupt block otherwise', async () => {
    const hash = join(dir, 'v.hash')
    const root = keel(['verity', 'format', data, hash]).stdout.trim()
    const ok = keel(['verity', 'verify', data, hash, root, '--json'])
    expect(ok.status).toBe(0)
    expect(JSON.parse(ok.stdout)).toEqual({ok: true, rootHash: root, dataBlocks: 300})

    const bad = join(dir, 'bad')
    await copyFile(data, bad)
    const fh = await open(bad, 'r+')
    await fh.write(Buffer.from([0x5a]), 0, 1, 211 * 4096 + 9)
    await fh.close()
    const r = keel(['verity', 'verify', bad, hash, root])
    expect(r.status).toBe(exitCode('integrity'))
    expect(r.stderr).toContain('error: verity: data block 211 (byte 864256 of the data) does not match the hash tree')
    expect(r.stdout).toBe('')
  })

  it('--hash-offset with DATA as HASH, and --no-superblock, round-trip through verify', async () => {
    const img = join(dir, 'img')
    await copyFile(data, img)
    const off = String(300 * 4096)
    const f = keel(['verity', 'format', img, img, '--hash-offset', off, '--no-superblock', '--salt', 'ab'])
    expect(f.status).toBe(0)
    expect(keel(['verity', 'verify', img, img, f.stdout.trim(), '--hash-offset', off, '--no-superblock', '--salt', 'ab']).status).toBe(0)
  })

  it('bad flags are usage errors (exit 2), a missing data file is an input error (exit 3)', () => {
    const blockSize = keel(['verity', 'format', data, join(dir, 'x'), '--data-block-size', '1000'])
    expect(blockSize.status).toBe(2)
    expect(blockSize.stderr).toContain('data block size must be a power of two')
    expect(keel(['verity', 'format', data, join(dir, 'x'), '--salt', 'xyz']).status).toBe(2)
    expect(keel(['verity', 'format', data, join(dir, 'x'), '--uuid', 'nope']).status).toBe(2)
    expect(keel(['verity', 'verify', data, join(dir, 'x'), 'abc']).status).toBe(2)
    const missing = keel(['verity', 'format', join(dir, 'nope'), join(dir, 'x')])
    expect(missing.status).toBe(3)
    expect(missing.stderr).toMatch(/cannot read data .*nope: ENOENT/)
  })
})
