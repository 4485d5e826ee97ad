import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {ReadableStream} from 'node:stream/web'
import {KeelError} from '../core/errors.js'
import {fileWebStream} from './sign.js'

/** Where a consumer reads a release tree from: a directory or an http(s) base URL. */
export interface TreeSource {
  /** For messages: the directory or the base URL. */
  readonly location: string
  /** The file's bytes, or undefined when it does not exist. Only for small metadata files. */
  read(path: string): Promise<Uint8Array | undefined>
  /** The file as a stream, or undefined when it does not exist (artifacts: never held in memory whole). */
  stream(path: string): Promise<ReadableStream<Uint8Array> | undefined>
}

function checkPath(path: string): void {
  if (path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '')) {
    throw new KeelError(`refusing path '${path}' outside the release tree`, 'integrity')
  }
}

export function dirSource(root: string): TreeSource {
  const full = (path: string) => {
    checkPath(path)
    return join(root, path)
  }
  return {
    location: root,
    async read(path) {
      try {
        return await readFile(full(path))
      } catch (err) {
        if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined
        throw err
      }
    },
    async stream(path) {
      const p = full(path)
      const isFile = await stat(p).then((st) => st.isFile(), () => false)
      return isFile ? fileWebStream(p) : undefined
    },
  }
}

export function httpSource(baseUrl: string): TreeSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`
  const get = async (path: string): Promise<Response | undefined> => {
    checkPath(path)
    const url = new URL(path.split('/').map(encodeURIComponent).join('/'), base)
    let res: Response
    try {
      res = await fetch(url)
    } catch (err) {
      throw new KeelError(`cannot reach ${url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, 'network')
    }
    if (res.status === 404) {
      await res.body?.cancel()
      return undefined
    }
    if (!res.ok) {
      await res.body?.cancel()
      throw new KeelError(`${url}: HTTP ${res.status}`, 'network')
    }
    return res
  }
  return {
    location: base,
    async read(path) {
      const res = await get(path)
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined
    },
    async stream(path) {
      const res = await get(path)
      return res?.body ? (res.body as unknown as ReadableStream<Uint8Array>) : undefined
    },
  }
}

export function sourceFor(location: string): TreeSource {
  return /^https?:\/\//.test(location) ? httpSource(location) : dirSource(location)
}
