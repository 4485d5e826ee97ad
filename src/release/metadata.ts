import type {BuildManifest} from '../build/manifest.js'
import {sha256Hex, stableDigest} from '../core/hashing.js'
import {type IndexEntry, type ReleaseArtifact, type ReleaseIndex, type ReleaseJson, type StreamJson, GENERATOR, versionDir} from './model.js'
import {CHANNELS, type Channel, compareVersions, parseVersion} from './version.js'

/** Pure renderers for every metadata file of the tree: same inputs, same bytes. */

export function buildDigestOf(artifacts: ReadonlyArray<Pick<ReleaseArtifact, 'name' | 'size' | 'sha256'>>): string {
  return stableDigest([...artifacts].map(({name, size, sha256}) => ({name, size, sha256})).sort((a, b) => cmp(a.name, b.name)))
}

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** `sha256sum -c` format, sorted by name. */
export function renderSha256Sums(files: Record<string, string>): string {
  return Object.keys(files)
    .sort(cmp)
    .map((name) => `${files[name]}  ${name}\n`)
    .join('')
}

export function parseSha256Sums(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (!line) continue
    const m = /^([0-9a-f]{64}) [ *]([^/\s][^/]*)$/.exec(line)
    if (!m || out.has(m[2]!)) return undefined
    out.set(m[2]!, m[1]!)
  }
  return out
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

/** version.txt: KEY=value lines a shell can source (Flatcar's names with a KEEL_ prefix). */
export function renderVersionTxt(r: ReleaseJson): string {
  const v = parseVersion(r.version)!
  const vars: Array<[string, string | number]> = [
    ['KEEL_VERSION', r.version],
    ['KEEL_VERSION_ID', r.version],
    ['KEEL_BUILD', v.major],
    ['KEEL_BRANCH', v.minor],
    ['KEEL_PATCH', v.patch],
    ['KEEL_CHANNEL', r.channel],
    ['KEEL_ARCH', r.arch],
    ['KEEL_IMAGE_ID', r.image.id],
    ['KEEL_IMAGE_NAME', r.image.name],
    ['KEEL_IMAGE_VERSION', r.image.version],
    ['KEEL_BUILD_ID', r.buildDigest.slice(0, 16)],
    ['KEEL_SOURCE_DATE_EPOCH', r.sourceDateEpoch],
  ]
  if (r.update) vars.push(['KEEL_USR_ROOT_HASH', r.update.rootHash])
  if (r.promotedFrom) vars.push(['KEEL_PROMOTED_FROM', `${r.promotedFrom.channel}/${r.promotedFrom.version}`])
  return vars.map(([k, val]) => `${k}=${shellQuote(String(val))}\n`).join('')
}

export function renderPackagesTxt(packages: BuildManifest['packages']): string {
  return [...packages]
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.architecture, b.architecture))
    .map((p) => `${p.name} ${p.version} ${p.architecture}\n`)
    .join('')
}

/** A minimal SPDX 2.3 document: one package per Debian package, with its purl. Dated by SOURCE_DATE_EPOCH. */
export function renderSbom(manifest: Pick<BuildManifest, 'image' | 'packages' | 'sourceDateEpoch'>, buildDigest: string): string {
  const packages = [...manifest.packages].sort((a, b) => cmp(a.name, b.name) || cmp(a.architecture, b.architecture))
  return jsonText({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${manifest.image.id}-${manifest.image.version}`,
    documentNamespace: `https://spdx.keel.invalid/${manifest.image.id}/${buildDigest}`,
    creationInfo: {created: isoDate(manifest.sourceDateEpoch), creators: ['Tool: keel']},
    packages: packages.map((p, i) => ({
      name: p.name,
      SPDXID: `SPDXRef-Package-${i + 1}`,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      externalRefs: [{referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:deb/debian/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${p.architecture}`}],
    })),
  })
}

export function isoDate(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z')
}

export function indexEntryFor(r: ReleaseJson, releaseText: string): IndexEntry {
  return {
    channel: r.channel,
    arch: r.arch,
    version: r.version,
    path: versionDir(r.channel, r.arch, r.version),
    releaseSha256: sha256Hex(releaseText),
    buildDigest: r.buildDigest,
    ...(r.promotedFrom ? {promotedFrom: r.promotedFrom} : {}),
  }
}

export function sortIndexEntries(entries: IndexEntry[]): IndexEntry[] {
  return [...entries].sort(
    (a, b) => CHANNELS[a.channel] - CHANNELS[b.channel] || cmp(a.arch, b.arch) || compareVersions(parseVersion(a.version)!, parseVersion(b.version)!),
  )
}

export function renderIndex(entries: IndexEntry[], signingKey: string, generation: number): string {
  const index: ReleaseIndex = {indexFormat: 1, generator: GENERATOR, signingKey, generation, releases: sortIndexEntries(entries)}
  return jsonText(index)
}

/** The newest entry of each channel/arch pair (versions only grow, so the highest is the newest). */
export function newestEntries(entries: readonly IndexEntry[]): Map<string, IndexEntry> {
  const out = new Map<string, IndexEntry>()
  for (const e of sortIndexEntries([...entries])) out.set(`${e.channel}/${e.arch}`, e)
  return out
}

/**
 * streams/<channel>.json from the newest release of each architecture. Locations are relative to the tree
 * root (the base URL the tree is served from), so a mirror can move the tree without re-signing.
 */
export function renderStream(channel: Channel, newest: readonly ReleaseJson[], generation: number): string {
  const architectures: StreamJson['architectures'] = {}
  for (const r of [...newest].sort((a, b) => cmp(a.arch, b.arch))) {
    const dir = versionDir(r.channel, r.arch, r.version)
    const artifacts: StreamJson['architectures'][string]['artifacts'] = {}
    for (const a of [...r.artifacts].sort((x, y) => cmp(x.platform, y.platform) || cmp(x.format, y.format) || cmp(x.name, y.name))) {
      const entry = (artifacts[a.platform] ??= {release: r.version, formats: {}})
      const isPayload = r.update?.name === a.name
      const location = {
        location: `${dir}/${a.name}`, signature: `${dir}/${a.signature}`, sha256: a.sha256, size: a.size,
        ...(a.uncompressed ? {'uncompressed-sha256': a.uncompressed.sha256, 'uncompressed-size': a.uncompressed.size} : {}),
      }
      const formats = (entry.formats[a.format] ??= {})
      if (isPayload && r.update) {
        const {filesystem, rootHash, dataSize, hashSize, compression} = r.update
        formats.payload = {...location, compression, filesystem, rootHash, dataSize, hashSize}
      } else {
        formats[formats.disk ? a.name : 'disk'] = location
      }
    }
    architectures[r.arch] = {artifacts}
  }
  const lastModified = Math.max(0, ...newest.map((r) => r.sourceDateEpoch))
  const stream: StreamJson = {stream: channel, metadata: {generator: GENERATOR, 'last-modified': isoDate(lastModified), generation}, architectures}
  return jsonText(stream)
}

/** Every file of a version directory that SHA256SUMS covers, with its digest (signatures are not listed). */
export function sumsFor(r: ReleaseJson, texts: Record<string, string>): Record<string, string> {
  const files: Record<string, string> = {}
  for (const a of r.artifacts) files[a.name] = a.sha256
  for (const [name, text] of Object.entries(texts)) files[name] = sha256Hex(text)
  return files
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
