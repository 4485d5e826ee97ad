import type {Location} from '../core/source.js'
import {type PathSegment, PositionMap} from '../core/yaml.js'

/**
 * Positions by *normalized* path. cloud-config keys are read with `-` turned into `_` (as coreos-cloudinit
 * did), so `drop-ins` and `drop_ins` are one key; this maps the normalized path back to the one written.
 */
export class Locator {
  private readonly original = new Map<string, PathSegment[]>()

  constructor(readonly positions: PositionMap) {}

  record(normalized: readonly PathSegment[], original: readonly PathSegment[]): void {
    this.original.set(PositionMap.key(normalized), [...original])
  }

  private orig(path: readonly PathSegment[]): PathSegment[] {
    for (let n = path.length; n >= 0; n--) {
      const hit = this.original.get(PositionMap.key(path.slice(0, n)))
      if (hit) return [...hit, ...path.slice(n)]
    }
    return [...path]
  }

  /** Where the value at `path` is written. */
  value(path: readonly PathSegment[]): Location {
    return this.positions.value(this.orig(path))
  }

  /** Where the key introducing `path` is written (array elements: the element). */
  key(path: readonly PathSegment[]): Location {
    return this.positions.keyOf(this.orig(path))
  }

  /** A scalar exactly as written (e.g. `0644`, `off`, `10:00`), quotes included. */
  raw(path: readonly PathSegment[]): string | undefined {
    return this.positions.rawText(this.orig(path))
  }

  /** Where the k-th (0-based) `needle` inside the value at `path` is written; the value itself if not found. */
  occurrence(path: readonly PathSegment[], needle: string, k: number): Location {
    const r = this.positions.range(this.orig(path))
    if (r) {
      const raw = this.positions.source.text.slice(r[0], r[1])
      let at = -1
      // Occurrences after a backslash are escapes, not uses: skip them as the translator does.
      for (let i = 0; i <= k; i++) {
        do at = raw.indexOf(needle, at + 1)
        while (at > 0 && raw[at - 1] === '\\')
        if (at < 0) break
      }
      if (at >= 0) return this.positions.source.locate(r[0] + at, needle.length)
    }
    return this.value(path)
  }

  /** The key as the user spelled it (`drop-ins` or `drop_ins`), for messages. */
  spelling(path: readonly PathSegment[]): string {
    const last = this.orig(path).at(-1)
    return last === undefined ? '' : String(last)
  }
}

/** `coreos.units[2].drop_ins` style, for messages. */
export function describePath(path: readonly PathSegment[]): string {
  let out = ''
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg
  return out
}
