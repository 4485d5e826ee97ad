import {ProxyAgent, type Dispatcher} from 'undici'
import {KeelError} from '../core/errors.js'
import {formatBytes, type Reporter} from '../core/progress.js'
import type {PackageCache} from './cache.js'
import {hostProxyConfig, proxyForUrl, type ProxyConfig} from './apt-config.js'
import type {LockedPackage} from './types.js'

/**
 * HTTP downloads into the content-addressed cache: global fetch (through a proxy when apt or the environment
 * names one), timeouts on connecting and on a stalled body, retries with exponential backoff for network
 * errors and 5xx only, and bytes verified against the signed size and sha256 before they are installed.
 */

export interface HttpOptions {
  signal?: AbortSignal
  /** Attempts in all (default 4). */
  attempts?: number
  /** First backoff delay; doubled after each failed attempt (default 500 ms). */
  retryDelayMs?: number
  /** Time allowed until response headers arrive (default 30 s). */
  headersTimeoutMs?: number
  /** Time allowed without receiving a byte of the body (default 60 s). */
  idleTimeoutMs?: number
  /** Proxy settings; default: the host's (apt.conf, then http_proxy/https_proxy/no_proxy). */
  proxy?: ProxyConfig
}

/** A failure worth retrying (connection refused/reset, timeout, 5xx). */
class TransientError extends Error {}

const agents = new Map<string, ProxyAgent>()
let hostProxy: ProxyConfig | undefined

async function dispatcherFor(url: string, proxy?: ProxyConfig): Promise<Dispatcher | undefined> {
  const config = proxy ?? (hostProxy ??= await hostProxyConfig())
  const proxyUrl = proxyForUrl(url, config)
  if (!proxyUrl) return undefined
  let agent = agents.get(proxyUrl)
  if (!agent) {
    agent = new ProxyAgent(proxyUrl)
    agents.set(proxyUrl, agent)
  }
  return agent
}

function describeCause(err: unknown): string {
  const e = err as {cause?: {code?: string; message?: string}; code?: string; message?: string}
  const cause = e?.cause
  if (cause?.code) return cause.message && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.code
  if (cause?.message) return cause.message
  return e?.code ?? e?.message ?? String(err)
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/**
 * One GET with retries; `consume` reads the body (via the idle-timed iterator it is given). Errors thrown by
 * `consume` that are KeelErrors (e.g. a checksum mismatch) are not retried: the mirror answered, wrongly.
 * `onRetry` lets the caller undo progress counted for a failed attempt.
 */
export async function httpGet<T>(
  url: string,
  consume: (body: AsyncIterable<Uint8Array>, response: Response) => Promise<T>,
  opts: HttpOptions & {onRetry?: () => void} = {},
): Promise<T> {
  const attempts = opts.attempts ?? 4
  let delay = opts.retryDelayMs ?? 500
  let lastReason = ''
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      opts.onRetry?.()
      await sleep(delay, opts.signal)
      delay *= 2
    }
    try {
      return await attemptGet(url, consume, opts)
    } catch (err) {
      if (!(err instanceof TransientError)) throw err
      lastReason = err.message
    }
  }
  throw new KeelError(`cannot fetch ${url}: ${lastReason}`, 'network', `tried ${attempts} times; check the mirror and any proxy settings`)
}

async function attemptGet<T>(
  url: string,
  consume: (body: AsyncIterable<Uint8Array>, response: Response) => Promise<T>,
  opts: HttpOptions,
): Promise<T> {
  const controller = new AbortController()
  const outer = opts.signal
  const onOuterAbort = (): void => controller.abort(outer!.reason)
  if (outer?.aborted) throw outer.reason
  outer?.addEventListener('abort', onOuterAbort, {once: true})
  let timedOut = false
  let timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, opts.headersTimeoutMs ?? 30_000)
  const rearm = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, opts.idleTimeoutMs ?? 60_000)
  }
  try {
    let response: Response
    try {
      const dispatcher = await dispatcherFor(url, opts.proxy)
      const init: RequestInit & {dispatcher?: Dispatcher} = {signal: controller.signal, redirect: 'follow'}
      if (dispatcher) init.dispatcher = dispatcher
      response = await fetch(url, init)
    } catch (err) {
      if (outer?.aborted) throw outer.reason
      throw new TransientError(timedOut ? 'timed out waiting for a response' : describeCause(err))
    }
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => {})
      throw new TransientError(`HTTP ${response.status} ${response.statusText}`)
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => {})
      throw new HttpStatusError(url, response.status, response.statusText)
    }
    rearm()
    const body = response.body
    async function* timed(): AsyncIterable<Uint8Array> {
      try {
        for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
          rearm()
          yield chunk
        }
      } catch (err) {
        if (outer?.aborted) throw outer.reason
        throw new TransientError(timedOut ? 'the download stalled (no data received)' : `connection lost: ${describeCause(err)}`)
      }
    }
    return await consume(timed(), response)
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onOuterAbort)
  }
}

