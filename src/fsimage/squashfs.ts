import {rmSync, writeFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import {run, toolVersion} from '../exec/run.js'
import {HOST_TOOLS} from '../exec/tools.js'
import {type ImageResult, type ToolInvocation, writeImageAtomically} from './output.js'
import {type Compression, formatCompression} from './compression.js'
import {listDirectory} from './materialize.js'
import {assertSamePaths, type ImageManifest, SPECIAL_TYPES, sortedPaths} from './subtree.js'

export interface SquashfsPlanOptions {
  source: string
  output: string
  /** File of pseudo definitions (see `squashfsPseudoDefinitions`). */
  pseudoFile: string
  compression: Compression
  epoch: number
  root: {mode: number; uid: number; gid: number}
}

/**
 * mksquashfs argv (pure): owners and modes come from the pseudo file, no xattrs, every time the epoch.
 * SOURCE_DATE_EPOCH is removed from the environment: squashfs-tools 4.5 only clamps newer times to it (older
 * source mtimes stay), and refuses -all-time/-mkfs-time while it is set.
 */
export function planSquashfs(o: SquashfsPlanOptions): ToolInvocation {
  const args = [o.source, o.output, '-noappend', '-comp', o.compression.algorithm]
  if (o.compression.level !== undefined) args.push('-Xcompression-level', String(o.compression.level))
  args.push(
    '-reproducible',
    '-all-time', String(o.epoch),
    '-mkfs-time', String(o.epoch),
    '-no-xattrs',
    '-root-mode', o.root.mode.toString(8),
    '-root-uid', String(o.root.uid),
    '-root-gid', String(o.root.gid),
    '-pf', o.pseudoFile,
    '-quiet', '-no-progress',
  )
  return {tool: 'mksquashfs', args, env: {SOURCE_DATE_EPOCH: undefined}}
}

/**
 * A pseudo file name: ASCII punctuation and spaces backslash-escaped (mksquashfs reads `\x` as a literal x),
 * other bytes as they are. A newline cannot be expressed.
 */
export function escapePseudoPath(path: string): string {
  if (/[\n\r]/.test(path)) throw new KeelError(`mksquashfs pseudo files cannot name a path with a line break: ${JSON.stringify(path)}`, 'input')
  return path.replace(/[^A-Za-z0-9._+@/\u0080-\uffff-]/g, (c) => `\\${c}`)
}

/** One "path m mode uid gid" line per entry but the root (set with -root-*), in byte order (pure). */
export function squashfsPseudoDefinitions(manifest: ImageManifest): string {
  const lines: string[] = []
  for (const path of sortedPaths(manifest)) {
    if (path === '') continue
    const m = manifest.get(path)!
    if (SPECIAL_TYPES.has(m.type)) throw new KeelError(`/usr image: device nodes and fifos are not supported: /${path}`, 'input')
    lines.push(`${escapePseudoPath(path)} m ${m.mode.toString(8).padStart(4, '0')} ${m.uid} ${m.gid}`)
  }
  return lines.length ? `${lines.join('\n')}\n` : ''
}

export interface MakeSquashfsOptions {
  source: string
  manifest: ImageManifest
  output: string
  compression: Compression
  epoch: number
  reporter?: Reporter
}

export async function makeSquashfs(o: MakeSquashfsOptions): Promise<ImageResult> {
  const started = performance.now()
  const reporter = o.reporter ?? silentReporter
  const root = o.manifest.get('')
  if (!root) throw new KeelError('the image manifest has no root entry', 'internal')
  // The pseudo file can only fix owners of paths it names: anything else on disk would keep the build user's.
  assertSamePaths(`the staging directory ${o.source}`, listDirectory(o.source), o.manifest)
  let version = 'unknown'
  const written = await writeImageAtomically(o.output, async (tmp) => {
    const pseudoFile = `${tmp}.pseudo`
    writeFileSync(pseudoFile, squashfsPseudoDefinitions(o.manifest))
    try {
      reporter.status(`mksquashfs ${formatCompression(o.compression)}`)
      const inv = planSquashfs({source: o.source, output: tmp, pseudoFile, compression: o.compression, epoch: o.epoch, root})
      await run(inv.tool, inv.args, {env: inv.env})
      version = await toolVersion('mksquashfs', HOST_TOOLS.mksquashfs.versionArgs)
    } finally {
      rmSync(pseudoFile, {force: true})
    }
  })
  return {
    path: resolve(o.output),
    filesystem: 'squashfs',
    compression: formatCompression(o.compression),
    size: written.size,
    sha256: written.sha256,
    tools: {mksquashfs: version},
    durationMs: Math.round(performance.now() - started),
  }
}
