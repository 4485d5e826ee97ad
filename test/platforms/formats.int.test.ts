import {createHash} from 'node:crypto'
import {closeSync, copyFileSync, createWriteStream, openSync, readSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Artifact, BuildManifest} from '../../src/build/manifest.js'
import {buildImage} from '../../src/build/pipeline.js'
import {run, spawnFilter} from '../../src/exec/run.js'
import {PackageCache, defaultCacheDir} from '../../src/packages/cache.js'
import {prepareBuildConfig} from '../../src/platforms/baked-config.js'
import {PLATFORM_NAMES, PLATFORMS} from '../../src/platforms/registry.js'
import {loadRecipe} from '../../src/recipe/load.js'
import {repoRoot} from '../helpers/cli.js'

// One `keel build --platform <every disk platform> --config` of recipes/base.yaml, then every artifact
// judged by the tool its platform uses: qemu-img info/check/convert, GNU tar, zstd/gzip, sha256sum, sgdisk,
// veritysetup. What would only repeat producers.int.test.ts on synthetic disks is not repeated here.

const work = mkdtempSync(join(tmpdir(), 'keel-formats-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

const MiB = 2 ** 20
const GiB = 2 ** 30
const DISK_PLATFORMS = PLATFORM_NAMES.filter((p) => !['pxe', 'iso'].includes(p))

let dir: string
let manifest: BuildManifest
const artifact = (platform: string, format: string): Artifact => {
  const a = manifest.artifacts.find((x) => x.platform === platform && x.format === format)
  if (!a) throw new Error(`no ${platform}/${format} artifact`)
  return a
}
const path = (a: Artifact): string => join(dir, a.path)

async function sha256sum(file: string): Promise<string> {
  return (await run('sha256sum', [file])).stdout.split(' ')[0]!
}

/** The real decompressor's output, hashed as it streams (and optionally kept). */
async function decompress(tool: 'zstd' | 'gzip', file: string, keep?: string): Promise<string> {
  const proc = spawnFilter(tool, ['-dc', file])
  proc.stdin.end()
  const hash = createHash('sha256')
  const sink = keep
    ? createWriteStream(keep)
    : new Writable({write(chunk: Buffer, _e, cb) { cb() }})
  const tee = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk)
      yield chunk
    }
  }
  await Promise.all([pipeline(proc.stdout, tee, sink), proc.done])
  return hash.digest('hex')
}

async function info(file: string, ...extra: string[]): Promise<Record<string, any>> {
  return JSON.parse((await run('qemu-img', ['info', '--output=json', ...extra, file])).stdout) as Record<string, any>
}

/** qemu-img's own conversion back to raw: the disk a platform will see. */
async function backToRaw(file: string, name: string, driverArgs: string[] = ['-f', 'qcow2']): Promise<string> {
  const out = join(work, `${name}.raw`)
  await run('qemu-img', ['convert', ...driverArgs, '-O', 'raw', ...(driverArgs[0] === '--image-opts' ? [] : [file]), out])
  return out
}

/** sgdisk -v finds no problem, and the partition names are the layout's. */
async function checkGpt(raw: string): Promise<void> {
  const v = await run('sgdisk', ['-v', raw])
  expect(v.stdout).toContain('No problems found')
  const table = JSON.parse((await run('sfdisk', ['--json', raw])).stdout) as {partitiontable: {partitions: Array<{name: string}>}}
  expect(table.partitiontable.partitions.map((p) => p.name)).toEqual(['EFI-SYSTEM', 'USR-A', 'USR-A-verity', 'USR-B', 'USR-B-verity', 'OEM', 'ROOT'])
}

beforeAll(async () => {
  copyFileSync(join(repoRoot, 'recipes/base.yaml'), join(work, 'base.yaml'))
  const recipe = loadRecipe(join(work, 'base.yaml')).recipe
  const configFile = join(work, 'user-data.yaml')
  writeFileSync(configFile, '#cloud-config\nhostname: baked\n')
  const config = prepareBuildConfig(readFileSync(configFile, 'utf8'), configFile).config!
  dir = join(work, 'out')
  manifest = await buildImage({recipe, platforms: DISK_PLATFORMS, outDir: dir, cache: new PackageCache(defaultCacheDir()), updateLock: true, config})
  console.log(`build: ${Object.entries(manifest.timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(', ')}`)
}, 3_600_000)

