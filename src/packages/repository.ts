import {createReadStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'
import {KeelError, ToolFailedError} from '../core/errors.js'
import {sha256Hex} from '../core/hashing.js'
import {silentReporter, type Reporter} from '../core/progress.js'
import {run, spawnFilter} from '../exec/run.js'
import type {PackageCache} from './cache.js'
import {parsePackagesStream} from './control.js'
import {downloadToCache, fetchBytes, HttpStatusError, type HttpOptions} from './download.js'
import {DEFAULT_FRESHNESS, freshnessProblem, parseRelease, type FreshnessPolicy, type Release} from './release.js'
import {hostProxyConfig} from './apt-config.js'
import type {BinaryPackage, PackageUniverse, RepositorySource} from './types.js'

/**
 * Signed repository metadata → the package universe. Trust flows one way: gpgv verifies InRelease and only
 * the text gpgv outputs is parsed; that text lists the sha256 of every Packages index; each index is
 * verified against it before it is decompressed, and its stanzas carry the sha256 of every .deb.
 */

export interface LoadUniverseOptions {
  architecture: string
  cache: PackageCache
  /** Use only the cached InRelease files and indexes (still verified). */
  offline?: boolean
  reporter?: Reporter
  /**
   * Date checks on the signed Release. Default: apt's Acquire::Check-Valid-Until / Acquire::Check-Date from
   * the host's apt configuration (both on unless set to "false"), 10 minutes tolerance for future dates.
   */
  freshness?: FreshnessPolicy
  /** Clock for the date checks (tests). */
  now?: () => number
  http?: HttpOptions
}

interface VerifiedRelease {
  source: RepositorySource
  url: string
  release: Release
  inReleaseSha256: string
}

export async function loadUniverse(sources: readonly RepositorySource[], opts: LoadUniverseOptions): Promise<PackageUniverse> {
  const reporter = opts.reporter ?? silentReporter
  const freshness = opts.freshness ?? (await hostFreshnessPolicy())
  await opts.cache.removeAbandonedTemps()
  // Settle all before reporting a failure, so no InRelease is still being written when the caller sees it.
  const settled = await Promise.allSettled(sources.map((s) => loadRelease(s, opts, freshness, reporter)))
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  const releases = settled.map((r) => (r as PromiseFulfilledResult<VerifiedRelease>).value)
  // Every index is downloaded, decompressed (xz runs as its own process) and parsed as a stream, all at
  // once: decompression of one overlaps with parsing of the others. The universe is assembled in source
  // order whatever finished first.
  const parsed = releases.map((r) => indexFiles(r, opts.architecture).map((f) => loadIndex(r, f, opts)))
  // Mark every one as handled now: they are awaited in order below, and one may fail before its turn.
  for (const t of parsed.flat()) t.catch(() => {})
  const packages: BinaryPackage[] = []
  try {
    for (const perRelease of parsed) {
      for (const index of perRelease) for (const pkg of await index) packages.push(pkg)
    }
  } finally {
    // On failure, let the other downloads finish or fail before returning: none may write after we report.
    await Promise.allSettled(parsed.flat())
  }
  return {
    architecture: opts.architecture,
    packages,
    releases: releases.map((r) => ({
      uri: r.source.uri,
      suite: r.source.suite,
      date: r.release.date ?? '',
      inReleaseSha256: r.inReleaseSha256,
    })),
  }
}

/** apt's own date checks from the host configuration, so keel agrees with apt on this machine. */
export async function hostFreshnessPolicy(root = '/'): Promise<FreshnessPolicy> {
  const {apt} = await hostProxyConfig(root, {})
  const off = (key: string): boolean => ['false', 'no', '0', 'off'].includes((apt.get(key) ?? '').toLowerCase())
  return {
    ...DEFAULT_FRESHNESS,
    checkValidUntil: !off('acquire::check-valid-until'),
    checkDate: !off('acquire::check-date'),
  }
}

/**
 * gpgv's verified output of `data`, or a KeelError('integrity') with gpgv's reason. Accepted as apt accepts:
 * at least one good signature, with a strong digest, by a key in `keyrings`, and no bad signature. Other
 * signatures by keys the keyrings lack are ignored (Debian signs with the next release's key as well, which
 * an older keyring does not have: gpgv then exits 2 though the file is properly signed).
 */
export async function verifyInRelease(data: Uint8Array, keyrings: readonly string[], url: string): Promise<string> {
  const structure = inReleaseStructureProblem(Buffer.from(data).toString('latin1'))
  if (structure) throw new KeelError(`${url}: ${structure}`, 'integrity')
  const args = ['--status-fd', '2']
  for (const k of keyrings) args.push('--keyring', k)
  args.push('--output', '-', '-')
  const fail = (reason: string): KeelError =>
    new KeelError(`${url}: signature verification failed: ${reason}`, 'integrity', `keyring(s): ${keyrings.join(', ')}`)
  let result: {stdout: string; stderr: string}
  try {
    result = await run('gpgv', args, {input: data, okExitCodes: [1, 2]})
  } catch (err) {
    if (err instanceof ToolFailedError) throw fail(err.stderrTail.split('\n').pop() || `gpgv exited with ${err.code}`)
    throw err
  }
  const verdict = judgeGpgvStatus(result.stderr)
  if (!verdict.ok) throw fail(verdict.reason)
  return result.stdout
}

/** Hash algorithms (OpenPGP ids) too weak to trust: MD5, SHA-1, RIPEMD-160. */
const WEAK_DIGESTS = new Set(['1', '2', '3'])

/**
 * Judge gpgv's `--status-fd` output (other stderr lines are kept for the reason). Pure, so the rules are
 * tested without crafting signatures.
 */
export function judgeGpgvStatus(stderr: string): {ok: true; goodSignatures: number} | {ok: false; reason: string} {
  const problems: string[] = []
  const messages: string[] = []
  let good = 0
  let pendingGood: string | undefined
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('[GNUPG:] ')) {
      if (line.trim() && !/^gpgv: +(Signature made|using)/.test(line)) messages.push(line.replace(/^gpgv: */, '').trim())
      continue
    }
    const [keyword, ...rest] = line.slice('[GNUPG:] '.length).split(' ')
    switch (keyword) {
      case 'NEWSIG':
        pendingGood = undefined
        break
      case 'GOODSIG':
        pendingGood = rest.slice(1).join(' ')
        break
      case 'VALIDSIG':
        if (pendingGood !== undefined) {
          if (WEAK_DIGESTS.has(rest[7] ?? '')) problems.push(`signature by ${pendingGood} uses a weak digest`)
          else good++
          pendingGood = undefined
        }
        break
      case 'BADSIG':
        return {ok: false, reason: `BAD signature from ${rest.slice(1).join(' ')}`}
      case 'EXPKEYSIG':
        problems.push(`signature by an expired key: ${rest.slice(1).join(' ')}`)
        break
      case 'REVKEYSIG':
        problems.push(`signature by a revoked key: ${rest.slice(1).join(' ')}`)
        break
      case 'NO_PUBKEY':
        problems.push(`no public key ${rest[0]} in the keyring(s)`)
        break
      case 'NODATA':
        problems.push('no signature found')
        break
    }
  }
  if (good > 0) return {ok: true, goodSignatures: good}
  const reasons = [...new Set([...problems, ...messages])]
  return {ok: false, reason: reasons.length > 0 ? reasons.join('; ') : 'no good signature'}
}

