import {mkdir, open, rename, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import {formatBytes, type Reporter, silentReporter} from '../core/progress.js'
import type {Slot} from './attributes.js'
import {encodeGpt, type GptTable} from './gpt.js'
import {type DiskPlan, planToGptTable} from './plan.js'
import {readGpt} from './read.js'
import {withSlots} from './slots.js'

const CHUNK = 4 << 20

/** Content images by partition name (a filesystem image, a /usr image, a verity hash device). */
export type PartitionContents = Record<string, string>

/**
 * Write the disk a plan describes: a sparse file of the plan's size, each content image copied to its
 * partition's offset in large chunks (all-zero chunks are skipped, so the result stays sparse), then the
 * protective MBR and both GPT copies. Written under a temp name and renamed: a reader sees no disk or a
 * whole one. Partitions without a content image are left zeroed.
 */
export async function writeDisk(plan: DiskPlan, contents: PartitionContents, outPath: string, reporter: Reporter = silentReporter): Promise<void> {
  const byName = new Map(plan.partitions.map((p) => [p.name, p]))
  const jobs: Array<{path: string; offset: number; size: number; name: string}> = []
  const problems: string[] = []
  for (const [name, path] of Object.entries(contents).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const p = byName.get(name)
    if (!p) {
      problems.push(`no partition named ${name} in the plan`)
      continue
    }
    if (p.content.kind === 'empty') problems.push(`partition ${name} is planned empty but an image was given for it`)
    const size = (await stat(path)).size
    if (size > p.sizeBytes) problems.push(`${path} (${formatBytes(size)}) does not fit partition ${name} (${formatBytes(p.sizeBytes)})`)
    jobs.push({path, offset: p.offsetBytes, size, name})
  }
  if (problems.length) throw new KeelError(`cannot write the disk: ${problems.join('; ')}`, 'input')

  const gpt = encodeGpt(planToGptTable(plan))
  await mkdir(dirname(outPath), {recursive: true})
  const tmp = tempPathFor(outPath)
  const out = await open(tmp, 'w', 0o644)
  try {
    await out.truncate(plan.sizeBytes)
    const buf = Buffer.alloc(CHUNK)
    for (const job of jobs.sort((a, b) => a.offset - b.offset)) {
      reporter.status(`writing ${job.name} (${formatBytes(job.size)})`)
      const src = await open(job.path, 'r')
      try {
        let done = 0
        while (done < job.size) {
          const {bytesRead} = await src.read(buf, 0, Math.min(CHUNK, job.size - done), done)
          if (bytesRead === 0) throw new KeelError(`${job.path} shrank while being copied`, 'internal')
          const chunk = buf.subarray(0, bytesRead)
          if (!isZero(chunk)) await writeFully(out, chunk, job.offset + done)
          done += bytesRead
        }
      } finally {
        await src.close()
      }
    }
    await writeFully(out, gpt.primary, 0)
    await writeFully(out, gpt.backup, gpt.backupOffset)
    await out.sync()
  } catch (err) {
    await out.close()
    await rm(tmp, {force: true})
    throw err
  }
  await out.close()
  await rename(tmp, outPath)
  await fsyncDir(dirname(outPath))
}

/**
 * Rewrite the GPT of an existing disk in place (e.g. new slot attribute bits), both copies with fresh CRCs.
 * The backup goes first and is synced before the primary, so a crash in between leaves one valid copy.
 * A damaged copy is repaired from the intact one.
 */
export async function rewriteGpt(path: string, change: (table: GptTable) => GptTable): Promise<GptTable> {
  const current = await readGpt(path)
  const next = change(structuredClone(current.table))
  if (next.totalSectors !== current.table.totalSectors) throw new KeelError('rewriteGpt cannot resize a disk', 'internal')
  const gpt = encodeGpt(next)
  const fh = await open(path, 'r+')
  try {
    await writeFully(fh, gpt.backup, gpt.backupOffset)
    await fh.sync()
    await writeFully(fh, gpt.primary, 0)
    await fh.sync()
  } finally {
    await fh.close()
  }
  return next
}

/** Apply a slot transition (e.g. `s => installUpdate(s, 4, 1)`) to a disk's /usr slots, both GPT copies. */
export async function updateSlots(path: string, change: (slots: Slot[]) => Slot[]): Promise<GptTable> {
  return rewriteGpt(path, (table) => withSlots(table, change))
}

type Handle = Awaited<ReturnType<typeof open>>

async function writeFully(fh: Handle, data: Buffer, position: number): Promise<void> {
  let off = 0
  while (off < data.length) {
    const {bytesWritten} = await fh.write(data, off, data.length - off, position + off)
    off += bytesWritten
  }
}

const ZEROS = Buffer.alloc(CHUNK)

/** memcmp against zeros: fast enough that skipping holes costs nothing next to the copy itself. */
function isZero(buf: Buffer): boolean {
  return buf.equals(ZEROS.subarray(0, buf.length))
}
