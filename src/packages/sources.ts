import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {SourceSpec} from '../recipe/types.js'
import {parseControl} from './control.js'
import type {RepositorySource} from './types.js'

/**
 * The host's apt configuration as keel needs it: which mirror serves which suite, with which keyring, and
 * which proxy to use. keel never runs apt; it reads the same files apt reads.
 */

export interface AptSourceEntry {
  type: 'deb' | 'deb-src'
  uris: string[]
  suites: string[]
  components: string[]
  /** Keyring paths from signed-by / Signed-By (fingerprints and inline keys are not paths and are left out). */
  signedBy: string[]
  /** Other options (arch=, trusted=, ...), names lowercased. */
  options: Record<string, string>
  file: string
  line: number
}

export const DEBIAN_ARCHIVE_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
export const OFFICIAL_DEBIAN_MIRROR = 'http://deb.debian.org/debian'
export const OFFICIAL_DEBIAN_SECURITY_MIRROR = 'http://deb.debian.org/debian-security'

function keyringPaths(value: string | undefined): string[] {
  if (!value) return []
  // A Signed-By holding an inline key block spans several lines; only absolute file paths name keyrings.
  if (value.includes('BEGIN PGP')) return []
  return value
    .split(/[\s,]+/)
    .filter((v) => v.startsWith('/'))
}

function trimSlash(uri: string): string {
  return uri.replace(/\/+$/, '')
}

/** One-line format: `deb [opt=val ...] uri suite [component...]`, '#' starts a comment. */
export function parseOneLineSources(text: string, file: string): AptSourceEntry[] {
  const entries: AptSourceEntry[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!
    const hash = line.indexOf('#')
    if (hash >= 0) line = line.slice(0, hash)
    line = line.trim()
    if (!line) continue
    const typeMatch = /^(deb|deb-src)\s+/.exec(line)
    if (!typeMatch) continue
    let rest = line.slice(typeMatch[0].length)
    const options: Record<string, string> = {}
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']')
      if (close < 0) continue
      for (const opt of rest.slice(1, close).trim().split(/\s+/).filter(Boolean)) {
        const eq = opt.indexOf('=')
        if (eq > 0) options[opt.slice(0, eq).toLowerCase()] = opt.slice(eq + 1)
      }
      rest = rest.slice(close + 1).trim()
    }
    const [uri, suite, ...components] = rest.split(/\s+/)
    if (!uri || !suite) continue
    const signedBy = keyringPaths(options['signed-by'])
    delete options['signed-by']
    entries.push({
      type: typeMatch[1] as 'deb' | 'deb-src',
      uris: [trimSlash(uri)],
      suites: [suite],
      components,
      signedBy,
      options,
      file,
      line: i + 1,
    })
  }
  return entries
}

/** deb822 format (.sources): paragraphs of Types/URIs/Suites/Components/Signed-By; `Enabled: no` skips one. */
export function parseDeb822Sources(text: string, file: string): AptSourceEntry[] {
  const entries: AptSourceEntry[] = []
  for (const p of parseControl(text, {comments: true}).paragraphs) {
    const get = (name: string): string | undefined => {
      for (const [k, v] of p.fields) if (k.toLowerCase() === name) return v
      return undefined
    }
    const words = (name: string): string[] => (get(name) ?? '').split(/\s+/).filter(Boolean)
    if (get('enabled')?.toLowerCase() === 'no') continue
    const options: Record<string, string> = {}
    for (const [k, v] of p.fields) {
      const key = k.toLowerCase()
      if (!['types', 'uris', 'suites', 'components', 'signed-by', 'enabled'].includes(key)) options[key] = v
    }
    for (const type of words('types')) {
      if (type !== 'deb' && type !== 'deb-src') continue
      entries.push({
        type,
        uris: words('uris').map(trimSlash),
        suites: words('suites'),
        components: words('components'),
        signedBy: keyringPaths(get('signed-by')),
        options,
        file,
        line: p.line,
      })
    }
  }
  return entries
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * The host's sources: /etc/apt/sources.list, then sources.list.d/*.list and *.sources in name order. Like
 * apt, files with any other extension (*.disabled, *.save, *.disabled-by-farm...) are ignored.
 */
export async function readHostSources(root = '/'): Promise<AptSourceEntry[]> {
  const entries: AptSourceEntry[] = []
  const main = join(root, 'etc/apt/sources.list')
  const mainText = await readText(main)
  if (mainText !== undefined) entries.push(...parseOneLineSources(mainText, main))
  const dir = join(root, 'etc/apt/sources.list.d')
  let names: string[] = []
  try {
    names = (await readdir(dir)).sort()
  } catch {
    // no sources.list.d
  }
  for (const name of names) {
    const path = join(dir, name)
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) continue
    if (name.endsWith('.list')) {
      const text = await readText(path)
      if (text !== undefined) entries.push(...parseOneLineSources(text, path))
    } else if (name.endsWith('.sources')) {
      const text = await readText(path)
      if (text !== undefined) entries.push(...parseDeb822Sources(text, path))
    }
  }
  return entries
}

