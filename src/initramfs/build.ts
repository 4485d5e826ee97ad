import {appendFileSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {dirname, join, resolve as resolvePath} from 'node:path'
import {KeelError} from '../core/errors.js'
import {sha256File} from '../core/hashing.js'
import {silentReporter} from '../core/progress.js'
import {run} from '../exec/run.js'
import type {PackageCache} from '../packages/cache.js'
import type {Lockfile} from '../packages/lock.js'
import type {Recipe} from '../recipe/types.js'
import {quietSteps, type StepRunner, timedSteps} from '../core/steps.js'
import {buildRootfs} from '../rootfs/build.js'
import {depmodFixup} from '../rootfs/fixups/depmod.js'
import type {RootTree} from '../rootfs/tree.js'
import {writeCpioToFd} from './cpio.js'
import {LIVE_MODULES} from './live.js'
import {DEFAULT_INITRD_MODULES, INITRD_MODULES_LOADED_AT_START, type InitrdOp, planInitrd, selectModules} from './plan.js'

export interface InitrdBuildOptions {
  /** The initrd's own recipe (recipes/initrd.yaml) and its lock. */
  recipe: Recipe
  lock: Lockfile
  cache: PackageCache
  offline?: boolean
  /** The image's kernel module tree on the host (…/usr/lib/modules/<kver>) and its version. */
  kernel: {modulesDir: string; version: string}
  /** Module names to include and load (default DEFAULT_INITRD_MODULES). */
  modules?: readonly string[]
  /** Module names to include but load only on demand (default, when `modules` is not given: LIVE_MODULES — live boots modprobe loop). */
  onDemandModules?: readonly string[]
  /** Output: a compressed newc cpio (INITRD_COMPRESSIONS). */
  out: string
  sourceDateEpoch: number
  /** Default DEFAULT_INITRD_COMPRESSION. */
  compression?: InitrdCompression
}

/**
 * How the cpio is compressed, as the kernel can unpack it (Debian's cloud kernel: RD_LZ4, RD_ZSTD, RD_XZ,
 * RD_GZIP). Both are single-threaded, so the bytes do not depend on the build machine's cores.
 */
export const INITRD_COMPRESSIONS = {
  // The kernel unpacks the initrd on every boot before anything else runs: lz4 decompresses several times
  // faster than zstd. Measured here under TCG (load 3-4): kernel start to the initrd's systemd 8.5 s (zstd,
  // 24 MB) → 6.6 s (lz4, 34 MB); the bigger file costs OVMF less than that to read from the ESP.
  // The legacy frame has no end mark: the kernel's unlz4 reads chunks until its input ends, or (since Linux
  // 5.14's "correctly handle zero-padding around initrds") until a zero chunk size. An archive appended after it
  // (the baked Ignition config as a second initrd, the live archive) would be read as another chunk, so the
  // file ends with zero bytes, up to a 4-byte boundary, where the next archive may start.
  lz4: {tool: 'lz4', args: (input: string, output: string): string[] => ['-q', '-l', '-9', '-f', input, output], zeroTrailer: true, note: 'legacy frame (-l): the only lz4 format the kernel unpacks'},
  zstd: {tool: 'zstd', args: (input: string, output: string): string[] => ['-q', '-T1', '-9', '--no-progress', input, '-o', output], zeroTrailer: false, note: 'a third smaller, slower to unpack'},
} as const
export type InitrdCompression = keyof typeof INITRD_COMPRESSIONS
export const DEFAULT_INITRD_COMPRESSION: InitrdCompression = 'lz4'

export interface InitrdBuildResult {
  path: string
  sha256: string
  size: number
  uncompressedSize: number
  entries: number
  packages: number
  modules: {files: string[]; load: string[]; builtin: string[]}
  timings: Record<string, number>
}

/** Apply the planned operations to the tree (the thin I/O half of planInitrd). */
export function applyInitrdOps(tree: RootTree, ops: readonly InitrdOp[]): void {
  const owner = 'keel:initrd'
  for (const o of ops) {
    switch (o.op) {
      case 'write':
        tree.writeFile(o.path, o.content, {mode: o.mode, owner})
        break
      case 'symlink':
        tree.remove(o.path)
        tree.symlink(o.path, o.target, {owner})
        break
      case 'copy': {
        if (tree.get(o.from)?.type !== 'file') throw new KeelError(`the initrd recipe did not provide /${o.from}`, 'input', 'recipes/initrd.yaml must install the ignition package')
        tree.writeFile(o.path, readFileSync(tree.hostPath(o.from)), {mode: o.mode, owner})
        break
      }
      case 'remove':
        tree.remove(o.path)
        break
    }
  }
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * recipe → rootfs (the rootfs stage itself: fetch, unpack, fix-ups) → initrd additions and the image kernel's
 * modules → deterministic cpio → lz4 (or zstd). Staged beside the output; the output appears only when complete.
 */
export async function buildInitrd(opts: InitrdBuildOptions, step: StepRunner = quietSteps): Promise<InitrdBuildResult> {
  const out = resolvePath(opts.out)
  await mkdir(dirname(out), {recursive: true})
  const staging = mkdtempSync(join(dirname(out), '.keel-initrd-'))
  const {timed, timings} = timedSteps(step)
  try {
    const cpioPath = join(staging, 'initrd.cpio')
    let modules: InitrdBuildResult['modules'] | undefined
    let written: {entries: number; size: number} | undefined
    const rootfs = await buildRootfs(
      {
        recipe: opts.recipe,
        lock: opts.lock,
        cache: opts.cache,
        offline: opts.offline,
        sourceDateEpoch: opts.sourceDateEpoch,
        onTree: async (tree) => {
          modules = await timed('modules', `Adding kernel ${opts.kernel.version} modules and Ignition`, () => completeInitrdTree(tree, opts))
          written = await timed('cpio', 'Writing the initrd archive', async () => {
            const fd = openSync(cpioPath, 'w')
            try {
              return writeCpioToFd(tree, fd, opts.sourceDateEpoch)
            } finally {
              closeSync(fd)
            }
          })
        },
      },
      step,
    )
    Object.assign(timings, rootfs.timings)
    const compressed = join(staging, 'initrd.img')
    const compression = INITRD_COMPRESSIONS[opts.compression ?? DEFAULT_INITRD_COMPRESSION]
    await timed('compress', `Compressing the initrd (${compression.tool})`, () => run(compression.tool, compression.args(cpioPath, compressed)))
    if (compression.zeroTrailer) {
      const length = statSync(compressed).size
      appendFileSync(compressed, Buffer.alloc(4 + ((4 - (length % 4)) % 4)))
    }
    const {sha256, size} = await sha256File(compressed)
    renameSync(compressed, out)
    return {path: out, sha256, size, uncompressedSize: written!.size, entries: written!.entries, packages: rootfs.packages, modules: modules!, timings}
  } finally {
    rmSync(staging, {recursive: true, force: true})
  }
}

/** Copy the kernel's modules in, apply the initrd plan, rebuild modules.dep. */
async function completeInitrdTree(tree: RootTree, opts: InitrdBuildOptions): Promise<InitrdBuildResult['modules']> {
  const src = opts.kernel.modulesDir
  // A caller naming its own module list gets exactly that list.
  const onDemand: readonly string[] = opts.onDemandModules ?? (opts.modules ? [] : LIVE_MODULES)
  const requested = [...(opts.modules ?? DEFAULT_INITRD_MODULES), ...onDemand]
  const all = selectModules(requested, readOptional(join(src, 'modules.dep')), readOptional(join(src, 'modules.builtin')))
  // Without an explicit list, the default modules ride along and load when needed (INITRD_MODULES_LOADED_AT_START).
  const atStart = (m: string): boolean => opts.modules !== undefined || INITRD_MODULES_LOADED_AT_START.includes(m)
  const selection = {...all, load: all.load.filter((m) => !onDemand.includes(m) && atStart(m))}
  const dest = `usr/lib/modules/${opts.kernel.version}`
  for (const file of selection.files) {
    tree.mkdirp(join(dest, dirname(file)), {owner: 'keel:initrd'})
    copyFileSync(join(src, file), tree.hostPath(join(dest, file)))
    tree.record({path: join(dest, file), type: 'file', mode: 0o644, uid: 0, gid: 0, owner: 'keel:initrd'})
  }
  for (const meta of ['modules.builtin', 'modules.builtin.modinfo']) {
    const text = readOptional(join(src, meta))
    if (text) tree.writeFile(join(dest, meta), text, {owner: 'keel:initrd'})
  }
  // depmod -b needs modules.order to recognise a kernel tree; listing what is present keeps it honest.
  tree.writeFile(join(dest, 'modules.order'), selection.files.map((f) => `${f}\n`).join(''), {owner: 'keel:initrd'})
  const {image} = opts.recipe
  const generators = [...tree.entries.keys()].filter((p) => p.startsWith('usr/lib/systemd/system-generators/')).map((p) => p.slice(p.lastIndexOf('/') + 1))
  applyInitrdOps(tree, planInitrd({osRelease: {id: image.id, name: image.name, version: image.version}, loadModules: selection.load, generators}))
  await depmodFixup.run({tree, recipe: opts.recipe, packages: [], sourceDateEpoch: opts.sourceDateEpoch, reporter: silentReporter})
  return selection
}
