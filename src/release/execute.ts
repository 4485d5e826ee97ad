import {constants} from 'node:fs'
import {copyFile, link, mkdir, open, readFile, rename, rm, symlink, unlink} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fsyncDir, tempPathFor} from '../core/atomic.js'
import {KeelError} from '../core/errors.js'
import type {Reporter} from '../core/progress.js'
import {type FileOp, TREE} from './model.js'

/**
 * The thin executor: applies a plan's file operations in order. Every operation is idempotent on its own
 * except `rename` of a directory, which the plan only uses on staging names it has just created.
 */

export interface ExecuteOptions {
  /** Writes a detached signature of `path` (absolute) to `signature` (absolute). */
  sign: (path: string, signature: string) => Promise<void>
  reporter?: Reporter
  /**
   * Called after each operation with its 1-based number: the kill-at-every-step test stops the run here.
   * Without it, KEEL_RELEASE_CRASH_AFTER=N makes the process SIGKILL itself after operation N (test hook).
   */
  afterOp?: (n: number, op: FileOp) => void
}

export async function applyOps(root: string, ops: readonly FileOp[], opts: ExecuteOptions): Promise<void> {
  const crashAfter = Number(process.env.KEEL_RELEASE_CRASH_AFTER ?? 0)
  const afterOp =
    opts.afterOp ??
    ((n: number) => {
      if (crashAfter > 0 && n === crashAfter) process.kill(process.pid, 'SIGKILL')
    })
  let n = 0
  for (const op of ops) {
    await applyOp(root, op, opts)
    afterOp(++n, op)
  }
}

async function applyOp(root: string, op: FileOp, opts: ExecuteOptions): Promise<void> {
  const at = (p: string) => join(root, p)
  switch (op.op) {
    case 'mkdir':
      await mkdir(at(op.path), {recursive: true})
      return
    case 'write': {
      const fh = await open(at(op.path), 'w', 0o644)
      try {
        await fh.writeFile(op.content)
        await fh.sync()
      } finally {
        await fh.close()
      }
      return
    }
    case 'place':
      opts.reporter?.status(`placing ${op.to}`)
      await placeFile(op.from, at(op.to))
      return
    case 'sign':
      opts.reporter?.status(`signing ${op.path}`)
      await opts.sign(at(op.path), at(op.signature))
      return
    case 'symlink': {
      const tmp = tempPathFor(at(op.path))
      await symlink(op.target, tmp)
      await rename(tmp, at(op.path))
      await fsyncDir(dirname(at(op.path)))
      return
    }
    case 'rename':
      // Everything staged inside reaches the disk before the name that makes it reachable.
      await fsyncPath(at(op.from))
      await rename(at(op.from), at(op.to))
      await fsyncDir(dirname(at(op.to)))
      return
    case 'remove':
      await rm(at(op.path), {recursive: true, force: true})
      return
  }
}

/**
 * Hard link when source and tree share a filesystem (build outputs are written once, via staging and rename,
 * and never rewritten in place); otherwise a copy the kernel streams (and reflinks where it can).
 */
export async function placeFile(from: string, to: string): Promise<void> {
  await rm(to, {force: true})
  try {
    await link(from, to)
    return
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err
  }
  await copyFile(from, to, constants.COPYFILE_FICLONE)
  await fsyncPath(to)
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r')
  try {
    await fh.sync()
  } catch {
    // Some filesystems refuse fsync on directories; ordering still holds for a killed process.
  } finally {
    await fh.close()
  }
}

/**
 * One publish or promote at a time per tree: an O_EXCL lock file holding the owner's pid. A lock whose
 * process is gone (a publish killed midway) is stale and taken over; a live one is waited for up to
 * `waitMs`, then refused.
 */
export async function withTreeLock<T>(root: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const path = join(root, TREE.lockFile)
  await mkdir(root, {recursive: true})
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o644)
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = await lockOwner(path)
    if (owner !== undefined && !isAlive(owner)) {
      await breakStaleLock(path, owner)
      continue
    }
    if (Date.now() >= deadline) {
      throw new KeelError(`the release tree ${root} is locked by another publish (pid ${owner ?? 'unknown'})`, 'releaseConflict', 'wait for it to finish, or raise --wait')
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  try {
    return await fn()
  } finally {
    await unlink(path).catch(() => {})
  }
}

async function lockOwner(path: string): Promise<number | undefined> {
  try {
    const text = await readFile(path, 'utf8')
    const pid = Number.parseInt(text, 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Move the stale lock aside (only one waiter's rename can succeed) and drop it if it is still the dead one's. */
async function breakStaleLock(path: string, deadPid: number): Promise<void> {
  const aside = tempPathFor(path)
  try {
    await rename(path, aside)
  } catch {
    return
  }
  const pid = await lockOwner(aside)
  if (pid === deadPid) {
    await rm(aside, {force: true})
    return
  }
  // A live publish took the lock between our read and the rename: give it back.
  await rename(aside, path).catch(() => rm(aside, {force: true}))
}
