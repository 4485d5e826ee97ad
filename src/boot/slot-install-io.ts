import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {KeelError} from '../core/errors.js'
import {formatBytes, type Reporter, silentReporter} from '../core/progress.js'
import {lookupPartitionType} from '../disk/guids.js'
import type {SlotName} from '../disk/layout.js'
import {readGpt} from '../disk/read.js'
import {slotPartitions} from '../disk/slots.js'
import {readSlotVerity} from '../disk/verity-info.js'
import {rewriteGpt} from '../disk/write.js'
import {run} from '../exec/run.js'
import {usrFilesystemOf} from './cmdline.js'
import {ENTRIES_DIR, parseEntryFileName, slotBootFiles} from './entries.js'
import {planSlotInstall, type SlotInstallPlan, type SlotInstallRequest} from './slot-install.js'

/**
 * The thin I/O around planSlotInstall, on a raw disk image (never a disk in use): bytes into the slot's
 * partitions, files into the ESP with mtools (no mount, no root), then the GPT. Order matters for an
 * updater that can be interrupted: the slot's data first, its boot entry after, so an entry never points
 * at a half-written slot; the GPT bits are a mirror for inspection and go last.
 */

/** A byte range of a file: a partition image, or a partition of another (or the same) disk. */
export interface ByteSource {
  path: string
  offset?: number
  /** Default: the file's size minus offset. */
  length?: number
}

const CHUNK = 4 << 20

function espTarget(image: string, offsetBytes: number): string {
  return `${image}@@${offsetBytes}`
}

// mtools refuses some images whose geometry fields it dislikes unless told not to check.
const MTOOLS_ENV = {MTOOLS_SKIP_CHECK: '1'}

/** The file names in the ESP's loader/entries of a raw disk. */
export async function readBootEntryNames(image: string): Promise<string[]> {
  const esp = await espOf(image)
  const {stdout} = await run('mdir', ['-b', '-i', espTarget(image, esp.offsetBytes), `::/${ENTRIES_DIR}`], {env: MTOOLS_ENV})
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.slice(l.lastIndexOf('/') + 1)).sort()
}

/** One ESP file of a raw disk, as text (loader.conf, an entry). */
export async function readEspText(image: string, espPath: string): Promise<string> {
  const esp = await espOf(image)
  const {stdout} = await run('mcopy', ['-n', '-i', espTarget(image, esp.offsetBytes), `::/${espPath}`, '-'], {env: MTOOLS_ENV})
  return stdout
}

/** Copy one ESP file of a raw disk out to a host file. */
export async function extractEspFile(image: string, espPath: string, dest: string): Promise<void> {
  const esp = await espOf(image)
  await run('mcopy', ['-n', '-o', '-i', espTarget(image, esp.offsetBytes), `::/${espPath}`, dest], {env: MTOOLS_ENV})
}

async function espOf(image: string): Promise<{offsetBytes: number}> {
  const {table} = await readGpt(image)
  const esp = table.partitions.find((p) => lookupPartitionType(p.typeGuid)?.name === 'esp')
  if (!esp) throw new KeelError(`${image} has no EFI system partition`, 'input')
  return {offsetBytes: esp.firstLba * 512}
}

type Handle = Awaited<ReturnType<typeof open>>

async function copyRange(src: ByteSource, dst: Handle, dstOffset: number, room: number, what: string): Promise<number> {
  const fh = await open(src.path, 'r')
  try {
    const start = src.offset ?? 0
    const length = src.length ?? (await fh.stat()).size - start
    if (length > room) throw new KeelError(`${what} (${formatBytes(length)}) does not fit its partition (${formatBytes(room)})`, 'input')
    const buf = Buffer.alloc(CHUNK)
    let done = 0
    while (done < length) {
      const {bytesRead} = await fh.read(buf, 0, Math.min(CHUNK, length - done), start + done)
      if (bytesRead === 0) throw new KeelError(`${src.path} ended before ${formatBytes(length)} of ${what} were read`, 'input')
      let off = 0
      while (off < bytesRead) off += (await dst.write(buf, off, bytesRead - off, dstOffset + done + off)).bytesWritten
      done += bytesRead
    }
    return length
  } finally {
    await fh.close()
  }
}

export interface SlotInstallSources {
  usr: ByteSource
  verity: ByteSource
  /** Host paths of the slot's kernel and initrd. */
  kernel: string
  initrd: string
}

