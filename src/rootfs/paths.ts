/**
 * Pure path rules of the rootfs stage: where a path from a package lands in a merged-/usr image, which paths
 * are unsafe, and which ones a recipe excludes. No I/O here.
 */

/** Top-level directories that are symlinks into usr/ in a merged-/usr image (`bin -> usr/bin`). */
export const MERGED_USR_ALIASES = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const

/** Aliases every image gets; the multilib ones are added only when some package ships files there. */
export const ALWAYS_ALIASED = ['bin', 'sbin', 'lib'] as const

const ALIAS_SET: ReadonlySet<string> = new Set(MERGED_USR_ALIASES)

export type PathProblem = 'empty' | 'nul' | 'dotdot' | 'absolute'

export type CanonicalPath =
  | {ok: true; path: string; /** the package named a top-level alias itself (`./bin`) */ alias?: string}
  | {ok: false; problem: PathProblem}

/**
 * Canonicalise a path as it appears in a package's data.tar (`./bin/ls`, `usr/bin/x`, `./`) to an image path
 * without leading or trailing slash ('' is the root). Paths under a merged-/usr alias move into usr/.
 * A `..` component anywhere, a NUL, or an absolute name is rejected: dpkg-deb always writes `./`-relative
 * names, so anything else is a crafted archive.
 */
export function canonicalPackagePath(raw: string): CanonicalPath {
  if (raw.includes('\0')) return {ok: false, problem: 'nul'}
  if (raw.startsWith('/')) return {ok: false, problem: 'absolute'}
  const parts: string[] = []
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') return {ok: false, problem: 'dotdot'}
    parts.push(part)
  }
  const first = parts[0]
  if (first !== undefined && ALIAS_SET.has(first)) {
    parts.unshift('usr')
    return parts.length === 2 ? {ok: true, path: parts.join('/'), alias: first} : {ok: true, path: parts.join('/')}
  }
  return {ok: true, path: parts.join('/')}
}

/** The merged-/usr alias a canonical image path lives under (`usr/lib64/x` → 'lib64'), if any. */
export function aliasOf(imagePath: string): string | undefined {
  if (!imagePath.startsWith('usr/')) return undefined
  const second = imagePath.slice(4).split('/', 1)[0]!
  return ALIAS_SET.has(second) ? second : undefined
}

export function describeProblem(problem: PathProblem): string {
  switch (problem) {
    case 'empty':
      return 'empty path'
    case 'nul':
      return 'path contains a NUL byte'
    case 'dotdot':
      return "path contains '..'"
    case 'absolute':
      return 'absolute path'
  }
}

/**
 * Exclude globs over image paths, as recipes write them (`/usr/share/doc/**`, `/usr/share/locale/*`).
 *   `*`  any run of characters within one path component
 *   `?`  one character other than '/'
 *   `**` as a whole component: zero or more components; as the last component: one or more, so
 *        `/usr/share/doc/**` removes the contents of usr/share/doc but keeps the directory itself.
 * A leading '/' is optional; patterns are always anchored at the image root. A path is excluded when it or
 * any of its ancestors matches, so excluding a directory excludes everything below it — unless the path
 * itself matches a keep glob (keep wins; it does not revive the contents of a folder excluded whole).
 */
export class ExcludeMatcher {
  private readonly regexes: RegExp[]
  private readonly keepRegexes: RegExp[]

  constructor(
    readonly globs: readonly string[],
    readonly keep: readonly string[] = [],
  ) {
    this.regexes = globs.map(globToRegExp)
    this.keepRegexes = keep.map(globToRegExp)
  }

  get empty(): boolean {
    return this.regexes.length === 0
  }

  /** Does the pattern set match this exact path (not considering ancestors)? */
  matchesSelf(path: string): boolean {
    for (const re of this.regexes) if (re.test(path)) return true
    return false
  }

  /** Is `path` (an image path) excluded, itself or through an ancestor? */
  excludes(path: string): boolean {
    if (this.regexes.length === 0 || path === '') return false
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      if (this.matchesSelf(path.slice(0, i))) return true
    }
    return this.matchesSelf(path) && !this.keepRegexes.some((re) => re.test(path))
  }
}

export function matchesExclude(path: string, globs: readonly string[]): boolean {
  return new ExcludeMatcher(globs).excludes(path)
}

export function globToRegExp(glob: string): RegExp {
  const parts = glob.split('/').filter((p, i) => !(i === 0 && p === ''))
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  let re = '^'
  parts.forEach((part, i) => {
    const last = i === parts.length - 1
    const sep = i === 0 ? '' : '/'
    if (part === '**') {
      // Trailing '**': one or more components below; inner '**': zero or more components.
      re += last ? `${sep}[^/].*` : i === 0 ? '(?:[^/]+/)*' : '(?:/[^/]+)*'
      return
    }
    // After a leading '**' the separator was already consumed by its '(?:x/)*' group.
    const afterLeadingStar = i === 1 && parts[0] === '**'
    re += (afterLeadingStar ? '' : sep) + componentToRegExp(part)
  })
  return new RegExp(`${re}$`)
}

function componentToRegExp(part: string): string {
  let out = ''
  for (const ch of part) {
    if (ch === '*') out += '[^/]*'
    else if (ch === '?') out += '[^/]'
    else out += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')
  }
  return out
}
