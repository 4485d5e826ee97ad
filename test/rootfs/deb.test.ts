import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {consumeMember, memberStream, openDeb, parseControlStanza, readArMembers, readControlFile} from '../../src/rootfs/deb.js'
import {arArchive, arMember, makeDeb} from '../helpers/make-deb.js'

function reader(buf: Buffer) {
  return async (offset: number, length: number) => buf.subarray(offset, offset + length)
}

async function members(buf: Buffer) {
  return readArMembers(reader(buf), buf.length, 'test.a')
}

describe('readArMembers', () => {
  it('finds members at the right offsets, padding odd sizes to even', async () => {
    const a = arArchive([
      ['odd', Buffer.from('abc')],
      ['even', Buffer.from('wxyz')],
      ['empty', Buffer.alloc(0)],
      ['last', Buffer.from('q')],
    ])
    const m = await members(a)
    expect(m.map((x) => [x.name, x.offset, x.size])).toEqual([
      // 8-byte magic, 60-byte headers; 'odd' (3 bytes) is followed by one pad byte.
      ['odd', 68, 3],
      ['even', 132, 4],
      ['empty', 196, 0],
      ['last', 256, 1],
    ])
    expect(a.subarray(m[0]!.offset, m[0]!.offset + 3).toString()).toBe('abc')
    expect(a.subarray(m[3]!.offset, m[3]!.offset + 1).toString()).toBe('q')
  })

  it('strips the GNU trailing slash and resolves GNU long names and BSD inline names', async () => {
    const table = Buffer.from('a-very-long-member-name.tar.xz/\nsecond-long-member-name.bin/\n')
    const bsdName = 'bsd-long-name-here.txt'
    const a = Buffer.concat([
      Buffer.from('!<arch>\n'),
      arMember('/', Buffer.from('symbols')), // GNU symbol table: not a member
      arMember('//', table),
      arMember('/0', Buffer.from('first')),
      arMember('/32', Buffer.from('second')),
      arMember('short/', Buffer.from('s')),
      arMember(`#1/${bsdName.length}`, Buffer.concat([Buffer.from(bsdName), Buffer.from('bsd')])),
    ])
    const m = await members(a)
    expect(m.map((x) => x.name)).toEqual(['a-very-long-member-name.tar.xz', 'second-long-member-name.bin', 'short', bsdName])
    const bsd = m[3]!
    expect(a.subarray(bsd.offset, bsd.offset + bsd.size).toString()).toBe('bsd')
    const second = m[1]!
    expect(a.subarray(second.offset, second.offset + second.size).toString()).toBe('second')
  })

  it('rejects a missing magic, a bad terminator, a bad size and a truncated member', async () => {
    await expect(members(Buffer.from('!<ar>\nxxxxx'))).rejects.toThrow(/missing !<arch>/)
    const good = arArchive([['x', Buffer.from('hello')]])
    const badTerm = Buffer.from(good)
    badTerm[8 + 58] = 0x20
    await expect(members(badTerm)).rejects.toThrow(/terminator/)
    const badSize = Buffer.from(good)
    badSize.write('12a       ', 8 + 48, 'latin1')
    await expect(members(badSize)).rejects.toThrow(/bad member size/)
    await expect(members(good.subarray(0, good.length - 3))).rejects.toThrow(/past the end/)
    await expect(members(good.subarray(0, 30))).rejects.toThrow(KeelError)
  })
})

describe('openDeb and member streams', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-deb-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  for (const compression of ['gz', 'xz', 'zst', 'none'] as const) {
    it(`reads control and data of a ${compression} package`, async () => {
      const body = 'x'.repeat(100_001)
      const path = await makeDeb(join(dir, `p-${compression}.deb`), {
        name: 'hello',
        version: '2.10-3',
        replaces: 'old-hello (<< 2)',
        compression,
        entries: [{name: './usr/share/big', content: body}],
      })
      const deb = await openDeb(path)
      expect(deb.control.compression).toBe(compression)
      expect(deb.data.name).toBe(`data.tar${compression === 'none' ? '' : `.${compression}`}`)
      const control = parseControlStanza((await readControlFile(path))!)
      expect(control).toMatchObject({Package: 'hello', Version: '2.10-3', Replaces: 'old-hello (<< 2)'})
      expect(await readControlFile(path, 'conffiles')).toBeUndefined()
      const tar = await consumeMember(memberStream(path, deb.data), async (s) => {
        const chunks: Buffer[] = []
        for await (const c of s) chunks.push(c as Buffer)
        return Buffer.concat(chunks)
      })
      // ustar: 512-byte header, then the content, then zero padding and two zero blocks.
      expect(tar.subarray(0, 15).toString()).toBe('./usr/share/big')
      expect(tar.subarray(512, 512 + body.length).toString()).toBe(body)
    })
  }

  it('rejects a package whose debian-binary is not 2.x, or which lacks data.tar', async () => {
    const v3 = join(dir, 'v3.deb')
    await writeFile(v3, arArchive([['debian-binary', Buffer.from('3.0\n')]]))
    await expect(openDeb(v3)).rejects.toThrow(/unsupported .deb format version '3.0'/)
    const noData = join(dir, 'nodata.deb')
    await writeFile(noData, arArchive([['debian-binary', Buffer.from('2.0\n')], ['control.tar.gz', Buffer.alloc(10)]]))
    await expect(openDeb(noData)).rejects.toThrow(/no data.tar member/)
    const bz = join(dir, 'bz.deb')
    await writeFile(bz, arArchive([['debian-binary', Buffer.from('2.0\n')], ['control.tar.gz', Buffer.alloc(2)], ['data.tar.bz2', Buffer.alloc(2)]]))
    await expect(openDeb(bz)).rejects.toThrow(/unsupported data member compression 'data.tar.bz2'/)
  })

  it('reports a corrupt xz member as the decompressor failure', async () => {
    const path = join(dir, 'corrupt.deb')
    await writeFile(path, arArchive([['debian-binary', Buffer.from('2.0\n')], ['control.tar.xz', Buffer.from('not xz at all')], ['data.tar.xz', Buffer.from('junk')]]))
    await expect(readControlFile(path)).rejects.toMatchObject({exit: 'toolFailed'})
  })
})

describe('parseControlStanza', () => {
  it('joins continuation lines', () => {
    expect(parseControlStanza('Package: a\nDescription: short\n long line\n .\nVersion: 1\n')).toEqual({Package: 'a', Description: 'short\nlong line\n.', Version: '1'})
  })
})
