import {mkdtemp, open, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {fsyncDir} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {sha256Hex} from '../core/hashing.js'
import {run} from '../exec/run.js'

/**
 * qcow2 and stream-optimized VMDK through `qemu-img convert` (the reference implementation of both). The
 * output is written under its final file name inside a private directory and renamed into place, because
 * qemu-img records the VMDK's own file name in its extent line.
 */

/** qemu-img convert argv for each target (pure). */
export function qemuImgConvertArgs(target: 'qcow2' | 'vmdk', raw: string, out: string): string[] {
  const options = target === 'qcow2' ? ['-O', 'qcow2', '-o', 'compat=1.1', '-c'] : ['-O', 'vmdk', '-o', 'subformat=streamOptimized,adapter_type=lsilogic']
  return ['convert', '-f', 'raw', ...options, raw, out]
}

async function convertInto(target: 'qcow2' | 'vmdk', raw: string, out: string, cid?: string): Promise<void> {
  const work = await mkdtemp(join(dirname(out), '.keel-convert-'))
  try {
    const tmp = join(work, basename(out))
    await run('qemu-img', qemuImgConvertArgs(target, raw, tmp))
    if (cid) await pinVmdkCid(tmp, cid)
    await rename(tmp, out)
    await fsyncDir(dirname(out))
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}

/** qcow2 v3 (compat 1.1) with compressed clusters. */
export function convertQcow2(raw: string, out: string): Promise<void> {
  return convertInto('qcow2', raw, out)
}

/** Stream-optimized VMDK (lsilogic), its content id pinned so equal inputs give equal bytes. */
export function convertStreamOptimizedVmdk(raw: string, out: string, seed: string): Promise<void> {
  return convertInto('vmdk', raw, out, derivedVmdkCid(seed, basename(out)))
}

/** A VMDK content id from the build's inputs: 8 hex digits, never the reserved ffffffff/fffffffe. */
export function derivedVmdkCid(seed: string, name: string): string {
  const cid = sha256Hex(`${seed}/vmdk-cid/${name}`).slice(0, 8)
  return cid.startsWith('fffffff') ? `0${cid.slice(1)}` : cid
}

/**
 * qemu-img gives every new VMDK a random content id (`CID=%x` in the embedded descriptor, so even its length
 * varies; parent links use it, a stand-alone disk only needs it stable). Rewrite the descriptor with an
 * 8-digit id derived from the inputs. The descriptor is NUL-padded text in the sectors the header points at,
 * read up to its first NUL, with no checksum.
 */
export async function pinVmdkCid(path: string, cid: string): Promise<void> {
  if (!/^[0-9a-f]{8}$/.test(cid) || cid === 'ffffffff' || cid === 'fffffffe') throw new KeelError(`not a usable VMDK CID: ${cid}`, 'internal')
  const fh = await open(path, 'r+')
  try {
    const header = Buffer.alloc(64)
    await fh.read(header, 0, 64, 0)
    if (header.toString('latin1', 0, 4) !== 'KDMV') throw new KeelError(`${path} is not a sparse VMDK`, 'toolFailed')
    const descOffset = Number(header.readBigUInt64LE(28)) * 512
    const descSize = Number(header.readBigUInt64LE(36)) * 512
    const region = Buffer.alloc(descSize)
    await fh.read(region, 0, descSize, descOffset)
    const nul = region.indexOf(0)
    const text = region.toString('latin1', 0, nul < 0 ? descSize : nul)
    if (!/^CID=[0-9a-f]{1,8}$/m.test(text)) throw new KeelError(`no CID line in the VMDK descriptor of ${path}`, 'toolFailed')
    const pinned = Buffer.from(text.replace(/^CID=[0-9a-f]{1,8}$/m, `CID=${cid}`), 'latin1')
    if (pinned.length >= descSize) throw new KeelError(`the VMDK descriptor of ${path} has no room for its CID`, 'internal')
    const rewritten = Buffer.alloc(descSize)
    pinned.copy(rewritten)
    await fh.write(rewritten, 0, descSize, descOffset)
    await fh.sync()
  } finally {
    await fh.close()
  }
}
