import {createHash, randomBytes} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdir, open, readdir, readFile, rename, rm, stat} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {fsyncDir, writeFileAtomic} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'

/** `$XDG_CACHE_HOME/keel`, or `~/.cache/keel` when XDG_CACHE_HOME is unset or not absolute (as the XDG spec says). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  const base = xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache')
  return join(base, 'keel')
}

export interface ExpectedDigest {
  sha256: string
  size?: number
}

const SHA256_HEX = /^[0-9a-f]{64}$/
/** Temp files carry the writer's pid so a later run can tell an abandoned one (dead pid) from a live writer. */
const TEMP_PREFIX = '.tmp-'

function tempName(): string {
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`
}

function pidOfTemp(name: string): number | undefined {
  const m = /^\.tmp-(\d+)-/.exec(name)
  return m ? Number(m[1]) : undefined
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Content-addressed store for downloaded files (.deb packages, compressed Packages indexes): an object lives at
 * `sha256/<first two hex>/<hex>` and is re-hashed on every read, so a corrupt or truncated entry is never
 * used — it is deleted and the caller fetches it again. Writers stream into a temp name beside the final path
 * and rename only after the digest matched, so readers never see a partial object and two writers of the same
 * object cannot hurt each other (both renames install identical bytes).
 *
 * Signed InRelease files are not content-addressed (their digest is not known in advance); they are kept by
 * URL under `inrelease/` and verified with gpgv by the caller on every use.
 */
export class PackageCache {
  constructor(readonly dir: string = defaultCacheDir()) {}

  objectPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new KeelError(`not a sha256 digest: '${sha256}'`, 'internal')
    return join(this.dir, 'sha256', sha256.slice(0, 2), sha256)
  }

  /** Path of a verified object, or null when it is absent or was corrupt (a corrupt entry is removed). */
  async get(sha256: string, size?: number): Promise<string | null> {
    const path = this.objectPath(sha256)
    let actualSize: number
    try {
      actualSize = (await stat(path)).size
    } catch {
      return null
    }
    if (size !== undefined && actualSize !== size) {
      await rm(path, {force: true})
      return null
    }
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) hash.update(chunk as Buffer)
    if (hash.digest('hex') !== sha256) {
      await rm(path, {force: true})
      return null
    }
    return path
  }

  /**
   * Store `data` under its expected digest. The bytes are hashed while they are written; on a digest or size
   * mismatch nothing is installed and a KeelError('integrity') names `what` (usually the URL). If the data
   * source fails midway its error propagates and the temp file is removed.
   */
  async put(data: AsyncIterable<Uint8Array> | Uint8Array, expected: ExpectedDigest, what = 'object'): Promise<string> {
    const path = this.objectPath(expected.sha256)
    const dir = join(this.dir, 'sha256', expected.sha256.slice(0, 2))
    await mkdir(dir, {recursive: true})
    const tmp = join(dir, tempName())
    const hash = createHash('sha256')
    let size = 0
    const fh = await open(tmp, 'wx', 0o644)
    let installed = false
    try {
      try {
        const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = data instanceof Uint8Array ? [data] : data
        for await (const chunk of chunks) {
          hash.update(chunk)
          size += chunk.length
          if (expected.size !== undefined && size > expected.size) break
          await fh.write(chunk)
        }
        await fh.sync()
      } finally {
        await fh.close()
      }
      const digest = hash.digest('hex')
      if (expected.size !== undefined && size !== expected.size) {
        throw new KeelError(
          `${what}: size mismatch (expected ${expected.size} bytes, got ${size}${size > expected.size ? '+' : ''})`,
          'integrity',
        )
      }
      if (digest !== expected.sha256) {
        throw new KeelError(`${what}: sha256 mismatch (expected ${expected.sha256}, got ${digest})`, 'integrity')
      }
      await rename(tmp, path)
      installed = true
      await fsyncDir(dir)
      return path
    } finally {
      if (!installed) await rm(tmp, {force: true})
    }
  }

  /**
   * Remove temp files left by writers that died (SIGKILL, power loss) mid-write. Temp files of live
   * processes are left alone: they may be concurrent writers.
   */
  async removeAbandonedTemps(): Promise<number> {
    let removed = 0
    let prefixes: string[]
    try {
      prefixes = await readdir(join(this.dir, 'sha256'))
    } catch {
      return 0
    }
    const dirs = [...prefixes.map((p) => join(this.dir, 'sha256', p)), join(this.dir, 'inrelease')]
    for (const dir of dirs) {
      let names: string[]
      try {
        names = await readdir(dir)
      } catch {
        continue
      }
      for (const name of names) {
        const pid = pidOfTemp(name)
        const atomicTemp = /^\..*\.tmp-(\d+)-/.exec(name)
        const owner = pid ?? (atomicTemp ? Number(atomicTemp[1]) : undefined)
        if (owner !== undefined && (owner === process.pid ? false : !processAlive(owner))) {
          await rm(join(dir, name), {force: true})
          removed++
        }
      }
    }
    return removed
  }

  inReleasePath(url: string): string {
    // apt-style flattening keeps the name readable; the hash suffix keeps distinct URLs distinct.
    const readable = url.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_')
    const digest = createHash('sha256').update(url).digest('hex').slice(0, 12)
    return join(this.dir, 'inrelease', `${readable}-${digest}`)
  }

  /** The raw (unverified!) InRelease cached for `url`; the caller must verify it before use. */
  async readInRelease(url: string): Promise<Buffer | null> {
    try {
      return await readFile(this.inReleasePath(url))
    } catch {
      return null
    }
  }

  async writeInRelease(url: string, data: Uint8Array): Promise<void> {
    await writeFileAtomic(this.inReleasePath(url), data)
  }
}
