import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import {run, toolVersion} from '../exec/run.js'
import {HOST_TOOLS} from '../exec/tools.js'
import {compareBytes, normalizeImagePath} from '../rootfs/tree.js'
import {derivedVolumeId, fileBytes, type ImageFile, type ImageResult, type ToolInvocation, versionLine, writeImageAtomically} from './output.js'

export interface VfatPlanOptions {
  output: string
  sizeBytes: number
  label: string
  /** 8 hex digits. */
  volumeId: string
  /** 12, 16 or 32; default: mkfs.vfat's choice for the size (FAT32 from 512 MiB). */
  fatSize?: 12 | 16 | 32
}

/** mkfs.vfat argv (pure). --invariant pins the boot sector's remaining time-based fields; -i comes after it to win. */
export function planVfat(o: VfatPlanOptions): ToolInvocation {
  if (o.sizeBytes <= 0 || o.sizeBytes % 1024 !== 0) throw new KeelError(`a vfat image size must be a positive multiple of 1 KiB, not ${o.sizeBytes}`, 'input')
  if (!/^[0-9a-f]{8}$/i.test(o.volumeId)) throw new KeelError(`a vfat volume id is 8 hex digits, not '${o.volumeId}'`, 'internal')
  if (!/^[\x20-\x7e]{1,11}$/.test(o.label) || /[a-z]/.test(o.label)) throw new KeelError(`a vfat label is 1-11 upper-case ASCII characters, not '${o.label}'`, 'input')
  const args = ['--invariant', '-i', o.volumeId, '-n', o.label]
  if (o.fatSize) args.push('-F', String(o.fatSize))
  args.push('-C', o.output, String(o.sizeBytes / 1024))
  return {tool: 'mkfs.vfat', args, env: {}}
}

/** mtools environment: no drive-geometry checks, and every time stamp at the epoch. */
export function mtoolsEnv(epoch: number): Record<string, string> {
  return {MTOOLS_SKIP_CHECK: '1', SOURCE_DATE_EPOCH: String(epoch)}
}

/**
 * The mmd and mcopy runs that fill the image (pure): parent directories first, all in byte order, then each
 * file from its host path. `hostFiles` maps image path → host file to copy.
 */
export function planVfatContents(image: string, hostFiles: ReadonlyMap<string, string>, epoch: number): ToolInvocation[] {
  const dirs = new Set<string>()
  for (const path of hostFiles.keys()) {
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'))
  }
  const env = mtoolsEnv(epoch)
  const out: ToolInvocation[] = []
  const sortedDirs = [...dirs].sort(compareBytes)
  if (sortedDirs.length) out.push({tool: 'mmd', args: ['-i', image, ...sortedDirs.map((d) => `::/${d}`)], env})
  for (const path of [...hostFiles.keys()].sort(compareBytes)) {
    out.push({tool: 'mcopy', args: ['-i', image, '-o', hostFiles.get(path)!, `::/${path}`], env})
  }
  return out
}

export interface MakeVfatOptions {
  output: string
  sizeBytes: number
  label: string
  volumeId: string
  epoch: number
  fatSize?: 12 | 16 | 32
  /** Image path → bytes or host file (modes and owners do not exist on FAT and are ignored). */
  files?: Record<string, ImageFile>
  reporter?: Reporter
}

/** A FAT image built without mounting: mkfs.vfat -C, then mmd/mcopy (mtools). */
export async function makeVfat(o: MakeVfatOptions): Promise<ImageResult & {files: number}> {
  const started = performance.now()
  const reporter = o.reporter ?? silentReporter
  mkdirSync(dirname(resolve(o.output)), {recursive: true})
  const work = mkdtempSync(join(dirname(resolve(o.output)), '.keel-vfat-'))
  const tools: Record<string, string> = {}
  try {
    const hostFiles = new Map<string, string>()
    let n = 0
    for (const [rawPath, f] of Object.entries(o.files ?? {})) {
      const path = normalizeImagePath(rawPath)
      if (path === '') throw new KeelError(`not a file path in the ESP: '${rawPath}'`, 'input')
      if (f.hostPath !== undefined && f.content === undefined) hostFiles.set(path, f.hostPath)
      else {
        const staged = join(work, `file-${n++}`)
        writeFileSync(staged, await fileBytes(path, f))
        hostFiles.set(path, staged)
      }
    }
    const written = await writeImageAtomically(o.output, async (tmp) => {
      reporter.status(`${o.label}: mkfs.vfat`)
      const mkfs = planVfat({...o, output: tmp})
      const r = await run(mkfs.tool, mkfs.args, {env: mkfs.env})
      tools['mkfs.vfat'] = versionLine(r.stdout + r.stderr) ?? 'unknown'
      reporter.status(`${o.label}: copying ${hostFiles.size} files`)
      for (const step of planVfatContents(tmp, hostFiles, o.epoch)) await run(step.tool, step.args, {env: step.env})
      tools.mtools = await toolVersion('mcopy', HOST_TOOLS.mcopy.versionArgs)
    })
    const id = o.volumeId.toUpperCase()
    return {
      path: resolve(o.output),
      filesystem: 'vfat',
      label: o.label,
      uuid: `${id.slice(0, 4)}-${id.slice(4)}`,
      size: written.size,
      sha256: written.sha256,
      tools,
      durationMs: Math.round(performance.now() - started),
      files: hostFiles.size,
    }
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

export interface EspImageOptions {
  output: string
  /** From the disk layout (the EFI-SYSTEM partition's planned size). */
  sizeBytes: number
  seed: string
  epoch: number
  /** e.g. {'EFI/BOOT/BOOTX64.EFI': {hostPath: …}, 'loader/loader.conf': {content: …}} */
  files: Record<string, ImageFile>
  reporter?: Reporter
}

/** The EFI system partition: FAT (FAT32 at the layout's 1 GiB), label EFI-SYSTEM, volume id from the inputs. */
export function makeEspImage(o: EspImageOptions): Promise<ImageResult & {files: number}> {
  return makeVfat({...o, label: 'EFI-SYSTEM', volumeId: derivedVolumeId(o.seed, 'esp')})
}
