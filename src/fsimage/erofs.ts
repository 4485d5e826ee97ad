import {closeSync, openSync, readSync, writeSync} from 'node:fs'
import {resolve} from 'node:path'
import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import {run} from '../exec/run.js'
import {
  type ByteWrite,
  EROFS_SUPER_OFFSET,
  type ErofsInode,
  hasSuperblockChecksum,
  planInodePatch,
  type ReadAt,
  superblockChecksum,
  walkErofs,
} from './erofs-layout.js'
import {type ImageResult, type ToolInvocation, versionLine, writeImageAtomically} from './output.js'
import {type Compression, formatCompression} from './compression.js'
import {assertSamePaths, type ImageManifest, largestId, SPECIAL_TYPES} from './subtree.js'
import type {UsrImageInput} from './usr.js'

export interface ErofsPlanOptions {
  /** Directory whose contents become the image root. */
  source: string
  output: string
  compression: Compression
  uuid: string
  /** SOURCE_DATE_EPOCH: every inode's time and the build time. */
  epoch: number
  /** 64-byte inodes everywhere: needed when an owner id does not fit the compact inode's 16 bits. */
  extendedInodes?: boolean
}

/**
 * Extended options for compressed images: `ztailpacking` stores each file's last, partial cluster inline
 * after its inode instead of in a block of its own — 3 % smaller on the base /usr (148.3 → 143.9 MiB lz4),
 * no slower to make. Linux reads it since 5.17 (bookworm's kernels are 6.1).
 */
export const EROFS_COMPRESSED_FEATURES = ['ztailpacking'] as const

/**
 * mkfs.erofs argv (pure). Owners become root here; `stampErofs` then writes the manifest's.
 * SOURCE_DATE_EPOCH is removed from the environment: when it is present at all (even empty), mkfs.erofs 1.5
 * only clamps newer times to it and keeps older source mtimes, nanoseconds included, which also turns
 * every inode into a 64-byte one; -T alone gives every inode exactly the epoch.
 */
export function planErofs(o: ErofsPlanOptions): ToolInvocation {
  const args: string[] = []
  const compressed = o.compression.algorithm !== 'none'
  if (compressed) args.push(`-z${formatCompression(o.compression)}`)
  args.push(`-T${o.epoch}`, `-U${o.uuid}`, '--all-root', '-x-1')
  const extended = [...(o.extendedInodes ? ['force-inode-extended'] : []), ...(compressed ? EROFS_COMPRESSED_FEATURES : [])]
  if (extended.length) args.push(`-E${extended.join(',')}`)
  args.push(o.output, o.source)
  return {tool: 'mkfs.erofs', args, env: {SOURCE_DATE_EPOCH: undefined}}
}

export interface ErofsStampPlan {
  writes: ByteWrite[]
  /** Inodes whose metadata changed (hard-linked names count once). */
  patchedInodes: number
}

/**
 * The writes that give every inode of an image its manifest metadata (pure over the walked image). The image
 * must hold exactly the manifest's paths: a path on one side only means the staging directory and the
 * manifest disagree, which is a bug worth stopping for.
 */
export function planErofsStamp(inodes: ReadonlyMap<string, ErofsInode>, manifest: ImageManifest): ErofsStampPlan {
  assertSamePaths('the erofs image', inodes.keys(), manifest)
  const writes: ByteWrite[] = []
  const done = new Map<number, string>()
  let patchedInodes = 0
  for (const [path, inode] of inodes) {
    const want = manifest.get(path)!
    const first = done.get(inode.nid)
    if (first !== undefined) {
      const had = manifest.get(first)!
      if (had.uid !== want.uid || had.gid !== want.gid || had.mode !== want.mode) {
        throw new KeelError(`/${path} and /${first} share an inode but the manifest gives them different owners or modes`, 'internal')
      }
      continue
    }
    done.set(inode.nid, path)
    const w = planInodePatch(inode, want)
    if (w.length) patchedInodes++
    writes.push(...w)
  }
  return {writes, patchedInodes}
}

/** Rewrite owners and modes of an erofs image file in place from the manifest; fixes the superblock checksum. */
export function stampErofs(image: string, manifest: ImageManifest): ErofsStampPlan {
  const fd = openSync(image, 'r+')
  try {
    const read: ReadAt = (offset, length) => {
      const buf = Buffer.alloc(length)
      let got = 0
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got)
        if (n === 0) throw new KeelError(`erofs image ends early: wanted ${length} bytes at ${offset}`, 'internal')
        got += n
      }
      return buf
    }
    const {superblock, inodes} = walkErofs(read)
    const plan = planErofsStamp(inodes, manifest)
    for (const w of plan.writes) writeSync(fd, w.bytes, 0, w.bytes.length, w.offset)
    if (hasSuperblockChecksum(superblock)) {
      const region = read(EROFS_SUPER_OFFSET, superblock.blockSize - EROFS_SUPER_OFFSET)
      const sum = Buffer.alloc(4)
      sum.writeUInt32LE(superblockChecksum(region))
      writeSync(fd, sum, 0, 4, EROFS_SUPER_OFFSET + 4)
    }
    return plan
  } finally {
    closeSync(fd)
  }
}

/** What every /usr image maker receives (usr.ts): erofs uses all of it. */
export type MakeErofsOptions = UsrImageInput

export async function makeErofs(o: MakeErofsOptions): Promise<ImageResult & {patchedInodes: number}> {
  const started = performance.now()
  const reporter = o.reporter ?? silentReporter
  const special = [...o.manifest].filter(([, m]) => SPECIAL_TYPES.has(m.type)).map(([p]) => `/${p}`)
  if (special.length) throw new KeelError(`erofs images are made from files on disk and cannot hold device nodes or fifos: ${special.join(', ')}`, 'input')
  let mkfsVersion = 'unknown'
  const written = await writeImageAtomically(o.output, async (tmp) => {
    reporter.status(`mkfs.erofs ${formatCompression(o.compression)}`)
    const inv = planErofs({...o, output: tmp, extendedInodes: largestId(o.manifest) > 0xffff})
    const r = await run(inv.tool, inv.args, {env: inv.env})
    mkfsVersion = versionLine(r.stdout + r.stderr) ?? mkfsVersion
    reporter.status('erofs: owners and modes from the manifest')
    return stampErofs(tmp, o.manifest)
  })
  return {
    path: resolve(o.output),
    filesystem: 'erofs',
    compression: formatCompression(o.compression),
    uuid: o.uuid,
    size: written.size,
    sha256: written.sha256,
    tools: {'mkfs.erofs': mkfsVersion},
    durationMs: Math.round(performance.now() - started),
    patchedInodes: written.value.patchedInodes,
  }
}
