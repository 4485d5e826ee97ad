import {createHash} from 'node:crypto'
import type {ReadableStream} from 'node:stream/web'
import type {Key} from 'openpgp'
import {KeelError} from '../core/errors.js'
import {sha256Hex} from '../core/hashing.js'
import type {Reporter} from '../core/progress.js'
import {newestEntries, parseSha256Sums} from './metadata.js'
import {type IndexEntry, type ReleaseIndex, type ReleaseJson, type StreamJson, TREE, VERSION_FILES, signatureName, streamPath} from './model.js'
import {loadVerificationKey, verifyDetached} from './sign.js'
import type {TreeSource} from './source.js'
import type {Channel} from './version.js'

/**
 * Check a release tree as a consumer would: the index and stream signatures, every release's SHA256SUMS
 * signature, every listed file's digest, every artifact's own signature, and that the index, the streams and
 * the `current` links agree. Failures are KeelErrors with the integrity exit code.
 */

export interface VerifyOptions {
  /** The key the consumer trusts. Without it the tree's own release-key.asc is used (trust on first use). */
  publicKeyArmored?: string
  channel?: Channel
  reporter?: Reporter
}

export interface VerifyReport {
  location: string
  signingKey: string
  keySource: 'given' | 'tree'
  generation: number
  current: Array<{channel: Channel; arch: string; version: string}>
  releases: Array<{path: string; files: number; bytes: number}>
  signaturesChecked: number
}

function integrity(message: string): KeelError {
  return new KeelError(message, 'integrity')
}

function parseJson<T>(bytes: Uint8Array, what: string): T {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T
  } catch (err) {
    throw integrity(`${what} is not JSON: ${(err as Error).message}`)
  }
}

async function need(source: TreeSource, path: string): Promise<Uint8Array> {
  const bytes = await source.read(path)
  if (!bytes) throw integrity(`${path} is missing from ${source.location}`)
  return bytes
}

export async function verifyTree(source: TreeSource, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const indexBytes = await source.read(TREE.index)
  if (!indexBytes) throw new KeelError(`${source.location} has no ${TREE.index}: nothing is published there`, 'input')
  const keyArmored = opts.publicKeyArmored ?? Buffer.from(await need(source, TREE.key)).toString('utf8')
  const key = await loadVerificationKey(keyArmored, opts.publicKeyArmored ? 'the key given' : `${TREE.key} of the tree`)
  const fingerprint = key.getFingerprint().toUpperCase()
  let signatures = 0
  const checkSigned = async (path: string, bytes: Uint8Array) => {
    await verifyDetached(bytes, await need(source, signatureName(path)), key, path)
    signatures++
  }
  await checkSigned(TREE.index, indexBytes)
  const index = parseJson<ReleaseIndex>(indexBytes, TREE.index)
  if (index.indexFormat !== 1 || !Array.isArray(index.releases)) throw integrity(`${TREE.index} is not a keel release index`)
  if (index.signingKey !== fingerprint) throw integrity(`${TREE.index} names signing key ${index.signingKey}, but was verified with ${fingerprint}`)

  const entries = index.releases.filter((e) => !opts.channel || e.channel === opts.channel)
  const report: VerifyReport = {location: source.location, signingKey: fingerprint, keySource: opts.publicKeyArmored ? 'given' : 'tree', generation: index.generation, current: [], releases: [], signaturesChecked: 0}
  const releases = new Map<string, {release: ReleaseJson; sums: Map<string, string>}>()
  for (const entry of entries) {
    opts.reporter?.status(`verifying ${entry.path}`)
    const checked = await verifyVersionDir(source, entry.path, key, {entry})
    signatures += checked.signatures
    releases.set(entry.path, checked)
    report.releases.push({path: entry.path, files: checked.sums.size, bytes: checked.bytes})
  }

  const newest = newestEntries(entries)
  const channels = [...new Set([...newest.values()].map((e) => e.channel))]
  for (const channel of channels) {
    const path = streamPath(channel)
    const bytes = await need(source, path)
    await checkSigned(path, bytes)
    const stream = parseJson<StreamJson>(bytes, path)
    if (stream.stream !== channel) throw integrity(`${path} describes stream '${stream.stream}'`)
    if (stream.metadata?.generation !== index.generation) throw integrity(`${path} is from generation ${stream.metadata?.generation}, the index from ${index.generation}`)
    const archs = [...newest.values()].filter((e) => e.channel === channel)
    const streamArchs = Object.keys(stream.architectures ?? {}).sort()
    if (streamArchs.join() !== archs.map((e) => e.arch).sort().join()) throw integrity(`${path} lists architectures ${streamArchs.join(', ')}, the index ${archs.map((e) => e.arch).join(', ')}`)
    for (const entry of archs) {
      checkStreamArch(path, stream, entry, releases.get(entry.path)!)
      await checkCurrent(source, entry)
      report.current.push({channel, arch: entry.arch, version: entry.version})
    }
  }
  report.signaturesChecked = signatures
  return report
}