const SIGNED_HEADER = '-----BEGIN PGP SIGNED MESSAGE-----'
const SIGNATURE_END = '-----END PGP SIGNATURE-----'

/**
 * gpgv outputs only the signed text, but, like apt, keel also refuses a file with anything before or after
 * the one signed message: there is no honest reason for it, and it is how signature-wrapping attacks start.
 */
export function inReleaseStructureProblem(text: string): string | undefined {
  if (!text.startsWith(`${SIGNED_HEADER}\n`) && !text.startsWith(`${SIGNED_HEADER}\r\n`)) {
    return 'not a clearsigned InRelease (content before the signed message, or no signature at all)'
  }
  if (text.indexOf(SIGNED_HEADER, SIGNED_HEADER.length) >= 0) return 'more than one signed message in InRelease'
  const end = text.indexOf(SIGNATURE_END)
  if (end < 0 || text.slice(end + SIGNATURE_END.length).trim() !== '') return 'content after the signature in InRelease'
  return undefined
}

async function loadRelease(
  source: RepositorySource,
  opts: LoadUniverseOptions,
  freshness: FreshnessPolicy,
  reporter: Reporter,
): Promise<VerifiedRelease> {
  const url = `${source.uri}/dists/${source.suite}/InRelease`
  const cached = await opts.cache.readInRelease(url)
  let previousDateMs: number | undefined
  let data: Buffer
  if (opts.offline) {
    if (!cached) {
      throw new KeelError(`--offline: ${url} is not in the cache (${opts.cache.dir})`, 'network', 'run once without --offline to fill the cache')
    }
    data = cached
  } else {
    if (cached) {
      // The previously verified copy sets a floor on the Date a fresh one may carry (rollback protection).
      try {
        previousDateMs = parseRelease(await verifyInRelease(cached, source.keyrings, url)).dateMs
      } catch {
        previousDateMs = undefined
      }
    }
    reporter.status(`fetching ${url}`)
    try {
      data = await fetchBytes(url, opts.http)
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) {
        throw new KeelError(`${url}: not found (no suite '${source.suite}' on this mirror, or it has no InRelease)`, 'network')
      }
      throw err
    }
  }
  const text = await verifyInRelease(data, source.keyrings, url)
  let release: Release
  try {
    release = parseRelease(text)
  } catch (err) {
    throw new KeelError(`${url}: malformed Release: ${(err as Error).message}`, 'integrity')
  }
  const problem = freshnessProblem(release, (opts.now ?? Date.now)(), freshness, previousDateMs)
  if (problem) {
    throw new KeelError(`${url}: ${problem}`, 'integrity', 'if the mirror is a deliberate snapshot, set Acquire::Check-Valid-Until "false" in apt.conf')
  }
  if (!opts.offline && (!cached || !cached.equals(data))) await opts.cache.writeInRelease(url, data)
  for (const component of source.components) {
    if (release.components.length > 0 && !release.components.includes(component) && !release.components.some((c) => c.endsWith(`/${component}`))) {
      throw new KeelError(`${url}: the suite has no component '${component}' (it has: ${release.components.join(', ')})`, 'input')
    }
  }
  if (release.architectures.length > 0 && !release.architectures.includes(opts.architecture)) {
    throw new KeelError(`${url}: the suite has no architecture '${opts.architecture}'`, 'input')
  }
  return {source, url, release, inReleaseSha256: sha256Hex(data)}
}

