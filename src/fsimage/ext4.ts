import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {KeelError} from '../core/errors.js'
import {type Reporter, silentReporter} from '../core/progress.js'
import {run, toolVersion} from '../exec/run.js'
import {HOST_TOOLS} from '../exec/tools.js'
import {materializeImage} from './materialize.js'
import {type ImageResult, type ToolInvocation, writeImageAtomically} from './output.js'
import {type ImageManifest, sortedPaths} from './subtree.js'

/**
 * mke2fs's configuration, pinned: without it the host's /etc/mke2fs.conf picks the features and the same
 * inputs would give different bytes on different machines. Bookworm's defaults, minus features older kernels
 * and e2fsck cannot handle (orphan_file, metadata_csum_seed); resize_inode keeps room to grow on first boot.
 */
export const MKE2FS_CONF = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384
	reserved_ratio = 0
[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	keel = {
		inode_ratio = 16384
	}
`

export interface Ext4PlanOptions {
  output: string
  sizeBytes: number
  label: string
  uuid: string
  /** Directory-hash seed (a UUID), so htree directories hash the same way every build. */
  hashSeed: string
  epoch: number
  /** Directory to copy in (mke2fs -d); empty filesystem without. */
  source?: string
  /** Where MKE2FS_CONF was written. */
  configFile: string
}

const EXT4_BLOCK = 4096

/** mke2fs argv and environment (pure). */
export function planMke2fs(o: Ext4PlanOptions): ToolInvocation {
  if (o.sizeBytes <= 0 || o.sizeBytes % EXT4_BLOCK !== 0) throw new KeelError(`an ext4 image size must be a positive multiple of 4 KiB, not ${o.sizeBytes}`, 'input')
  if (new TextEncoder().encode(o.label).length > 16) throw new KeelError(`ext4 labels hold at most 16 bytes: '${o.label}'`, 'input')
  const args = ['-q', '-t', 'ext4', '-T', 'keel', '-L', o.label, '-U', o.uuid]
  args.push('-E', `hash_seed=${o.hashSeed},root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0,nodiscard`)
  if (o.source !== undefined) args.push('-d', o.source)
  args.push(o.output, `${o.sizeBytes / 1024}k`)
  return {tool: 'mke2fs', args, env: {MKE2FS_CONFIG: o.configFile, E2FSPROGS_FAKE_TIME: String(o.epoch), SOURCE_DATE_EPOCH: String(o.epoch)}}
}

const S_IFMT_BITS = {dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000} as const

/** A path as one debugfs argument. debugfs's parser knows double quotes but no escapes. */
export function debugfsPath(path: string): string {
  if (/["\n\r]/.test(path)) throw new KeelError(`debugfs cannot name a path with a double quote or line break: ${JSON.stringify(path)}`, 'input')
  return `"/${path}"`
}

/**
 * debugfs commands (pure) that give every entry the manifest's owner, mode and times, after mke2fs -d
 * copied private, build-user-owned files: rootless there is no other way to set owners, and the copies'
 * change times are the build's wall clock. Device nodes and fifos, which cannot exist on disk without root,
 * are created here first.
 */
export function debugfsCommands(manifest: ImageManifest, epoch: number): string {
  const lines: string[] = []
  for (const path of sortedPaths(manifest)) {
    const m = manifest.get(path)!
    if (m.type === 'fifo' || m.type === 'char' || m.type === 'block') {
      const slash = path.lastIndexOf('/')
      const name = path.slice(slash + 1)
      if (/["\n\r]/.test(name)) throw new KeelError(`debugfs cannot name a path with a double quote or line break: ${JSON.stringify(path)}`, 'input')
      lines.push(`cd ${debugfsPath(slash < 0 ? '' : path.slice(0, slash))}`)
      lines.push(m.type === 'fifo' ? `mknod "${name}" p` : `mknod "${name}" ${m.type === 'char' ? 'c' : 'b'} ${m.devMajor ?? 0} ${m.devMinor ?? 0}`)
      lines.push('cd /')
    }
    const p = debugfsPath(path)
    const mode = S_IFMT_BITS[m.type] | (m.mode & 0o7777)
    lines.push(`set_inode_field ${p} mode 0${mode.toString(8)}`)
    lines.push(`set_inode_field ${p} uid ${m.uid}`)
    lines.push(`set_inode_field ${p} gid ${m.gid}`)
    for (const field of ['atime', 'mtime', 'ctime', 'crtime']) lines.push(`set_inode_field ${p} ${field} @${epoch}`)
  }
  return `${lines.join('\n')}\n`
}

export interface MakeExt4Options {
  output: string
  sizeBytes: number
  label: string
  uuid: string
  hashSeed: string
  epoch: number
  /** Contents: the staging directory the manifest's `treePath`s are relative to, and the manifest. */
  content?: {stagingRoot: string; manifest: ImageManifest}
  reporter?: Reporter
}

/** An ext4 image from a manifest, rootless: private copy → mke2fs -d → debugfs for owners, modes, times. */
export async function makeExt4(o: MakeExt4Options): Promise<ImageResult & {entries: number}> {
  const started = performance.now()
  const reporter = o.reporter ?? silentReporter
  const tools: Record<string, string> = {}
  mkdirSync(dirname(resolve(o.output)), {recursive: true})
  const work = mkdtempSync(join(dirname(resolve(o.output)), '.keel-ext4-'))
  try {
    const configFile = join(work, 'mke2fs.conf')
    writeFileSync(configFile, MKE2FS_CONF)
    let source: string | undefined
    if (o.content) {
      reporter.status(`${o.label}: copying ${o.content.manifest.size} entries`)
      source = join(work, 'root')
      materializeImage(o.content.stagingRoot, o.content.manifest, source, o.epoch)
    }
    const written = await writeImageAtomically(o.output, async (tmp) => {
      reporter.status(`${o.label}: mke2fs`)
      const inv = planMke2fs({...o, output: tmp, source, configFile})
      await run(inv.tool, inv.args, {env: inv.env})
      tools.mke2fs = await toolVersion('mke2fs', HOST_TOOLS.mke2fs.versionArgs)
      if (o.content) {
        reporter.status(`${o.label}: owners, modes and times from the manifest`)
        const commandFile = join(work, 'debugfs.cmds')
        writeFileSync(commandFile, debugfsCommands(o.content.manifest, o.epoch))
        const r = await run('debugfs', ['-w', '-f', commandFile, tmp], {env: {E2FSPROGS_FAKE_TIME: String(o.epoch)}})
        // debugfs reports failed commands on stderr but still exits 0: any complaint is a failure here.
        const complaints = r.stderr.split('\n').filter((l) => l.trim() && !/^debugfs \d/.test(l) && !/^Allocated inode/.test(l))
        if (complaints.length) throw new KeelError(`debugfs could not apply the manifest to ${o.label}:\n  ${complaints.slice(0, 10).join('\n  ')}`, 'toolFailed')
        tools.debugfs = await toolVersion('debugfs', HOST_TOOLS.debugfs.versionArgs)
      }
    })
    return {
      path: resolve(o.output),
      filesystem: 'ext4',
      label: o.label,
      uuid: o.uuid,
      size: written.size,
      sha256: written.sha256,
      tools,
      durationMs: Math.round(performance.now() - started),
      entries: o.content?.manifest.size ?? 0,
    }
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}