/** Install a slot on a raw disk image: data, verity tree, kernel + initrd + entry on the ESP, GPT. */
export async function installSlot(image: string, req: SlotInstallRequest, sources: SlotInstallSources, reporter: Reporter = silentReporter): Promise<SlotInstallPlan> {
  const {table} = await readGpt(image)
  const plan = planSlotInstall(table, await readBootEntryNames(image), req, await readEspText(image, 'loader/loader.conf'))
  const {usr, verity} = plan.partitions
  const fh = await open(image, 'r+')
  try {
    reporter.status(`writing ${usr.name}`)
    await copyRange(sources.usr, fh, usr.offsetBytes, usr.sizeBytes, `the /usr image for ${usr.name}`)
    reporter.status(`writing ${verity.name}`)
    await copyRange(sources.verity, fh, verity.offsetBytes, verity.sizeBytes, `the verity tree for ${verity.name}`)
    await fh.sync()
  } finally {
    await fh.close()
  }
  reporter.status(`writing slot ${req.slot}'s boot files`)
  const target = espTarget(image, plan.esp.offsetBytes)
  await run('mcopy', ['-o', '-i', target, sources.kernel, `::/${plan.bootFiles.kernel}`], {env: MTOOLS_ENV})
  await run('mcopy', ['-o', '-i', target, sources.initrd, `::/${plan.bootFiles.initrd}`], {env: MTOOLS_ENV})
  if (plan.removeEntries.length) await run('mdel', ['-i', target, ...plan.removeEntries.map((p) => `::/${p}`)], {env: MTOOLS_ENV})
  const tmp = mkdtempSync(join(tmpdir(), 'keel-slot-'))
  try {
    // Entries before loader.conf: the default pattern only ever names entries that exist.
    const files = Object.entries(plan.writeFiles).sort(([a], [b]) => Number(a === 'loader/loader.conf') - Number(b === 'loader/loader.conf'))
    for (const [path, content] of files) {
      const local = join(tmp, path.replace(/\//g, '_'))
      writeFileSync(local, content)
      await run('mcopy', ['-o', '-i', target, local, `::/${path}`], {env: MTOOLS_ENV})
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
  await rewriteGpt(image, () => plan.table)
  return plan
}

/** Kernel command line arguments keel generates per slot; anything else on a slot's entry is carried over. */
const GENERATED_ARGS = /^(root=|rw$|mount\.usr|usrhash=|systemd\.verity_usr_|ignition\.platform\.id=|ignition\.firstboot$)/

/** root=, the platform id and the extra arguments of an entry's `options` line (pure). */
export function cmdlinePieces(options: string): SlotInstallRequest['cmdline'] {
  const args = options.trim().split(/\s+/)
  const root = args.find((a) => a.startsWith('root='))?.slice(5)
  const platform = args.find((a) => a.startsWith('ignition.platform.id='))?.slice('ignition.platform.id='.length)
  if (!root || !platform) throw new KeelError(`a slot entry's options lack root= or ignition.platform.id=: ${options}`, 'input')
  return {root, platform, extra: args.filter((a) => !GENERATED_ARGS.test(a))}
}

export interface CopySlotOptions {
  from: SlotName
  to: SlotName
  /** Default: the source slot entry's version. */
  version?: string
  /** As SlotInstallRequest.tries: a count for a new slot on trial, omitted for a known-good one. */
  tries?: number
  /** Appended to the copied command line (a test's own marker argument, for instance). */
  extraArgs?: readonly string[]
  reporter?: Reporter
}

/**
 * Put a byte copy of one slot into another on a raw disk, installed as an updater would install a new
 * release: `keel test` uses it to give the image a second, bootable slot. The copy has the same root hash,
 * so its partitions get their own UUIDs and its entry names them.
 */
export async function copySlot(image: string, opts: CopySlotOptions): Promise<SlotInstallPlan> {
  const {table} = await readGpt(image)
  const source = slotPartitions(table).find((p) => p.name === `USR-${opts.from}`)
  if (!source) throw new KeelError(`the disk has no USR-${opts.from} partition`, 'input')
  const verity = (await readSlotVerity(image, table)).get(source.index)
  if (!verity?.rootHash) throw new KeelError(`USR-${opts.from} has no readable verity tree: ${verity?.note ?? 'no superblock'}`, 'input')
  const verityPart = table.partitions.find((p) => p.name === verity.verityPartition)!
  const entryName = (await readBootEntryNames(image)).find((n) => parseEntryFileName(n)?.slot === opts.from)
  if (!entryName) throw new KeelError(`the ESP has no boot entry for slot ${opts.from}`, 'input')
  const entryText = await readEspText(image, `${ENTRIES_DIR}/${entryName}`)
  const options = /^options\s+(.*)$/m.exec(entryText)?.[1]
  if (!options) throw new KeelError(`${entryName} has no options line`, 'input')
  const pieces = cmdlinePieces(options)
  const usrFs = usrFilesystemOf(options)
  if (!usrFs) throw new KeelError(`${entryName} names no /usr filesystem keel makes (mount.usrfstype=): ${options}`, 'input')
  const tmp = mkdtempSync(join(tmpdir(), 'keel-slot-copy-'))
  try {
    const files = slotBootFiles(opts.from)
    const kernel = join(tmp, 'vmlinuz')
    const initrd = join(tmp, 'initrd')
    await extractEspFile(image, files.kernel, kernel)
    await extractEspFile(image, files.initrd, initrd)
    const dataBytes = verity.dataBlocks * verity.dataBlockSize
    const req: SlotInstallRequest = {
      slot: opts.to,
      rootHash: verity.rootHash,
      usrFs,
      version: opts.version ?? /^version\s+(\S+)/m.exec(entryText)?.[1] ?? '0',
      ...(opts.tries === undefined ? {} : {tries: opts.tries}),
      cmdline: {...pieces, extra: [...(pieces.extra ?? []), ...(opts.extraArgs ?? [])]},
    }
    return await installSlot(
      image,
      req,
      {
        usr: {path: image, offset: source.firstLba * 512, length: dataBytes},
        verity: {path: image, offset: verityPart.firstLba * 512, length: (verityPart.lastLba - verityPart.firstLba + 1) * 512},
        kernel,
        initrd,
      },
      opts.reporter,
    )
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}