export interface IndexFile {
  component: string
  /** Relative to dists/<suite>/, e.g. main/binary-amd64/Packages.xz */
  path: string
  size: number
  sha256: string
}

/** Preferred first: the smallest download. */
const COMPRESSIONS = ['.xz', '.gz', ''] as const

/**
 * The Packages indexes to read for each component: binary-<arch>, plus binary-all when — as apt decides —
 * the Release names 'all' among its Architectures and does not declare that binary-<arch> already includes
 * Architecture: all packages (Debian's main archive declares it; debian-security does not list 'all').
 * Each is the best compression the signed Release lists. `missing` names binary-<arch> indexes it lacks.
 */
export function planIndexFiles(release: Release, components: readonly string[], arch: string): {files: IndexFile[]; missing: string[]} {
  const files: IndexFile[] = []
  const missing: string[] = []
  const separateAll = release.architectures.includes('all') && !release.noSupportForArchitectureAll && arch !== 'all'
  const archs = separateAll ? [arch, 'all'] : [arch]
  for (const component of components) {
    for (const a of archs) {
      const dir = `${component}/binary-${a}`
      const hit = COMPRESSIONS.map((ext) => `${dir}/Packages${ext}`).find((p) => release.sha256.has(p))
      if (hit) files.push({component, path: hit, ...release.sha256.get(hit)!})
      else if (a !== 'all') missing.push(`${dir}/Packages`)
    }
  }
  return {files, missing}
}

