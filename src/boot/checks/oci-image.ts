import {gzipSync} from 'node:zlib'
import {sha256Hex} from '../../core/hashing.js'
import {BLOCK, encodeHeader, padding, type TarHeader} from '../../rootfs/tar-header.js'

/**
 * A tiny OCI image as an image-layout tarball, written by keel itself (pure), for the containerd check: no
 * registry, no image tool. The layout is `oci-layout`, `index.json` and `blobs/sha256/<digest>` for the
 * config, the manifest and one gzip layer; every digest is the sha256 of the blob's exact bytes. All times
 * are 0, owners root, entries sorted: the same input gives the same bytes.
 */

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const

export interface LayerEntry {
  /** Relative path in the container, no leading slash (e.g. 'bin/busybox'). */
  path: string
  type: 'dir' | 'file' | 'symlink'
  mode: number
  content?: Uint8Array
  /** Symlink target. */
  target?: string
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
}

export interface OciImage {
  /** The image-layout tarball. */
  archive: Buffer
  /** The image name containerd imports it as (io.containerd.image.name). */
  reference: string
  manifest: Descriptor
  config: Descriptor
  layer: Descriptor & {diffId: string}
}

/** A plain tar of `entries` (sorted by path, directories with a trailing '/'), mtime 0, owned by root. */
export function tarOf(entries: ReadonlyArray<{name: string; type: TarHeader['type']; mode: number; content?: Uint8Array; linkname?: string}>): Buffer {
  const parts: Buffer[] = []
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of sorted) {
    const size = e.type === 'file' ? (e.content?.length ?? 0) : 0
    parts.push(encodeHeader({name: e.name, type: e.type, mode: e.mode, uid: 0, gid: 0, size, mtime: 0, linkname: e.linkname, uname: 'root', gname: 'root'}))
    if (size > 0) parts.push(Buffer.from(e.content!), Buffer.alloc(padding(size)))
  }
  parts.push(Buffer.alloc(2 * BLOCK))
  return Buffer.concat(parts)
}

/** The layer's tar: each entry under its path ('bin/' for a directory). */
export function layerTar(entries: readonly LayerEntry[]): Buffer {
  for (const e of entries) {
    if (e.path.startsWith('/') || e.path.split('/').includes('..')) throw new Error(`layer path must be relative and inside the layer: '${e.path}'`)
  }
  return tarOf(entries.map((e) => ({name: e.type === 'dir' ? `${e.path.replace(/\/$/, '')}/` : e.path, type: e.type, mode: e.mode, content: e.content, linkname: e.target})))
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}

function describe(mediaType: string, blob: Uint8Array): Descriptor {
  return {mediaType, digest: `sha256:${sha256Hex(blob)}`, size: blob.length}
}

export interface OciImageOptions {
  /** Full image name with tag, e.g. 'docker.io/keel/check:1'. */
  reference: string
  /** The uncompressed layer tar (layerTar). */
  layer: Buffer
  cmd: string[]
  env?: string[]
  architecture: string
  os?: string
}

/** Config, manifest and index for one layer, packed as an OCI image-layout tarball. */
export function ociImage(opts: OciImageOptions): OciImage {
  const os = opts.os ?? 'linux'
  // gzip from Node's bundled zlib: no name or time in the header, so the bytes depend on the layer only.
  const layerBlob = gzipSync(opts.layer, {level: 9})
  const layer = {...describe(MEDIA_TYPES.layerGzip, layerBlob), diffId: `sha256:${sha256Hex(opts.layer)}`}
  const configBlob = json({
    architecture: opts.architecture,
    os,
    config: {Env: opts.env ?? ['PATH=/bin'], Cmd: opts.cmd},
    rootfs: {type: 'layers', diff_ids: [layer.diffId]},
  })
  const config = describe(MEDIA_TYPES.config, configBlob)
  const manifestBlob = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config,
    layers: [{mediaType: layer.mediaType, digest: layer.digest, size: layer.size}],
  })
  const manifest = describe(MEDIA_TYPES.manifest, manifestBlob)
  const tag = opts.reference.slice(opts.reference.lastIndexOf(':') + 1)
  const index = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        ...manifest,
        platform: {architecture: opts.architecture, os},
        // containerd names the image after io.containerd.image.name; other tools read the OCI ref name.
        annotations: {'io.containerd.image.name': opts.reference, 'org.opencontainers.image.ref.name': tag},
      },
    ],
  })
  const blob = (d: Descriptor, content: Buffer) => ({name: `blobs/sha256/${d.digest.slice('sha256:'.length)}`, type: 'file' as const, mode: 0o644, content})
  const archive = tarOf([
    {name: 'blobs/', type: 'dir', mode: 0o755},
    {name: 'blobs/sha256/', type: 'dir', mode: 0o755},
    blob(layer, layerBlob),
    blob(config, configBlob),
    blob(manifest, manifestBlob),
    {name: 'index.json', type: 'file', mode: 0o644, content: index},
    {name: 'oci-layout', type: 'file', mode: 0o644, content: json({imageLayoutVersion: '1.0.0'})},
  ])
  return {archive, reference: opts.reference, manifest, config, layer}
}