function checkStreamArch(path: string, stream: StreamJson, entry: IndexEntry, checked: {release: ReleaseJson; sums: Map<string, string>}): void {
  const artifacts = stream.architectures[entry.arch]!.artifacts
  const listed = new Set<string>()
  for (const [platform, {release, formats}] of Object.entries(artifacts)) {
    if (release !== entry.version) throw integrity(`${path}: ${entry.arch} ${platform} is release ${release}, the newest ${entry.channel} release is ${entry.version}`)
    for (const kinds of Object.values(formats)) {
      for (const loc of Object.values(kinds)) {
        const prefix = `${entry.path}/`
        const name = loc.location.startsWith(prefix) ? loc.location.slice(prefix.length) : undefined
        if (!name || name.includes('/')) throw integrity(`${path}: location ${loc.location} is outside ${entry.path}`)
        if (checked.sums.get(name) !== loc.sha256) throw integrity(`${path}: sha256 of ${loc.location} differs from its release's SHA256SUMS`)
        if (loc.signature !== `${loc.location}.sig`) throw integrity(`${path}: signature of ${loc.location} is not beside it`)
        listed.add(name)
      }
    }
  }
  const missing = checked.release.artifacts.filter((a) => !listed.has(a.name)).map((a) => a.name)
  if (missing.length) throw integrity(`${path} does not list ${missing.join(', ')} of ${entry.path}`)
}

async function checkCurrent(source: TreeSource, entry: IndexEntry): Promise<void> {
  const path = `${entry.channel}/${entry.arch}/${TREE.currentLink}/${VERSION_FILES.release}`
  const bytes = await source.read(path)
  if (!bytes) throw integrity(`${entry.channel}/${entry.arch}/${TREE.currentLink} is missing`)
  if (sha256Hex(bytes) !== entry.releaseSha256) throw integrity(`${entry.channel}/${entry.arch}/${TREE.currentLink} is not ${entry.version}, the newest release in the index`)
}

/** Stream a file once, hashing it and checking its detached signature on the two halves of a tee. */
async function hashAndVerify(source: TreeSource, path: string, key: Key | undefined): Promise<{sha256: string; size: number; signed: boolean}> {
  const stream = await source.stream(path)
  if (!stream) throw integrity(`${path} is missing from ${source.location}`)
  const signatureBytes = key ? await need(source, signatureName(path)) : undefined
  const [forHash, forSignature] = key ? stream.tee() : [stream, undefined]
  const hashing = (async () => {
    const hash = createHash('sha256')
    let size = 0
    const reader = (forHash as ReadableStream<Uint8Array>).getReader()
    for (;;) {
      const {done, value} = await reader.read()
      if (done) break
      hash.update(value)
      size += value.length
    }
    return {sha256: hash.digest('hex'), size}
  })()
  const signing = forSignature && key && signatureBytes ? verifyDetached(forSignature, signatureBytes, key, path) : Promise.resolve(undefined)
  const [hashed] = await Promise.all([hashing, signing])
  return {...hashed, signed: Boolean(key)}
}

/**
 * One version directory: SHA256SUMS signed; every file it lists present with that digest; release.json
 * consistent with the sums (and with the index entry, when given); each artifact's own signature good.
 */
export async function verifyVersionDir(
  source: TreeSource,
  dir: string,
  key: Key,
  expect: {entry?: IndexEntry},
): Promise<{release: ReleaseJson; sums: Map<string, string>; bytes: number; signatures: number}> {
  const sumsPath = `${dir}/${VERSION_FILES.sums}`
  const sumsBytes = await need(source, sumsPath)
  await verifyDetached(sumsBytes, await need(source, signatureName(sumsPath)), key, sumsPath)
  let signatures = 1
  const sums = parseSha256Sums(Buffer.from(sumsBytes).toString('utf8'))
  if (!sums) throw integrity(`${sumsPath} is malformed`)
  const releasePath = `${dir}/${VERSION_FILES.release}`
  const releaseBytes = await need(source, releasePath)
  const releaseSha = sha256Hex(releaseBytes)
  if (sums.get(VERSION_FILES.release) !== releaseSha) throw integrity(`${releasePath} does not match ${sumsPath}`)
  const release = parseJson<ReleaseJson>(releaseBytes, releasePath)
  const e = expect.entry
  if (e && (e.releaseSha256 !== releaseSha || e.version !== release.version || e.channel !== release.channel || e.arch !== release.arch || e.buildDigest !== release.buildDigest)) {
    throw integrity(`${releasePath} is not the release the index lists for ${e.path}`)
  }
  const artifactNames = new Set(release.artifacts.map((a) => a.name))
  let bytes = 0
  for (const [name, sha256] of [...sums].sort()) {
    const isArtifact = artifactNames.has(name)
    const got = await hashAndVerify(source, `${dir}/${name}`, isArtifact ? key : undefined)
    if (got.sha256 !== sha256) throw integrity(`${dir}/${name}: sha256 ${got.sha256} does not match SHA256SUMS (${sha256})`)
    if (got.signed) signatures++
    bytes += got.size
  }
  for (const a of release.artifacts) {
    if (sums.get(a.name) !== a.sha256) throw integrity(`${releasePath} lists ${a.name} with a sha256 SHA256SUMS does not have`)
  }
  if (release.update && release.artifacts.find((a) => a.name === release.update!.name)?.sha256 !== release.update.sha256) {
    throw integrity(`${releasePath}: the update payload is not one of the release's artifacts`)
  }
  return {release, sums, bytes, signatures}
}
