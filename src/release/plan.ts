import {basename} from 'node:path'
import type {BuildManifest} from '../build/manifest.js'
import {KeelError} from '../core/errors.js'
import {
  buildDigestOf, indexEntryFor, jsonText, newestEntries, renderIndex, renderPackagesTxt, renderSbom, renderSha256Sums, renderStream, renderVersionTxt, sumsFor,
} from './metadata.js'
import {type FileOp, type IndexEntry, type ReleaseArtifact, type ReleaseIndex, type ReleaseJson, type UpdatePayload, TREE, VERSION_FILES, signatureName, streamPath, versionDir} from './model.js'
import {CHANNELS, type Channel, compareVersions, daysSinceEpoch, formatVersion, nextVersion, parseVersion, sortVersions} from './version.js'

/**
 * Publish and promote as pure plans: from the build and what the tree holds now, the exact list of file
 * operations. Ordering is the atomicity argument (src/release/README.md): new bytes go into staging names
 * nobody reads, become a version directory with one rename, and only the final rename of the `meta` link
 * makes them part of what consumers see.
 */

/** A release found in the tree, with the sha256 of its release.json text. */
export interface KnownRelease {
  release: ReleaseJson
  releaseSha256: string
}

/** What the tree holds, read (under the lock) by the adapter. */
export interface TreeState {
  /** Current metadata generation; 0 when nothing was ever published. */
  generation: number
  index: ReleaseIndex | undefined
  /** Complete version directories per `channel/arch`, whether indexed yet or not. */
  onDisk: Record<string, KnownRelease[]>
  /** Root-relative paths that already exist (the fixed links are made once). */
  existing: string[]
  /** Left by interrupted runs: staging directories, generations never switched to. Removed first. */
  leftovers: string[]
  /** Generation numbers present under .meta/. */
  generations: number[]
}

export interface SigningIdentity {
  fingerprint: string
  publicKeyArmored: string
}

export interface ReleasePlan {
  version: string
  /** Version directory, relative to the tree root. */
  path: string
  release: ReleaseJson
  /** True when the release was already there with the same bytes (nothing to do, or only metadata to finish). */
  existed: boolean
  ops: FileOp[]
}

const RESERVED = new Set<string>([...Object.values(VERSION_FILES), TREE.currentLink])

export function emptyTreeState(): TreeState {
  return {generation: 0, index: undefined, onDisk: {}, existing: [], leftovers: [], generations: []}
}

/** The build's artifacts as release entries; names must be unique and not collide with metadata files. */
export function releaseArtifacts(manifest: BuildManifest): ReleaseArtifact[] {
  const seen = new Set<string>()
  return manifest.artifacts.map((a) => {
    const name = basename(a.path)
    if (seen.has(name) || RESERVED.has(name) || name.endsWith('.sig') || name.startsWith('.')) {
      throw new KeelError(`artifact name '${name}' is used twice or collides with release metadata`, 'input')
    }
    seen.add(name)
    return {
      name, platform: a.platform, format: a.format, size: a.size, sha256: a.sha256, signature: signatureName(name),
      ...(a.uncompressed ? {uncompressed: {sha256: a.uncompressed.sha256, size: a.uncompressed.size}} : {}),
    }
  })
}

function compressionOf(name: string): string {
  if (name.endsWith('.zst')) return 'zstd'
  if (name.endsWith('.xz')) return 'xz'
  if (name.endsWith('.gz')) return 'gzip'
  return 'none'
}

/** The update payload: the build's 'update' artifact with slot A's verity geometry (absent in older builds). */
export function updatePayloadOf(manifest: BuildManifest, artifacts: ReleaseArtifact[]): UpdatePayload | undefined {
  const payload = artifacts.find((a) => a.platform === 'update')
  const slot = manifest.slots.A
  if (!payload || !slot) return undefined
  const {rootHash, filesystem, dataSize, hashSize} = slot
  return {
    name: payload.name, compression: compressionOf(payload.name), sha256: payload.sha256, size: payload.size,
    ...(payload.uncompressed ? {uncompressed: payload.uncompressed} : {}), filesystem, rootHash, dataSize, hashSize,
  }
}

export interface PublishRequest {
  buildDir: string
  manifest: BuildManifest
  manifestText: string
  channel: Channel
  arch: string
  version?: string
  key: SigningIdentity
  state: TreeState
}

