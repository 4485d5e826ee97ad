import {createHash} from 'node:crypto'
import {closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {GCE_MEMBER_NAME, writeGceTarball} from '../../src/platforms/gce.js'
import {writeOva} from '../../src/platforms/ova.js'
import {convertQcow2, convertStreamOptimizedVmdk} from '../../src/platforms/qemu-img.js'
import {allocatedRegions, copySparse, dataRegions, sparseSha256} from '../../src/platforms/sparse.js'
import {compressFile, decompressedDigest, gzipFile} from '../../src/platforms/stream.js'
import {vhdGeometry, writeFixedVhd} from '../../src/platforms/vhd.js'

// Each producer on small synthetic sparse disks, judged by the real tools: qemu-img (info, check, compare,
// convert), GNU tar, zstd/xz/gzip, sha256sum. formats.int.test.ts does the same on a real build.

const work = mkdtempSync(join(tmpdir(), 'keel-producers-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const MiB = 1 << 20

/** A sparse file of `size` bytes with pseudo-random data at the given offsets (deterministic). */
function sparseFile(path: string, size: number, chunks: Array<[offset: number, length: number]>): void {
  const fd = openSync(path, 'w')
  try {
    ftruncateSync(fd, size) // all holes
    for (const [offset, length] of chunks) {
      const data = Buffer.alloc(length)
      for (let i = 0; i < length; i += 32) createHash('sha256').update(`${offset}/${i}`).digest().copy(data, i)
      writeSync(fd, data, 0, length, offset)
    }
  } finally {
    closeSync(fd)
  }
}

async function sha256sum(path: string): Promise<string> {
  return (await run('sha256sum', [path])).stdout.split(' ')[0]!
}

async function qemuInfo(args: string[]): Promise<Record<string, unknown>> {
  return JSON.parse((await run('qemu-img', ['info', '--output=json', ...args])).stdout) as Record<string, unknown>
}

const raw = join(work, 'disk.raw')
beforeAll(() => {
  // 64 MiB + 4 KiB (not a whole MiB), data at the start, in the middle and in the last sector
  sparseFile(raw, 64 * MiB + 4096, [[0, 300_000], [10 * MiB, 5 * MiB], [64 * MiB + 3584, 512]])
})

describe('sparse helpers', () => {
  it('find the data qemu-img map reports, and keep holes when copying', async () => {
    const allocated = await allocatedRegions(raw)
    const scanned = await dataRegions(raw)
    // every scanned data block lies inside an allocated extent (allocation is at filesystem-block granularity)
    for (const r of scanned.regions) expect(allocated.regions.some((a) => a.offset <= r.offset && r.offset + r.length <= a.offset + a.length)).toBe(true)
    const copy = join(work, 'copy.raw')
    await copySparse(raw, copy)
    expect(await sha256sum(copy)).toBe(await sha256sum(raw))
    expect(statSync(copy).blocks * 512).toBeLessThan(8 * MiB)
    expect((await sparseSha256(raw)).sha256).toBe(await sha256sum(raw))
  })
})

describe('fixed VHD', () => {
  it.each([1 * MiB, 100 * MiB, 200 * MiB, 1024 * MiB, 8192 * MiB, 40960 * MiB])('geometry of the disk qemu-img makes for %d bytes', async (size) => {
    const vhd = join(work, `geom-${size}.vhd`)
    // Without force_size, qemu-img grows the disk until a geometry of the specification's algorithm covers it
    // and stores that size: our geometry for the stored size must be the one qemu-img wrote.
    await run('qemu-img', ['create', '-q', '-f', 'vpc', '-o', 'subformat=fixed', vhd, String(size)])
    const buf = Buffer.alloc(512)
    const fd = openSync(vhd, 'r')
    readSync(fd, buf, 0, 512, statSync(vhd).size - 512)
    closeSync(fd)
    rmSync(vhd)
    const stored = Number(buf.readBigUInt64BE(48))
    expect(stored).toBeGreaterThanOrEqual(size)
    expect(vhdGeometry(stored)).toEqual({cylinders: buf.readUInt16BE(56), heads: buf[58], sectorsPerTrack: buf[59]})
  })

  it('is the raw data, zero padding to a whole MiB and a footer qemu-img reads as a fixed VHD of that size', async () => {
    const vhd = join(work, 'disk.vhd')
    const {virtualSize} = await writeFixedVhd(raw, vhd, {epoch: 1_700_000_000, uuid: '0123abcd-4567-89ef-0123-456789abcdef'})
    expect(virtualSize).toBe(65 * MiB)
    expect(statSync(vhd).size).toBe(65 * MiB + 512)
    // qemu takes the size from the CHS geometry for creators it does not know; current_size is what Azure reads
    const r = await run('qemu-img', ['info', '--output=json', '--image-opts', `driver=vpc,force_size_calc=current_size,file.driver=file,file.filename=${vhd}`])
    expect(r.stderr).not.toMatch(/checksum/i)
    const info = JSON.parse(r.stdout) as {format: string; 'virtual-size': number}
    expect(info.format).toBe('vpc')
    expect(info['virtual-size']).toBe(65 * MiB)
    const back = join(work, 'vhd-back.raw')
    await run('qemu-img', ['convert', '--image-opts', `driver=vpc,force_size_calc=current_size,file.driver=file,file.filename=${vhd}`, '-O', 'raw', back])
    const content = readFileSync(back)
    expect(createHash('sha256').update(content.subarray(0, 64 * MiB + 4096)).digest('hex')).toBe(await sha256sum(raw))
    expect(content.subarray(64 * MiB + 4096).every((b) => b === 0)).toBe(true)
  })
})

describe('qcow2 and stream-optimized VMDK', () => {
  it('qcow2: compat 1.1, compressed clusters, same content as the raw disk', async () => {
    const q = join(work, 'disk.qcow2')
    await convertQcow2(raw, q)
    const info = (await qemuInfo([q])) as {format: string; 'virtual-size': number; 'format-specific': {data: {compat: string}}}
    expect(info.format).toBe('qcow2')
    expect(info['virtual-size']).toBe(64 * MiB + 4096)
    expect(info['format-specific'].data.compat).toBe('1.1')
    const check = JSON.parse((await run('qemu-img', ['check', '--output=json', q])).stdout) as {'compressed-clusters': number; corruptions?: number}
    expect(check['compressed-clusters']).toBeGreaterThan(0)
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, q])
  })

  it('VMDK: streamOptimized, lsilogic, same content, and the same bytes twice (CID pinned)', async () => {
    mkdirSync(join(work, 'a'))
    mkdirSync(join(work, 'b'))
    const [a, b] = [join(work, 'a', 'disk.vmdk'), join(work, 'b', 'disk.vmdk')]
    await convertStreamOptimizedVmdk(raw, a, 'seed-1')
    await convertStreamOptimizedVmdk(raw, b, 'seed-1')
    expect(await sha256sum(a)).toBe(await sha256sum(b))
    const info = (await qemuInfo([a])) as {format: string; 'virtual-size': number; 'format-specific': {data: {'create-type': string}}}
    expect(info.format).toBe('vmdk')
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized')
    expect(readFileSync(a).toString('latin1')).toContain('ddb.adapterType = "lsilogic"')
    await run('qemu-img', ['check', a])
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', raw, a])
  })
})

describe('OVA', () => {
  it('holds the .ovf first, then the .mf, then the VMDK, and the manifest digests match the members', async () => {
    const vmdk = join(work, 'keel-vmware.vmdk')
    await convertStreamOptimizedVmdk(raw, vmdk, 'seed-1')
    const ova = join(work, 'keel.ova')
    await writeOva(vmdk, ova, {name: 'keel-0.1.0', ovfName: 'keel-vmware.ovf', capacity: 64 * MiB + 4096, mtime: 1_700_000_000})
    const list = (await run('tar', ['-tf', ova])).stdout.trim().split('\n')
    expect(list).toEqual(['keel-vmware.ovf', 'keel-vmware.mf', 'keel-vmware.vmdk'])
    const out = join(work, 'ova-x')
    mkdirSync(out)
    await run('tar', ['-xf', ova, '-C', out])
    const manifest = readFileSync(join(out, 'keel-vmware.mf'), 'utf8')
    for (const name of ['keel-vmware.ovf', 'keel-vmware.vmdk']) expect(manifest).toContain(`SHA256(${name})= ${await sha256sum(join(out, name))}\n`)
    expect(readFileSync(join(out, 'keel-vmware.ovf'), 'utf8')).toContain(`ovf:size="${statSync(vmdk).size}"`)
  })
})

describe('GCE tarball', () => {
  it('holds exactly disk.raw as an oldgnu sparse member that tar lists, and extracts to the same bytes (9 GiB: base-256 sizes, extension blocks)', {timeout: 600_000}, async () => {
    const big = join(work, 'big.raw')
    // 30 separate data regions (the map continues in extension blocks), the last beyond 8 GiB
    sparseFile(big, 9 * 1024 * MiB, Array.from({length: 30}, (_, i): [number, number] => [i * 300 * MiB, 64 * 1024]))
    const tgz = join(work, 'gce.tar.gz')
    await writeGceTarball(big, tgz, 1_700_000_000)
    const listing = (await run('tar', ['-tvzf', tgz])).stdout.trim().split('\n')
    expect(listing).toHaveLength(1)
    expect(listing[0]).toMatch(new RegExp(`^-rw-r--r-- root/root\\s+${9 * 1024 * MiB} 2023-11-14 22:13 ${GCE_MEMBER_NAME}$`))
    // the oldgnu magic and the sparse type flag in the member's header
    const head = gunzipSync(readFileSync(tgz)).subarray(0, 512)
    expect(head.subarray(257, 265).toString('latin1')).toBe('ustar  \0')
    expect(String.fromCharCode(head[156]!)).toBe('S')
    const out = join(work, 'gce-x')
    mkdirSync(out)
    await run('tar', ['-xSzf', tgz, '-C', out])
    const extracted = join(out, GCE_MEMBER_NAME)
    expect(statSync(extracted).size).toBe(9 * 1024 * MiB)
    expect(statSync(extracted).blocks * 512).toBeLessThan(64 * MiB) // the holes stayed holes
    expect(await sha256sum(extracted)).toBe((await sparseSha256(big)).sha256)
    rmSync(big)
    rmSync(extracted)
  })
})

describe('compression', () => {
  it('zstd, xz and gzip outputs decompress to the input, and are the same bytes on a second run', async () => {
    const digest = await sha256sum(raw)
    for (const [tool, write] of [
      ['zstd', (o: string) => compressFile(raw, o, 'zstd')],
      ['xz', (o: string) => compressFile(raw, o, 'xz')],
      ['gzip', (o: string) => gzipFile(raw, o)],
    ] as const) {
      const [one, two] = [join(work, `c1.${tool}`), join(work, `c2.${tool}`)]
      await write(one)
      await write(two)
      expect(await sha256sum(one), tool).toBe(await sha256sum(two))
      expect((await decompressedDigest(one, tool)).sha256, tool).toBe(digest)
    }
  })
})