/** The mirror answered with a non-success, non-5xx status (404...). Not retried. */
export class HttpStatusError extends KeelError {
  constructor(
    readonly url: string,
    readonly status: number,
    statusText: string,
  ) {
    super(`${url}: HTTP ${status} ${statusText}`.trimEnd(), 'network')
    this.name = 'HttpStatusError'
  }
}

/** A small file (InRelease) fetched whole into memory. */
export async function fetchBytes(url: string, opts: HttpOptions = {}): Promise<Buffer> {
  return httpGet(
    url,
    async (body) => {
      const chunks: Uint8Array[] = []
      for await (const c of body) chunks.push(c)
      return Buffer.concat(chunks)
    },
    opts,
  )
}

/** Download `url` into the cache, verified against `expected`; returns the cache path. */
export async function downloadToCache(
  url: string,
  expected: {sha256: string; size: number},
  cache: PackageCache,
  opts: HttpOptions & {onBytes?: (delta: number) => void} = {},
): Promise<string> {
  let counted = 0
  return httpGet(
    url,
    async (body) => {
      counted = 0
      async function* counting(): AsyncIterable<Uint8Array> {
        for await (const c of body) {
          counted += c.length
          opts.onBytes?.(c.length)
          yield c
        }
      }
      return cache.put(counting(), expected, url)
    },
    {
      ...opts,
      onRetry: () => {
        opts.onBytes?.(-counted)
        counted = 0
      },
    },
  )
}

export interface FetchPackagesOptions extends HttpOptions {
  cache: PackageCache
  offline?: boolean
  /** Parallel connections (default 4). */
  concurrency?: number
  reporter?: Reporter
}

/**
 * Make every package available as a verified file in the cache: hits are re-verified, misses downloaded
 * in parallel. Returns package name → cache path. On failure the other downloads are cancelled and the
 * cache holds only complete, verified objects.
 */
export async function fetchPackages(pkgs: readonly LockedPackage[], opts: FetchPackagesOptions): Promise<Map<string, string>> {
  const {cache, reporter} = opts
  await cache.removeAbandonedTemps()
  const result = new Map<string, string>()
  const missing: LockedPackage[] = []
  for (const pkg of pkgs) {
    const hit = await cache.get(pkg.sha256, pkg.size)
    if (hit) result.set(pkg.name, hit)
    else missing.push(pkg)
  }
  if (missing.length === 0) return result
  if (opts.offline) {
    const names = missing.map((p) => `${p.name}=${p.version}`).sort()
    throw new KeelError(
      `--offline: ${names.length} package(s) are not in the cache (${cache.dir}): ${names.join(', ')}`,
      'network',
      'run once without --offline to fill the cache',
    )
  }

  const totalBytes = missing.reduce((n, p) => n + p.size, 0)
  const started = Date.now()
  let doneCount = pkgs.length - missing.length
  let doneBytes = 0
  let lastStatus = 0
  const status = (force = false): void => {
    const now = Date.now()
    if (!reporter || (!force && now - lastStatus < 250)) return
    lastStatus = now
    const rate = doneBytes / Math.max(0.001, (now - started) / 1000)
    reporter.status(`${doneCount}/${pkgs.length} packages, ${formatBytes(doneBytes)} / ${formatBytes(totalBytes)}, ${formatBytes(rate)}/s`)
  }

  const controller = new AbortController()
  const signal = opts.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal
  let firstError: unknown
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < missing.length && firstError === undefined) {
      const pkg = missing[next++]!
      const url = `${pkg.repository.uri}/${pkg.filename}`
      try {
        const path = await downloadToCache(url, {sha256: pkg.sha256, size: pkg.size}, cache, {
          ...opts,
          signal,
          onBytes: (delta) => {
            doneBytes += delta
            status()
          },
        })
        result.set(pkg.name, path)
        doneCount++
        status()
      } catch (caught) {
        let err = caught
        if (caught instanceof HttpStatusError && caught.status === 404) {
          err = new KeelError(`${caught.message} (${pkg.name} ${pkg.version})`, 'network', 'the mirror no longer carries this version; run keel lock to resolve again')
        }
        if (firstError === undefined) {
          firstError = err
          controller.abort(err)
        }
      }
    }
  }
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, missing.length))
  await Promise.all(Array.from({length: concurrency}, worker))
  if (firstError !== undefined) throw firstError
  status(true)
  const seconds = (Date.now() - started) / 1000
  reporter?.info(
    `fetched ${missing.length} package(s), ${formatBytes(totalBytes)} in ${seconds.toFixed(1)} s (${formatBytes(totalBytes / Math.max(seconds, 0.001))}/s)`,
  )
  return result
}
