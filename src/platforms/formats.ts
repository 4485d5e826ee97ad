import {link, rm} from 'node:fs/promises'
import {derivedGuid} from '../disk/guids.js'
import {writeGceTarball} from './gce.js'
import {ISO_FORMAT} from './iso.js'
import {PXE_FORMAT} from './pxe.js'
import {writeOva} from './ova.js'
import {convertQcow2, convertStreamOptimizedVmdk} from './qemu-img.js'
import {compressFile, gzipFile} from './stream.js'
import {sha256File} from '../core/hashing.js'
import type {FormatContext, FormatName, FormatSpec, ProducedFile} from './types.js'
import {sparseSha256} from './sparse.js'
import {writeFixedVhd} from './vhd.js'
import {join} from 'node:path'

/**
 * Formats as data: name → producer and file suffix. A platform entry lists format names; the build calls
 * each producer with the platform group's raw disk and writes `<name>-<version>-<platform><suffix>`.
 * Producers stream (bounded memory) and write atomically; none modifies the raw disk, which several
 * formats and platforms read.
 */


export const FORMATS = {
  raw: {
    description: 'raw GPT disk image (sparse)',
    suffix: '.img',
    tools: [],
    // A hard link: the raw disk is never modified after it is written, and a copy of GiBs would cost time and space.
    async produce(ctx) {
      await rm(ctx.out, {force: true})
      await link(ctx.disk.raw, ctx.out)
      return [{path: ctx.out, format: 'raw', digest: await ctx.disk.digest()}]
    },
  },
  'raw.zst': {
    description: 'raw disk, zstd-compressed (multi-threaded, deterministic)',
    suffix: '.img.zst',
    tools: ['zstd'],
    async produce(ctx) {
      await compressFile(ctx.disk.raw, ctx.out, 'zstd')
      return [{path: ctx.out, format: 'raw.zst', uncompressed: await ctx.disk.digest()}]
    },
  },
  'raw.xz': {
    description: 'raw disk, xz-compressed (multi-threaded mode, deterministic for any thread count)',
    suffix: '.img.xz',
    tools: ['xz'],
    async produce(ctx) {
      await compressFile(ctx.disk.raw, ctx.out, 'xz')
      return [{path: ctx.out, format: 'raw.xz', uncompressed: await ctx.disk.digest()}]
    },
  },
  qcow2: {
    description: 'qcow2 v3 (compat 1.1), compressed clusters',
    suffix: '.qcow2',
    tools: ['qemu-img'],
    async produce(ctx) {
      await convertQcow2(ctx.disk.raw, ctx.out)
      return [{path: ctx.out, format: 'qcow2'}]
    },
  },
  'qcow2.gz': {
    description: 'qcow2 v3, compressed clusters, gzip-compressed (DigitalOcean accepts gzip or bzip2 only)',
    suffix: '.qcow2.gz',
    tools: ['qemu-img'],
    async produce(ctx) {
      const qcow2 = join(ctx.parts.scratch, `${ctx.platform}.qcow2`)
      try {
        await convertQcow2(ctx.disk.raw, qcow2)
        await gzipFile(qcow2, ctx.out)
        return [{path: ctx.out, format: 'qcow2.gz', uncompressed: await sha256File(qcow2)}]
      } finally {
        await rm(qcow2, {force: true})
      }
    },
  },
  vmdk: {
    description: 'stream-optimized VMDK (lsilogic), content id derived from the inputs',
    suffix: '.vmdk',
    tools: ['qemu-img'],
    async produce(ctx) {
      await convertStreamOptimizedVmdk(ctx.disk.raw, ctx.out, ctx.parts.seed)
      return [{path: ctx.out, format: 'vmdk'}]
    },
  },
  vhd: {
    description: 'fixed VHD, virtual size a whole number of MiB, footer written by keel',
    suffix: '.vhd',
    tools: [],
    async produce(ctx) {
      await writeFixedVhd(ctx.disk.raw, ctx.out, {epoch: ctx.parts.epoch, uuid: derivedGuid(ctx.parts.seed, `vhd/${ctx.platform}`)})
      return [{path: ctx.out, format: 'vhd', digest: await sparseSha256(ctx.out)}]
    },
  },
  'tar.gz': {
    description: 'disk.raw in a sparse oldgnu tar, gzip-compressed (the GCE image import format)',
    suffix: '.tar.gz',
    tools: [],
    async produce(ctx) {
      const {tar} = await writeGceTarball(ctx.disk.raw, ctx.out, ctx.parts.epoch)
      return [{path: ctx.out, format: 'tar.gz', uncompressed: tar}]
    },
  },
  ova: {
    description: 'OVA: OVF descriptor, manifest, stream-optimized VMDK (in that order)',
    suffix: '.ova',
    tools: ['qemu-img'],
    async produce(ctx) {
      const stem = `${ctx.parts.image.name}-${ctx.parts.image.version}-${ctx.platform}`
      const vmdk = join(ctx.parts.scratch, `${stem}.vmdk`)
      try {
        await convertStreamOptimizedVmdk(ctx.disk.raw, vmdk, ctx.parts.seed)
        await writeOva(vmdk, ctx.out, {name: `${ctx.parts.image.name}-${ctx.parts.image.version}`, ovfName: `${stem}.ovf`, capacity: ctx.disk.size, mtime: ctx.parts.epoch})
        return [{path: ctx.out, format: 'ova'}]
      } finally {
        await rm(vmdk, {force: true})
      }
    },
  },
  // Live formats: no disk; made from the composed tree (see live.ts, pxe.ts, iso.ts).
  pxe: PXE_FORMAT,
  iso: ISO_FORMAT,
} as const satisfies Record<FormatName, FormatSpec>

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[]

export type {ProducedFile}
