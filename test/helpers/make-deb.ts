import {writeFile} from 'node:fs/promises'
import {gzipSync} from 'node:zlib'
import {pack} from 'tar-stream'
import {spawnFilter} from '../../src/exec/run.js'
import type {LockedPackage} from '../../src/packages/types.js'

/**
 * Build .deb files for tests, byte by byte: an ar archive around tar members made with tar-stream. Entries
 * are written exactly as given (no sanitising), so tests can craft hostile archives.
 */

export interface TarEntrySpec {
  /** Written verbatim into the tar header, e.g. './usr/bin/x', '../../etc/passwd'. */
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo'
  mode?: number
  uid?: number
  gid?: number
  content?: string | Buffer
  linkname?: string
  devmajor?: number
  devminor?: number
}

export type TestCompression = 'gz' | 'xz' | 'zst' | 'none'

export async function makeTar(entries: TarEntrySpec[]): Promise<Buffer> {
  const p = pack()
  const chunks: Buffer[] = []
  const collected = (async () => {
    for await (const chunk of p) chunks.push(chunk as Buffer)
  })()
  for (const e of entries) {
    const type = e.type ?? 'file'
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
    }
    if (type === 'file') p.entry(header, e.content ?? '')
    else p.entry(header).end()
  }
  p.finalize()
  await collected
  return Buffer.concat(chunks)
}

export async function compress(data: Buffer, how: TestCompression): Promise<Buffer> {
  if (how === 'none') return data
  if (how === 'gz') return gzipSync(data)
  const proc = how === 'xz' ? spawnFilter('xz', ['-zc', '-T1']) : spawnFilter('zstd', ['-c', '-q'])
  const out: Buffer[] = []
  const reading = (async () => {
    for await (const chunk of proc.stdout) out.push(chunk as Buffer)
  })()
  proc.stdin.end(data)
  await Promise.all([reading, proc.done])
  return Buffer.concat(out)
}

/** One ar member header: 16-byte name, mtime, uid, gid, octal mode, size, terminator; data padded to even. */
export function arMember(name: string, data: Buffer): Buffer {
  const field = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n)
  const header = field(name, 16) + field('0', 12) + field('0', 6) + field('0', 6) + field('100644', 8) + field(String(data.length), 10) + '`\n'
  return Buffer.concat([Buffer.from(header, 'latin1'), data, data.length % 2 ? Buffer.from('\n') : Buffer.alloc(0)])
}

export function arArchive(members: Array<[string, Buffer]>): Buffer {
  return Buffer.concat([Buffer.from('!<arch>\n'), ...members.map(([n, d]) => arMember(n, d))])
}

export interface DebSpec {
  name: string
  version?: string
  replaces?: string
  entries: TarEntrySpec[]
  compression?: TestCompression
}

const SUFFIX: Record<TestCompression, string> = {gz: '.gz', xz: '.xz', zst: '.zst', none: ''}

export async function makeDeb(outPath: string, spec: DebSpec): Promise<string> {
  const how = spec.compression ?? 'gz'
  const control = [`Package: ${spec.name}`, `Version: ${spec.version ?? '1.0'}`, 'Architecture: amd64', 'Maintainer: test <t@example.org>']
  if (spec.replaces) control.push(`Replaces: ${spec.replaces}`)
  control.push('Description: test package', '')
  const controlTar = await makeTar([{name: './', type: 'directory'}, {name: './control', content: control.join('\n')}])
  const dataTar = await makeTar(spec.entries)
  const deb = arArchive([
    ['debian-binary', Buffer.from('2.0\n')],
    [`control.tar${SUFFIX[how]}`, await compress(controlTar, how)],
    [`data.tar${SUFFIX[how]}`, await compress(dataTar, how)],
  ])
  await writeFile(outPath, deb)
  return outPath
}

export function lockedPackage(name: string, extra: Partial<LockedPackage> = {}): LockedPackage {
  return {
    name,
    version: '1.0',
    architecture: 'amd64',
    source: name,
    filename: `pool/main/${name[0]}/${name}/${name}_1.0_amd64.deb`,
    size: 0,
    sha256: '0'.repeat(64),
    repository: {uri: 'http://mirror.invalid/debian', suite: 'bookworm', component: 'main'},
    essential: false,
    ...extra,
  }
}