export function planRelease(req: PublishRequest): ReleasePlan {
  const {manifest, channel, arch, state} = req
  checkKey(state, req.key)
  const artifacts = releaseArtifacts(manifest)
  const buildDigest = buildDigestOf(artifacts)
  const known = knownVersions(state, channel, arch)
  const onDisk = state.onDisk[`${channel}/${arch}`] ?? []

  let reuse: KnownRelease | undefined
  let version: string
  if (req.version !== undefined) {
    version = req.version
    if (!parseVersion(version)) throw new KeelError(`version '${version}' is not MAJOR.MINOR.PATCH`, 'usage')
    reuse = onDisk.find((k) => k.release.version === version)
    if (reuse && reuse.release.buildDigest !== buildDigest) {
      throw new KeelError(`${versionDir(channel, arch, version)} is already published with different bytes; published versions are immutable`, 'releaseConflict', 'publish under a new version (omit --version to get the next one)')
    }
    if (!reuse && known.length && compareVersions(parseVersion(version)!, parseVersion(known.at(-1)!)!) <= 0) {
      throw new KeelError(`version ${version} does not sort after ${known.at(-1)}, the newest ${channel} release; versions only grow within a channel`, 'releaseConflict')
    }
  } else {
    reuse = [...onDisk].reverse().find((k) => k.release.buildDigest === buildDigest)
    version = reuse?.release.version ?? nextVersion(channel, daysSinceEpoch(manifest.sourceDateEpoch), known)
  }
  if (reuse) return finishExisting(reuse, state, req.key)

  const release: ReleaseJson = {
    releaseFormat: 1,
    version,
    channel,
    arch,
    image: manifest.image,
    sourceDateEpoch: manifest.sourceDateEpoch,
    buildDigest,
    artifacts,
    ...optional('update', updatePayloadOf(manifest, artifacts)),
    slots: manifest.slots,
    kernel: manifest.kernel,
    packages: manifest.packages.length,
  }
  const dir = versionDir(channel, arch, version)
  const stage = `${channel}/${arch}/${TREE.stagingPrefix}${version}`
  const ops: FileOp[] = [...state.leftovers.map((path): FileOp => ({op: 'remove', path})), {op: 'mkdir', path: stage}]
  for (const a of artifacts) ops.push({op: 'place', from: `${req.buildDir}/${manifest.artifacts.find((m) => basename(m.path) === a.name)!.path}`, to: `${stage}/${a.name}`})
  for (const a of artifacts) ops.push({op: 'sign', path: `${stage}/${a.name}`, signature: `${stage}/${a.signature}`})
  const texts: Record<string, string> = {
    [VERSION_FILES.manifest]: req.manifestText,
    [VERSION_FILES.packages]: renderPackagesTxt(manifest.packages),
    [VERSION_FILES.sbom]: renderSbom(manifest, buildDigest),
  }
  ops.push(...versionMetadataOps(stage, release, texts), {op: 'rename', from: stage, to: dir})
  const releaseText = jsonText(release)
  ops.push(...planGeneration(state, [...entriesOf(state), indexEntryFor(release, releaseText)], {[`${channel}/${arch}`]: release}, req.key))
  return {version, path: dir, release, existed: false, ops}
}

export interface PromoteRequest {
  /** The release being promoted and its directory (absolute), already verified by the caller. */
  source: ReleaseJson
  sourceDir: string
  /** sha256 of the source files copied unchanged (from its verified SHA256SUMS). */
  sourceSums: Map<string, string>
  to: Channel
  version?: string
  key: SigningIdentity
  state: TreeState
}

