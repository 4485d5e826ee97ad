import {close, constants as fsc, open, write} from 'node:fs'

/**
 * Disk writes of the unpacker, off the main thread. Creating a file costs a few system calls that mostly
 * wait on the kernel; issuing them through the thread pool while the main thread keeps parsing tar streams
 * is what makes unpacking fast. Operations on one path run in the order they were scheduled (a replacing
 * package's write waits for the replaced one's), and the number of writes and bytes in flight is bounded.
 */
export class WriteQueue {
  private readonly tails = new Map<string, Promise<void>>()
  private inFlight = 0
  private inFlightBytes = 0
  private readonly waiting: Array<() => void> = []
  private readonly all = new Set<Promise<void>>()
  private firstError: unknown

  constructor(
    private readonly maxOps = 256,
    private readonly maxBytes = 64 << 20,
  ) {}

  /** The last scheduled operation on `key` (resolved when it is done), if one is still running. */
  settled(key: string): Promise<void> | undefined {
    return this.tails.get(key)
  }

  /**
   * Run `op` after every earlier operation on `key`. Resolves once the operation is admitted (there is room
   * in flight), not when it is done; failures surface from `drain`.
   */
  async schedule(key: string, op: () => Promise<void>, bytes = 0): Promise<void> {
    while (this.inFlight > 0 && (this.inFlight >= this.maxOps || this.inFlightBytes + bytes > this.maxBytes)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
    this.throwIfFailed()
    this.inFlight++
    this.inFlightBytes += bytes
    const prev = this.tails.get(key)
    const run = (prev ? prev.then(op) : op()).catch((err: unknown) => {
      this.firstError ??= err
    })
    const tracked = run.finally(() => {
      this.inFlight--
      this.inFlightBytes -= bytes
      if (this.tails.get(key) === tracked) this.tails.delete(key)
      this.all.delete(tracked)
      this.waiting.shift()?.()
    })
    this.tails.set(key, tracked)
    this.all.add(tracked)
  }

  /**
   * Wait for earlier operations on `key`, then hold the key until the returned release is called: for
   * writes the caller streams itself (large files).
   */
  async exclusive(key: string): Promise<() => void> {
    const prev = this.tails.get(key)
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const tracked: Promise<void> = (prev ? prev.then(() => held) : held).finally(() => {
      if (this.tails.get(key) === tracked) this.tails.delete(key)
      this.all.delete(tracked)
    })
    this.tails.set(key, tracked)
    this.all.add(tracked)
    if (prev) await prev
    if (this.firstError !== undefined) {
      release()
      throw this.firstError
    }
    return release
  }

  /** Wait for everything scheduled; rethrow the first failure. */
  async drain(): Promise<void> {
    while (this.all.size > 0) await Promise.all([...this.all])
    this.throwIfFailed()
  }

  private throwIfFailed(): void {
    if (this.firstError !== undefined) throw this.firstError
  }
}

const CREATE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW

/**
 * Create a new file holding `data`. Plain callbacks rather than fs/promises: three thread-pool requests
 * without a FileHandle object per file, which matters across tens of thousands of small files.
 */
export function createFile(path: string, data: Buffer, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    open(path, CREATE_FLAGS, mode, (err, fd) => {
      if (err) return reject(err)
      const finish = (writeErr: Error | null) => close(fd, (closeErr) => {
        const failure = writeErr ?? closeErr
        if (failure) reject(failure)
        else resolve()
      })
      if (data.length === 0) return finish(null)
      const writeFrom = (offset: number): void => {
        write(fd, data, offset, data.length - offset, null, (werr, n) => {
          if (werr) return finish(werr)
          if (offset + n < data.length) return writeFrom(offset + n)
          finish(null)
        })
      }
      writeFrom(0)
    })
  })
}
