/**
 * Release versions, Flatcar-style: MAJOR.MINOR.PATCH where MAJOR counts days since the CoreOS epoch
 * (2013-07-01) at the build's SOURCE_DATE_EPOCH, MINOR is the channel (0 alpha, 1 beta, 2 stable, 3 lts) and
 * PATCH counts releases of one MAJOR within one channel. Versions only grow inside a channel and are never
 * reused: the next number is always above every version the channel has, indexed or merely on disk.
 */

export const CHANNELS = {alpha: 0, beta: 1, stable: 2, lts: 3} as const
export type Channel = keyof typeof CHANNELS
export const CHANNEL_NAMES = Object.keys(CHANNELS) as Channel[]

/** 2013-07-01T00:00:00Z, the epoch Container Linux and Flatcar count build days from. */
export const VERSION_EPOCH = 1372636800

export interface Version {
  major: number
  minor: number
  patch: number
}

const VERSION_RE = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/

export function isChannel(name: string): name is Channel {
  return Object.hasOwn(CHANNELS, name)
}

export function parseVersion(text: string): Version | undefined {
  const m = VERSION_RE.exec(text)
  if (!m) return undefined
  return {major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3])}
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}`
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

/** Sort version strings ascending; strings that are not versions are left out. */
export function sortVersions(texts: Iterable<string>): string[] {
  return [...texts]
    .map((t) => ({t, v: parseVersion(t)}))
    .filter((x): x is {t: string; v: Version} => x.v !== undefined)
    .sort((a, b) => compareVersions(a.v, b.v))
    .map((x) => x.t)
}

export function daysSinceEpoch(sourceDateEpoch: number): number {
  return Math.max(0, Math.floor((sourceDateEpoch - VERSION_EPOCH) / 86400))
}

/**
 * The next version for a channel: MAJOR from the build day, but never below the newest MAJOR already there
 * (a build of an older commit still releases after the newer ones); PATCH one above the highest PATCH of that
 * MAJOR.MINOR. `existing` is every version the channel has for this architecture.
 */
export function nextVersion(channel: Channel, day: number, existing: readonly string[]): string {
  const minor = CHANNELS[channel]
  const parsed = existing.map(parseVersion).filter((v): v is Version => v !== undefined)
  const major = Math.max(day, ...parsed.map((v) => v.major))
  const sameLine = parsed.filter((v) => v.major === major && v.minor === minor)
  const patch = sameLine.length ? Math.max(...sameLine.map((v) => v.patch)) + 1 : 0
  const candidate = {major, minor, patch}
  // An explicit version of a higher MINOR in this channel (--version) could still sort above: step MAJOR.
  const newest = parsed.sort(compareVersions).at(-1)
  if (newest && compareVersions(candidate, newest) <= 0) return formatVersion({major: newest.major + 1, minor, patch: 0})
  return formatVersion(candidate)
}