export function planPromote(req: PromoteRequest): ReleasePlan {
  const {source, to, state} = req
  const from = source.channel
  if (from === to) throw new KeelError(`--from and --to are both ${to}`, 'usage')
  checkKey(state, req.key)
  const arch = source.arch
  const onDisk = state.onDisk[`${to}/${arch}`] ?? []
  const already = onDisk.find((k) => k.release.promotedFrom?.channel === from && k.release.promotedFrom.version === source.version && k.release.buildDigest === source.buildDigest)
  if (already && (req.version === undefined || req.version === already.release.version)) return finishExisting(already, state, req.key)

  const known = knownVersions(state, to, arch)
  let version: string
  if (req.version !== undefined) {
    version = req.version
    if (!parseVersion(version)) throw new KeelError(`version '${version}' is not MAJOR.MINOR.PATCH`, 'usage')
    if (onDisk.some((k) => k.release.version === version)) {
      throw new KeelError(`${versionDir(to, arch, version)} is already published with different bytes; published versions are immutable`, 'releaseConflict')
    }
  } else {
    const major = parseVersion(source.version)!.major
    const minor = CHANNELS[to]
    const sameLine = known.map((t) => parseVersion(t)!).filter((v) => v.major === major && v.minor === minor)
    version = formatVersion({major, minor, patch: sameLine.length ? Math.max(...sameLine.map((v) => v.patch)) + 1 : 0})
  }
  const newest = known.at(-1)
  if (newest && compareVersions(parseVersion(version)!, parseVersion(newest)!) <= 0) {
    throw new KeelError(`promoting ${from} ${source.version} to ${to} as ${version} would not sort after ${newest}, the newest ${to} release`, 'releaseConflict', 'pass --version with a higher version, or promote a newer release')
  }

  const {promotedFrom: _previous, ...rest} = source
  const release: ReleaseJson = {...rest, version, channel: to, promotedFrom: {channel: from, version: source.version}}
  const dir = versionDir(to, arch, version)
  const stage = `${to}/${arch}/${TREE.stagingPrefix}${version}`
  const ops: FileOp[] = [...state.leftovers.map((path): FileOp => ({op: 'remove', path})), {op: 'mkdir', path: stage}]
  // The same bytes, linked: artifacts, their signatures (made over exactly these bytes) and the build's lists.
  const carried = [...source.artifacts.flatMap((a) => [a.name, a.signature]), VERSION_FILES.manifest, VERSION_FILES.packages, VERSION_FILES.sbom]
  for (const name of carried) ops.push({op: 'place', from: `${req.sourceDir}/${name}`, to: `${stage}/${name}`})
  const extra: Record<string, string> = {}
  for (const name of [VERSION_FILES.manifest, VERSION_FILES.packages, VERSION_FILES.sbom]) {
    const sum = req.sourceSums.get(name)
    if (!sum) throw new KeelError(`${from} ${source.version} lacks ${name} in its SHA256SUMS`, 'integrity')
    extra[name] = sum
  }
  ops.push(...versionMetadataOps(stage, release, {}, extra), {op: 'rename', from: stage, to: dir})
  const releaseText = jsonText(release)
  ops.push(...planGeneration(state, [...entriesOf(state), indexEntryFor(release, releaseText)], {[`${to}/${arch}`]: release}, req.key))
  return {version, path: dir, release, existed: false, ops}
}

/** version.txt, release.json, the given texts, SHA256SUMS over all of them and its signature. */
function versionMetadataOps(stage: string, release: ReleaseJson, texts: Record<string, string>, carriedSums: Record<string, string> = {}): FileOp[] {
  const all = {...texts, [VERSION_FILES.versionTxt]: renderVersionTxt(release), [VERSION_FILES.release]: jsonText(release)}
  const ops: FileOp[] = Object.entries(all).map(([name, content]) => ({op: 'write', path: `${stage}/${name}`, content}))
  const sums = renderSha256Sums({...sumsFor(release, all), ...carriedSums})
  ops.push({op: 'write', path: `${stage}/${VERSION_FILES.sums}`, content: sums}, {op: 'sign', path: `${stage}/${VERSION_FILES.sums}`, signature: `${stage}/${signatureName(VERSION_FILES.sums)}`})
  return ops
}

/** A release already on disk with the same bytes: nothing to write unless the index does not list it yet. */
function finishExisting(known: KnownRelease, state: TreeState, key: SigningIdentity): ReleasePlan {
  const r = known.release
  const path = versionDir(r.channel, r.arch, r.version)
  const indexed = entriesOf(state).some((e) => e.path === path)
  const ops = indexed && state.leftovers.length === 0 ? [] : [...state.leftovers.map((p): FileOp => ({op: 'remove', path: p}))]
  if (!indexed) {
    const entry = {...indexEntryFor(r, ''), releaseSha256: known.releaseSha256}
    const newestNow = newestEntries(entriesOf(state)).get(`${r.channel}/${r.arch}`)
    const isNewest = !newestNow || compareVersions(parseVersion(r.version)!, parseVersion(newestNow.version)!) > 0
    ops.push(...planGeneration(state, [...entriesOf(state), entry], isNewest ? {[`${r.channel}/${r.arch}`]: r} : {}, key))
  }
  return {version: r.version, path, release: r, existed: true, ops}
}

