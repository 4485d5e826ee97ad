import {createHash} from 'node:crypto'
import {gunzipSync} from 'node:zlib'
import {extract} from 'tar-stream'
import {describe, expect, it} from 'vitest'
import {layerTar, MEDIA_TYPES, ociImage} from '../../../src/boot/checks/oci-image.js'
import {busyboxLayer} from '../../../src/boot/checks/test-container.js'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** name → {type, mode, content, linkname} read back with tar-stream (an independent tar reader). */
async function readTar(buf: Buffer): Promise<Map<string, {type: string; mode: number; content: Buffer; linkname?: string}>> {
  const out = new Map<string, {type: string; mode: number; content: Buffer; linkname?: string}>()
  const ex = extract()
  ex.end(buf)
  for await (const entry of ex) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    out.set(entry.header.name, {type: entry.header.type!, mode: entry.header.mode!, content: Buffer.concat(chunks), linkname: entry.header.linkname ?? undefined})
  }
  return out
}

const FAKE_BUSYBOX = Buffer.from('\x7fELF not really busybox, but bytes all the same\n')
const image = () => ociImage({reference: 'docker.io/keel/test-busybox:1', layer: layerTar(busyboxLayer(FAKE_BUSYBOX)), cmd: ['/bin/busybox', 'sh'], architecture: 'amd64'})

describe('OCI image layout tarball', () => {
  it('holds oci-layout, index.json and exactly the three blobs, each named by the sha256 of its bytes', async () => {
    const files = await readTar(image().archive)
    expect([...files.keys()].sort()).toEqual(expect.arrayContaining(['blobs/', 'blobs/sha256/', 'index.json', 'oci-layout']))
    const blobs = [...files.entries()].filter(([n, e]) => n.startsWith('blobs/sha256/') && e.type === 'file')
    expect(blobs).toHaveLength(3)
    for (const [name, e] of blobs) expect(name).toBe(`blobs/sha256/${sha(e.content)}`)
    expect(JSON.parse(files.get('oci-layout')!.content.toString())).toEqual({imageLayoutVersion: '1.0.0'})
  })

  it('index → manifest → config and layer: media types, digests and sizes agree; diff_id is the uncompressed layer', async () => {
    const img = image()
    const files = await readTar(img.archive)
    const blob = (digest: string) => files.get(`blobs/sha256/${digest.replace(/^sha256:/, '')}`)!.content
    const index = JSON.parse(files.get('index.json')!.content.toString())
    expect(index.schemaVersion).toBe(2)
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
    expect(index.manifests).toHaveLength(1)
    const m = index.manifests[0]
    expect(m.annotations).toEqual({'io.containerd.image.name': 'docker.io/keel/test-busybox:1', 'org.opencontainers.image.ref.name': '1'})
    expect(m.platform).toEqual({architecture: 'amd64', os: 'linux'})
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    const manifestBytes = blob(m.digest)
    expect(manifestBytes.length).toBe(m.size)
    const manifest = JSON.parse(manifestBytes.toString())
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json')
    expect(blob(manifest.config.digest).length).toBe(manifest.config.size)
    expect(manifest.layers).toHaveLength(1)
    expect(manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    const layerGz = blob(manifest.layers[0].digest)
    expect(layerGz.length).toBe(manifest.layers[0].size)
    const config = JSON.parse(blob(manifest.config.digest).toString())
    expect(config).toMatchObject({architecture: 'amd64', os: 'linux', config: {Cmd: ['/bin/busybox', 'sh'], Env: ['PATH=/bin']}, rootfs: {type: 'layers'}})
    expect(config.rootfs.diff_ids).toEqual([`sha256:${sha(gunzipSync(layerGz))}`])
    // what the writer reports is what it wrote
    expect(img.manifest.digest).toBe(m.digest)
    expect(img.layer.diffId).toBe(config.rootfs.diff_ids[0])
    expect(MEDIA_TYPES.layerGzip).toBe(manifest.layers[0].mediaType)
  })

  it('the layer holds bin/busybox (0755, the bytes given) and applet links to it', async () => {
    const files = await readTar(image().archive)
    const index = JSON.parse(files.get('index.json')!.content.toString())
    const manifest = JSON.parse(files.get(`blobs/sha256/${index.manifests[0].digest.slice(7)}`)!.content.toString())
    const layer = await readTar(gunzipSync(files.get(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`)!.content))
    expect([...layer.keys()]).toEqual(['bin/', 'bin/busybox', 'bin/cat', 'bin/echo', 'bin/ls', 'bin/sh', 'bin/true'])
    expect(layer.get('bin/')!.type).toBe('directory')
    expect(layer.get('bin/busybox')).toMatchObject({type: 'file', mode: 0o755, content: FAKE_BUSYBOX})
    expect(layer.get('bin/sh')).toMatchObject({type: 'symlink', linkname: 'busybox'})
  })

  it('is byte-for-byte the same when built again', () => {
    expect(sha(image().archive)).toBe(sha(image().archive))
  })

  it('refuses layer paths that leave the layer', () => {
    expect(() => layerTar([{path: '/etc/passwd', type: 'file', mode: 0o644}])).toThrow(/relative/)
    expect(() => layerTar([{path: 'bin/../../x', type: 'file', mode: 0o644}])).toThrow(/inside/)
  })
})
