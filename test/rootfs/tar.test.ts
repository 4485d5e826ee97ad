import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {extract, type Header} from 'tar-stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {encodeHeader, paxRecord} from '../../src/rootfs/tar-header.js'
import {hardlinkRoot, planTar, writeTar} from '../../src/rootfs/tar.js'
import {RootTree, type TreeEntry} from '../../src/rootfs/tree.js'

/** Parse a tar with tar-stream (an independent reader) into headers and contents. */
async function parseTar(buf: Buffer): Promise<Array<{header: Header; body: string}>> {
  const ex = extract()
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream)
  const out: Array<{header: Header; body: string}> = []
  for await (const entry of ex) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    out.push({header: entry.header, body: Buffer.concat(chunks).toString()})
  }
  return out
}

describe('tar headers', () => {
  it('pax records count their own length, across a digit boundary', () => {
    expect(paxRecord('path', 'abc')).toBe('12 path=abc\n')
    // body ' path=' + 86 chars + '\n' = 93 bytes; 93 + 2 digits = 95
    expect(paxRecord('path', 'x'.repeat(86)).startsWith('95 ')).toBe(true)
    // body 98 bytes: 98 + 2 = 100, which has 3 digits, so 101
    const r = paxRecord('path', 'y'.repeat(91))
    expect(r.startsWith('101 ')).toBe(true)
    expect(Buffer.byteLength(r)).toBe(101)
  })

  it('encodes fields a standard reader decodes, with a valid checksum and ustar magic', async () => {
    const h = encodeHeader({name: './usr/bin/su', type: 'file', mode: 0o4755, uid: 0, gid: 42, size: 0, mtime: 1_700_000_000})
    expect(h.length).toBe(512)
    expect(h.toString('latin1', 257, 265)).toBe('ustar\u000000')
    expect(h.toString('latin1', 100, 108)).toBe('0004755\0')
    const [e] = await parseTar(Buffer.concat([h, Buffer.alloc(1024)]))
    expect(e!.header).toMatchObject({name: './usr/bin/su', type: 'file', mode: 0o4755, uid: 0, gid: 42, uname: '', gname: ''})
    expect(e!.header.mtime.getTime()).toBe(1_700_000_000_000)
  })

  it('keeps mode 0 as 0 and writes device numbers', async () => {
    const h = Buffer.concat([
      encodeHeader({name: './etc/shadow', type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0}),
      encodeHeader({name: './dev/sda', type: 'block', mode: 0o660, uid: 0, gid: 6, size: 0, mtime: 0, devMajor: 8, devMinor: 0}),
      Buffer.alloc(1024),
    ])
    const [shadow, sda] = await parseTar(h)
    expect(shadow!.header.mode).toBe(0)
    expect(sda!.header).toMatchObject({type: 'block-device', devmajor: 8, devminor: 0, gid: 6})
  })

  it('moves names and link names over 100 bytes into a pax header', async () => {
    const long = `./usr/share/${'d'.repeat(120)}/${'é'.repeat(30)}`
    const target = `./${'t'.repeat(150)}`
    const h = Buffer.concat([encodeHeader({name: long, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 5, linkname: target}), Buffer.alloc(1024)])
    expect(h.toString('latin1', 156, 157)).toBe('x')
    const [e] = await parseTar(h)
    expect(e!.header).toMatchObject({name: long, linkname: target, type: 'symlink'})
  })
})

describe('planTar', () => {
  const entry = (path: string, type: TreeEntry['type'], extra: Partial<TreeEntry> = {}): TreeEntry => ({path, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, owner: 't', ...extra})

  it('makes the first hard-link group member in path order carry the content', () => {
    const list = [
      entry('', 'dir'),
      entry('usr', 'dir'),
      entry('usr/bin', 'dir'),
      entry('usr/bin/perl', 'hardlink', {linkTarget: 'usr/bin/perl5.36.0', mode: 0o755}),
      entry('usr/bin/perl5.36.0', 'file', {mode: 0o755, uid: 3}),
      entry('usr/bin/zz', 'hardlink', {linkTarget: 'usr/bin/perl', mode: 0o755}),
    ]
    const map = new Map(list.map((e) => [e.path, e]))
    expect(hardlinkRoot(map, 'usr/bin/zz')).toBe('usr/bin/perl5.36.0')
    const plan = planTar(list, map)
    expect(plan.map((p) => [p.header.name, p.header.type, p.header.linkname, p.content])).toEqual([
      ['./', 'dir', undefined, undefined],
      ['./usr/', 'dir', undefined, undefined],
      ['./usr/bin/', 'dir', undefined, undefined],
      ['./usr/bin/perl', 'file', undefined, 'usr/bin/perl5.36.0'],
      ['./usr/bin/perl5.36.0', 'hardlink', './usr/bin/perl', undefined],
      ['./usr/bin/zz', 'hardlink', './usr/bin/perl', undefined],
    ])
    expect(plan[3]!.header).toMatchObject({mode: 0o755, uid: 3})
  })
})

describe('writeTar', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-tar-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it('writes manifest metadata, contents and the given mtime; sha256 and size describe the file', async () => {
    const root = join(dir, 'root')
    await mkdir(root)
    const tree = new RootTree(root)
    tree.mkdirp('etc')
    tree.writeFile('etc/hostname', 'keel\n', {owner: 't', mode: 0o600, uid: 5, gid: 6})
    tree.symlink('etc/localtime', '/usr/share/zoneinfo/UTC', {owner: 't'})
    tree.writeFile('big', Buffer.alloc(5 << 20, 7), {owner: 't'})
    const out = join(dir, 'out.tar')
    const result = await writeTar(tree, out, {mtime: 1234})
    const bytes = await readFile(out)
    expect(result.size).toBe(bytes.length)
    const {createHash} = await import('node:crypto')
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
    const parsed = await parseTar(bytes)
    expect(parsed.map((p) => p.header.name)).toEqual(['./', './big', './etc/', './etc/hostname', './etc/localtime'])
    expect(result.entries).toBe(5)
    expect(parsed.every((p) => p.header.mtime.getTime() === 1_234_000)).toBe(true)
    expect(parsed[3]!.header).toMatchObject({mode: 0o600, uid: 5, gid: 6})
    expect(parsed[3]!.body).toBe('keel\n')
    expect(parsed[1]!.body.length).toBe(5 << 20)
    expect(parsed[4]!.header).toMatchObject({type: 'symlink', linkname: '/usr/share/zoneinfo/UTC'})
    // nothing else is left in the output directory (no temp files)
    const {readdirSync} = await import('node:fs')
    expect(readdirSync(dir).sort()).toEqual(['out.tar', 'root'])
  })

  it('fails without leaving a partial output when a file is missing on disk', async () => {
    const root = join(dir, 'root2')
    await mkdir(root)
    const tree = new RootTree(root)
    tree.writeFile('a', 'x', {owner: 't'})
    tree.record({path: 'ghost', type: 'file', mode: 0o644, uid: 0, gid: 0, owner: 't'})
    await writeFile(join(dir, 'keep.tar'), 'old')
    await expect(writeTar(tree, join(dir, 'keep.tar'), {mtime: 0})).rejects.toThrow(/ENOENT/)
    expect(await readFile(join(dir, 'keep.tar'), 'utf8')).toBe('old')
  })
})