const SUITE_SUFFIX = /^([a-z0-9.]+)([-/].+)$/
const DEBIAN_SUITES = new Set([
  'buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid',
  'oldoldstable', 'oldstable', 'stable', 'testing', 'unstable', 'experimental',
])

function splitSuite(suite: string): {base: string; suffix: string} {
  const m = SUITE_SUFFIX.exec(suite)
  return m ? {base: m[1]!, suffix: m[2]!.replace('/', '-')} : {base: suite, suffix: ''}
}

function lastPathSegment(uri: string): string {
  return trimSlash(uri).split('/').pop() ?? ''
}

function isDebianEntry(e: AptSourceEntry): boolean {
  return (
    e.uris.some((u) => ['debian', 'debian-security'].includes(lastPathSegment(u))) ||
    e.suites.some((s) => DEBIAN_SUITES.has(splitSuite(s).base))
  )
}

export interface SuiteMirror {
  uri: string
  /** The host entry's Signed-By keyrings, if any. */
  keyrings: string[]
}

/**
 * The host mirror that carries `suite`. Rules, first match wins (binary `deb` entries only):
 *  1. an entry listing exactly that suite;
 *  2. an entry listing another suite with the same suffix (trixie-security → wherever bookworm-security is);
 *  3. for a -security suite: a Debian entry whose URI ends in /debian-security, else the sibling
 *     `<uri>-security` of a URI ending in /debian (the layout of Debian's own mirror network);
 *  4. otherwise: an entry listing the base suite (bookworm-updates → where bookworm is), else any Debian
 *     entry whose URI ends in /debian;
 *  5. the official Debian mirror, only if the host has no Debian source at all.
 */
export function mirrorForSuite(host: readonly AptSourceEntry[], suite: string): SuiteMirror {
  const debs = host.filter((e) => e.type === 'deb' && e.uris.length > 0)
  const pick = (e: AptSourceEntry, uri = e.uris[0]!): SuiteMirror => ({uri, keyrings: e.signedBy})
  const exact = debs.find((e) => e.suites.includes(suite))
  if (exact) return pick(exact)
  const {base, suffix} = splitSuite(suite)
  if (suffix) {
    const sameSuffix = debs.find((e) => e.suites.some((s) => splitSuite(s).suffix === suffix))
    if (sameSuffix) return pick(sameSuffix)
  }
  const debian = debs.filter(isDebianEntry)
  if (suffix === '-security') {
    for (const e of debian) {
      const u = e.uris.find((x) => lastPathSegment(x) === 'debian-security')
      if (u) return pick(e, u)
    }
    for (const e of debian) {
      const u = e.uris.find((x) => lastPathSegment(x) === 'debian')
      if (u) return pick(e, `${u}-security`)
    }
  } else {
    const baseEntry = debs.find((e) => e.suites.includes(base))
    if (baseEntry) return pick(baseEntry)
    for (const e of debian) {
      const u = e.uris.find((x) => lastPathSegment(x) === 'debian')
      if (u) return pick(e, u)
    }
  }
  if (debian.length > 0) {
    // The host has Debian sources, just none that fits: use the first rather than leave for the internet.
    return pick(debian[0]!)
  }
  return {uri: suffix === '-security' ? OFFICIAL_DEBIAN_SECURITY_MIRROR : OFFICIAL_DEBIAN_MIRROR, keyrings: []}
}

/**
 * The repositories a recipe's sources name. The mirror of each suite is, in order: `mirrorOverride`
 * (--mirror; it names the Debian archive, so -security suites use its sibling `<mirror>-security` when it
 * ends in /debian), the spec's own mirror, the host's mirror for that suite. Keyrings: the spec's, else the
 * host entry's Signed-By, else Debian's archive keyring.
 */
export function repositorySourcesFor(
  specs: readonly SourceSpec[],
  host: readonly AptSourceEntry[],
  opts: {mirrorOverride?: string} = {},
): RepositorySource[] {
  const out: RepositorySource[] = []
  for (const spec of specs) {
    for (const suite of spec.suites) {
      const hostMirror = mirrorForSuite(host, suite)
      let uri: string
      if (opts.mirrorOverride) {
        const m = trimSlash(opts.mirrorOverride)
        uri = splitSuite(suite).suffix === '-security' && lastPathSegment(m) === 'debian' ? `${m}-security` : m
      } else {
        uri = spec.mirror ? trimSlash(spec.mirror) : hostMirror.uri
      }
      const keyrings = spec.keyrings?.length
        ? [...spec.keyrings]
        : hostMirror.keyrings.length && !opts.mirrorOverride && !spec.mirror
          ? [...hostMirror.keyrings]
          : [DEBIAN_ARCHIVE_KEYRING]
      out.push({uri, suite, components: [...spec.components], keyrings})
    }
  }
  return out
}

/** bookworm, bookworm-updates and bookworm-security main, from the host's sources under `root`. */
export async function hostRepositorySources(root = '/'): Promise<RepositorySource[]> {
  const host = await readHostSources(root)
  return repositorySourcesFor([{suites: ['bookworm', 'bookworm-updates', 'bookworm-security'], components: ['main']}], host)
}
