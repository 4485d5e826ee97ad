import {createReadStream} from 'node:fs'
import {realpath, stat} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join, sep} from 'node:path'

/**
 * A read-only static server for a release tree, for tests and for booted images on the host: GET and HEAD
 * only, files only (no listings), symlinks followed only while they stay inside the tree.
 */

const TYPES: Record<string, string> = {json: 'application/json', txt: 'text/plain; charset=utf-8', asc: 'application/pgp-keys', sig: 'application/pgp-signature'}

function contentType(path: string): string {
  if (path.endsWith('/SHA256SUMS')) return 'text/plain; charset=utf-8'
  return TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream'
}

/** Map a request path to a file inside `root`, or undefined when it would leave the tree or is not a file. */
export async function resolveRequest(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!)
  } catch {
    return undefined
  }
  const parts = decoded.split('/').filter((p) => p !== '')
  if (parts.some((p) => p === '..' || p === '.' || p.includes('\0') || p.includes('\\'))) return undefined
  // Lock file and staging names are internal; hidden names are never served.
  if (parts.some((p) => p.startsWith('.'))) return undefined
  const realRoot = await realpath(root)
  const real = await realpath(join(realRoot, ...parts)).catch(() => undefined)
  if (!real || (real !== realRoot && !real.startsWith(realRoot + sep))) return undefined
  const st = await stat(real).catch(() => undefined)
  return st?.isFile() ? real : undefined
}

export interface RunningServer {
  url: string
  server: Server
  close(): Promise<void>
}

export async function serveTree(root: string, port = 0, host = '127.0.0.1'): Promise<RunningServer> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, {allow: 'GET, HEAD'}).end()
        return
      }
      const file = await resolveRequest(root, req.url ?? '/')
      if (!file) {
        res.writeHead(404, {'content-type': 'text/plain'}).end('not found\n')
        return
      }
      const st = await stat(file)
      res.writeHead(200, {'content-type': contentType(file), 'content-length': st.size, 'cache-control': 'no-cache'})
      if (req.method === 'HEAD') {
        res.end()
        return
      }
      createReadStream(file).on('error', () => res.destroy()).pipe(res)
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const {port: actual} = server.address() as AddressInfo
  return {
    url: `http://${host}:${actual}/`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