/**
 * Where to fetch an index, in order: the by-hash name when the Release offers it (immune to the index
 * changing between fetching InRelease and fetching the index), then the plain name.
 */
export function indexUrls(suiteBase: string, file: IndexFile, acquireByHash: boolean): string[] {
  const plain = `${suiteBase}/${file.path}`
  if (!acquireByHash) return [plain]
  const dir = file.path.slice(0, file.path.lastIndexOf('/'))
  return [`${suiteBase}/${dir}/by-hash/SHA256/${file.sha256}`, plain]
}

function indexFiles(r: VerifiedRelease, arch: string): IndexFile[] {
  const {files, missing} = planIndexFiles(r.release, r.source.components, arch)
  if (missing.length > 0) throw new KeelError(`${r.url}: the signed Release lists no ${missing.join(', ')} index`, 'integrity')
  return files
}

async function ensureIndex(r: VerifiedRelease, file: IndexFile, opts: LoadUniverseOptions): Promise<string> {
  const hit = await opts.cache.get(file.sha256, file.size)
  if (hit) return hit
  const base = `${r.source.uri}/dists/${r.source.suite}`
  if (opts.offline) {
    throw new KeelError(`--offline: ${base}/${file.path} is not in the cache (${opts.cache.dir})`, 'network', 'run once without --offline to fill the cache')
  }
  opts.reporter?.status(`fetching ${base}/${file.path}`)
  const urls = indexUrls(base, file, r.release.acquireByHash)
  for (let i = 0; ; i++) {
    try {
      return await downloadToCache(urls[i]!, file, opts.cache, opts.http)
    } catch (err) {
      // A mirror may lag behind on by-hash files; the plain name is verified just the same.
      if (i === urls.length - 1 || !(err instanceof HttpStatusError && err.status === 404)) throw err
    }
  }
}

async function loadIndex(r: VerifiedRelease, file: IndexFile, opts: LoadUniverseOptions): Promise<BinaryPackage[]> {
  const path = await ensureIndex(r, file, opts)
  opts.reporter?.status(`reading ${r.source.suite}/${file.path}`)
  const repo = {uri: r.source.uri, suite: r.source.suite, component: file.component}
  const {packages, problems} = await parseIndexFile(path, file.path, repo)
  if (problems.length > 0) {
    const p = problems[0]!
    throw new KeelError(
      `${r.source.uri}/dists/${r.source.suite}/${file.path}: line ${p.line}: ${p.message}` +
        (problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''),
      'integrity',
    )
  }
  return packages
}

/** Parse a (verified) Packages index file, decompressed as its name (`Packages.xz`, `.gz`, none) says. */
export function parseIndexFile(
  path: string,
  name: string,
  repository: BinaryPackage['repository'],
): ReturnType<typeof parsePackagesStream> {
  return withDecompressed(path, name, (chunks) => parsePackagesStream(chunks, repository))
}

/** Feed the decompressed bytes of a verified index file to `consume`. */
async function withDecompressed<T>(path: string, name: string, consume: (chunks: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T> {
  if (name.endsWith('.gz')) {
    const gunzip = createGunzip()
    const [, result] = await Promise.all([pipeline(createReadStream(path), gunzip), consume(gunzip)])
    return result
  }
  if (!name.endsWith('.xz')) return consume(createReadStream(path))
  const xz = spawnFilter('xz', ['-dc'])
  const [, result] = await Promise.all([pipeline(createReadStream(path), xz.stdin), consume(xz.stdout), xz.done])
  return result
}