/**
 * A new metadata generation: streams, index, key and `current` links written under .meta/.staging-N,
 * renamed to .meta/N, then `meta` switched to it with one atomic rename. Generations older than the
 * previous one are removed afterwards (a reader that started on the previous one can still finish).
 */
function planGeneration(state: TreeState, entries: IndexEntry[], changed: Record<string, ReleaseJson>, key: SigningIdentity): FileOp[] {
  const n = state.generation + 1
  const stage = `${TREE.metaDir}/${TREE.stagingPrefix}${n}`
  const ops: FileOp[] = [{op: 'mkdir', path: `${stage}/${TREE.streamsDir}`}]
  const newest = newestEntries(entries)
  const byChannel = new Map<Channel, ReleaseJson[]>()
  for (const [pair, entry] of newest) {
    const release = changed[pair] ?? releaseOfEntry(state, entry)
    byChannel.set(entry.channel, [...(byChannel.get(entry.channel) ?? []), release])
  }
  for (const [channel, releases] of [...byChannel].sort((a, b) => CHANNELS[a[0]] - CHANNELS[b[0]])) {
    const path = `${stage}/${streamPath(channel)}`
    ops.push({op: 'write', path, content: renderStream(channel, releases, n)}, {op: 'sign', path, signature: `${path}.sig`})
  }
  const index = `${stage}/${TREE.index}`
  ops.push({op: 'write', path: index, content: renderIndex(entries, key.fingerprint, n)}, {op: 'sign', path: index, signature: `${index}.sig`})
  ops.push({op: 'write', path: `${stage}/${TREE.key}`, content: key.publicKeyArmored})
  for (const entry of [...newest.values()]) {
    ops.push({op: 'mkdir', path: `${stage}/${TREE.currentLink}/${entry.channel}`})
    ops.push({op: 'symlink', path: `${stage}/${TREE.currentLink}/${entry.channel}/${entry.arch}`, target: `../../../../${entry.path}`})
  }
  // Fixed names at the root, made once; they resolve through `meta`, so they change only when it does.
  const fixed: Array<[string, string]> = [
    [TREE.index, `${TREE.metaLink}/${TREE.index}`],
    [`${TREE.index}.sig`, `${TREE.metaLink}/${TREE.index}.sig`],
    [TREE.streamsDir, `${TREE.metaLink}/${TREE.streamsDir}`],
    [TREE.key, `${TREE.metaLink}/${TREE.key}`],
    ...[...newest.values()].map((e): [string, string] => [`${e.channel}/${e.arch}/${TREE.currentLink}`, `../../${TREE.metaLink}/${TREE.currentLink}/${e.channel}/${e.arch}`]),
  ]
  for (const [path, target] of fixed) if (!state.existing.includes(path)) ops.push({op: 'symlink', path, target})
  ops.push({op: 'rename', from: stage, to: `${TREE.metaDir}/${n}`}, {op: 'symlink', path: TREE.metaLink, target: `${TREE.metaDir}/${n}`})
  for (const old of state.generations) if (old < n - 1) ops.push({op: 'remove', path: `${TREE.metaDir}/${old}`})
  return ops
}

function releaseOfEntry(state: TreeState, entry: IndexEntry): ReleaseJson {
  const found = (state.onDisk[`${entry.channel}/${entry.arch}`] ?? []).find((k) => k.release.version === entry.version)
  if (!found) throw new KeelError(`the index lists ${entry.path}, which is missing`, 'integrity')
  return found.release
}

function checkKey(state: TreeState, key: SigningIdentity): void {
  const treeKey = state.index?.signingKey
  if (treeKey && treeKey !== key.fingerprint) {
    throw new KeelError(`the release tree is signed with key ${treeKey}; the signing key given is ${key.fingerprint}`, 'input', 'sign with the key the tree was started with (key rotation is not supported yet)')
  }
}

function entriesOf(state: TreeState): IndexEntry[] {
  return state.index?.releases ?? []
}

/** Every version of a channel/arch, indexed or only on disk, ascending. */
function knownVersions(state: TreeState, channel: Channel, arch: string): string[] {
  const indexed = entriesOf(state).filter((e) => e.channel === channel && e.arch === arch).map((e) => e.version)
  const disk = (state.onDisk[`${channel}/${arch}`] ?? []).map((k) => k.release.version)
  return sortVersions(new Set([...indexed, ...disk]))
}

function optional<K extends string, V>(key: K, value: V | undefined): {[P in K]?: V} {
  return (value === undefined ? {} : {[key]: value}) as {[P in K]?: V}
}