describe('keel build --platform qemu,metal,aws,gcp,azure,vmware,openstack,digitalocean --config', () => {
  it('lists every artifact with its real sha256 and size, named <name>-<version>-<platform><suffix>', {timeout: 1_200_000}, async () => {
    const expected = DISK_PLATFORMS.flatMap((p) => PLATFORMS[p].formats.map((f) => `${p}/${f}`))
    expect(manifest.artifacts.map((a) => `${a.platform}/${a.format}`)).toEqual([...expected, 'update/usr.zst'])
    for (const a of manifest.artifacts) {
      expect(statSync(path(a)).size, a.path).toBe(a.size)
      expect(await sha256sum(path(a)), a.path).toBe(a.sha256)
      expect(a.path.startsWith(`${manifest.image.name}-${manifest.image.version}-`)).toBe(true)
    }
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest)
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).not.toContain(work) // no host paths
  })

  it('gives each platform its ignition.platform.id and kernel arguments; the config is baked for metal only', () => {
    for (const p of DISK_PLATFORMS) {
      expect(manifest.kernel.cmdlines[p], p).toContain(`ignition.platform.id=${PLATFORMS[p].ignitionPlatformId}`)
      expect(manifest.kernel.cmdlines[p], p).toContain(`usrhash=${manifest.slots.A!.rootHash}`)
    }
    expect(manifest.kernel.cmdlines.aws).toContain('nvme_core.io_timeout=4294967295')
    expect(manifest.config).toMatchObject({kind: 'cloud-config', platforms: ['metal']})
  })

  it('qemu and openstack: qcow2 v3 with compressed clusters, accepted by qemu-img check, holding a valid GPT disk', {timeout: 600_000}, async () => {
    for (const [platform, size] of [['qemu', 8 * GiB], ['openstack', undefined]] as const) {
      const q = path(artifact(platform, 'qcow2'))
      const i = await info(q)
      expect(i.format).toBe('qcow2')
      expect(i['format-specific'].data.compat).toBe('1.1')
      if (size) expect(i['virtual-size']).toBe(size)
      const check = JSON.parse((await run('qemu-img', ['check', '--output=json', q])).stdout) as {'compressed-clusters': number}
      expect(check['compressed-clusters']).toBeGreaterThan(0)
      const raw = await backToRaw(q, platform)
      await checkGpt(raw)
      rmSync(raw)
    }
  })

  it('metal: the .img is the disk; .img.zst decompresses to its sha256', {timeout: 600_000}, async () => {
    const img = artifact('metal', 'raw')
    await checkGpt(path(img))
    const zst = artifact('metal', 'raw.zst')
    expect(await decompress('zstd', path(zst))).toBe(img.sha256)
    expect(zst.uncompressed).toEqual({sha256: img.sha256, size: img.size})
  })

  it('aws: raw and a stream-optimized VMDK qemu-img accepts and finds identical to it', {timeout: 600_000}, async () => {
    const raw = path(artifact('aws', 'raw'))
    const vmdk = path(artifact('aws', 'vmdk'))
    const i = await info(vmdk)
    expect(i.format).toBe('vmdk')
    expect(i['format-specific'].data['create-type']).toBe('streamOptimized')
    expect(i['virtual-size']).toBe(artifact('aws', 'raw').size)
    await run('qemu-img', ['check', vmdk])
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'vmdk', raw, vmdk])
    await checkGpt(raw)
  })

  it('azure: a fixed VHD, virtual size a whole number of MiB, footer and data as qemu-img reads them', {timeout: 600_000}, async () => {
    const vhd = path(artifact('azure', 'vhd'))
    const size = statSync(vhd).size - 512
    expect(size % MiB).toBe(0)
    const footer = Buffer.alloc(512)
    const fd = openSync(vhd, 'r')
    readSync(fd, footer, 0, 512, size)
    closeSync(fd)
    expect(footer.subarray(0, 8).toString('latin1')).toBe('conectix')
    expect(footer.readUInt32BE(60)).toBe(2) // fixed
    expect(Number(footer.readBigUInt64BE(48))).toBe(size)
    // qemu-img check has no checker for vpc; info and a full read (convert) are what it offers
    const opts = `driver=vpc,force_size_calc=current_size,file.driver=file,file.filename=${vhd}`
    const r = await run('qemu-img', ['info', '--output=json', '--image-opts', opts])
    expect(r.stderr).not.toMatch(/checksum/i)
    expect((JSON.parse(r.stdout) as {format: string; 'virtual-size': number})).toMatchObject({format: 'vpc', 'virtual-size': size})
    const raw = await backToRaw(vhd, 'azure', ['--image-opts', opts])
    await checkGpt(raw)
    rmSync(raw)
  })

  it('gcp: a gzip\'d tar holding exactly disk.raw (oldgnu, sparse), a whole number of GiB, a valid disk', {timeout: 600_000}, async () => {
    const tgz = path(artifact('gcp', 'tar.gz'))
    const listing = (await run('tar', ['-tvzf', tgz])).stdout.trim().split('\n')
    expect(listing).toHaveLength(1)
    const m = /^-rw-r--r-- root\/root\s+(\d+) \S+ \S+ disk\.raw$/.exec(listing[0]!)
    expect(m).not.toBeNull()
    expect(Number(m![1]) % GiB).toBe(0)
    const out = join(work, 'gcp-x')
    mkdirSync(out)
    await run('tar', ['-xSzf', tgz, '-C', out])
    await checkGpt(join(out, 'disk.raw'))
    expect(await decompress('gzip', tgz)).toBe(artifact('gcp', 'tar.gz').uncompressed!.sha256)
    rmSync(out, {recursive: true})
  })

  it('vmware: an OVA whose first member is the .ovf, then the .mf whose digests match, then the VMDK', {timeout: 600_000}, async () => {
    const ova = path(artifact('vmware', 'ova'))
    const names = (await run('tar', ['-tf', ova])).stdout.trim().split('\n')
    expect(names.map((n) => n.split('.').pop())).toEqual(['ovf', 'mf', 'vmdk'])
    const out = join(work, 'ova-x')
    mkdirSync(out)
    await run('tar', ['-xf', ova, '-C', out])
    const mf = readFileSync(join(out, names[1]!), 'utf8')
    for (const n of [names[0]!, names[2]!]) expect(mf).toContain(`SHA256(${n})= ${await sha256sum(join(out, n))}`)
    const i = await info(join(out, names[2]!))
    expect(i['format-specific'].data['create-type']).toBe('streamOptimized')
    expect(readFileSync(join(out, names[0]!), 'utf8')).toContain(`ovf:capacity="${i['virtual-size']}"`)
    rmSync(out, {recursive: true})
  })

  it('digitalocean: qcow2.gz that gzip decompresses to the recorded qcow2', {timeout: 600_000}, async () => {
    const gz = artifact('digitalocean', 'qcow2.gz')
    const q = join(work, 'do.qcow2')
    expect(await decompress('gzip', path(gz), q)).toBe(gz.uncompressed!.sha256)
    expect((await info(q)).format).toBe('qcow2')
    await run('qemu-img', ['check', q])
  })

  it('update payload: zstd decompresses it to /usr followed by its hash tree, which veritysetup verifies at the root hash', {timeout: 600_000}, async () => {
    const payload = artifact('update', 'usr.zst')
    const file = join(work, 'usr.payload')
    await run('zstd', ['-d', '-q', '-o', file, path(payload)])
    expect(await sha256sum(file)).toBe(payload.uncompressed!.sha256)
    const slot = manifest.slots.A!
    expect(statSync(file).size).toBe(slot.dataSize + slot.hashSize)
    await run('veritysetup', ['verify', file, file, slot.rootHash, `--hash-offset=${slot.dataSize}`])
    rmSync(file)
  })

  it('leaves no staging files behind', () => {
    expect(existsSync(dir)).toBe(true)
    expect(readdirSync(dir).sort()).toEqual([...manifest.artifacts.map((a) => a.path), 'manifest.json'].sort())
  })
})
