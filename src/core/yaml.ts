import {isAlias, isMap, isPair, isScalar, isSeq, type Node, parseDocument, type Tags} from 'yaml'
import {type Diagnostic, error} from './diagnostics.js'
import {type Location, SourceText} from './source.js'

export type PathSegment = string | number

/**
 * Where each value of a parsed YAML (or JSON) document came from. Paths are the same segments ajv's
 * instancePath and our own checks use, so any problem found in the data can be pointed back at the text.
 */
export class PositionMap {
  private readonly values = new Map<string, [number, number]>()
  private readonly keys = new Map<string, [number, number]>()

  constructor(readonly source: SourceText) {}

  static key(path: readonly PathSegment[]): string {
    return path.map(String).join('\u0000')
  }

  setValue(path: readonly PathSegment[], range: [number, number]): void {
    this.values.set(PositionMap.key(path), range)
  }

  setKey(path: readonly PathSegment[], range: [number, number]): void {
    this.keys.set(PositionMap.key(path), range)
  }

  /** Location of the value at `path`, or of its nearest located ancestor. */
  value(path: readonly PathSegment[]): Location {
    return this.find(path, this.values)
  }

  /** The exact source text of the value at `path` (no ancestor fallback), e.g. a scalar as written. */
  rawText(path: readonly PathSegment[]): string | undefined {
    const r = this.values.get(PositionMap.key(path))
    return r ? this.source.text.slice(r[0], r[1]) : undefined
  }

  /** The [start, end) offsets of the value at `path` itself, if recorded. */
  range(path: readonly PathSegment[]): [number, number] | undefined {
    return this.values.get(PositionMap.key(path))
  }

  /** Whether the value at `path` itself has a recorded position. */
  has(path: readonly PathSegment[]): boolean {
    return this.values.has(PositionMap.key(path))
  }

  /** Location of the key that introduces `path` (for "unknown key" errors), falling back to the value. */
  keyOf(path: readonly PathSegment[]): Location {
    const k = this.keys.get(PositionMap.key(path))
    return k ? this.source.locate(k[0], k[1] - k[0]) : this.value(path)
  }

  private find(path: readonly PathSegment[], table: Map<string, [number, number]>): Location {
    for (let n = path.length; n >= 0; n--) {
      const r = table.get(PositionMap.key(path.slice(0, n)))
      if (r) return this.source.locate(r[0], Math.max(1, r[1] - r[0]))
    }
    return this.source.locate(0)
  }
}

export interface ParsedYaml {
  value: unknown
  positions: PositionMap
  diagnostics: Diagnostic[]
}

export interface ParseYamlOptions {
  /**
   * YAML 1.1 meanings, as older tools (go-yaml v2) read them: `0644` is octal, `yes/no/on/off` are booleans,
   * `!!binary` is bytes. Sexagesimal numbers and timestamps are left out on purpose: `10:00` stays a string.
   */
  yaml11?: boolean
}

function withoutSexagesimalAndTimestamps(tags: Tags): Tags {
  return tags.filter((t) => {
    const tag = t as {tag?: string; format?: string}
    return tag.format !== 'TIME' && tag.tag !== 'tag:yaml.org,2002:timestamp'
  })
}

/** Parse YAML keeping positions. Syntax errors become located diagnostics, all of them. */
export function parseYaml(file: string, text: string, options: ParseYamlOptions = {}): ParsedYaml {
  const source = new SourceText(file, text)
  const positions = new PositionMap(source)
  const doc = parseDocument(text, {
    prettyErrors: false,
    uniqueKeys: true,
    merge: false,
    // Problems are reported as diagnostics; never let the parser print to stderr on its own.
    logLevel: 'error',
    ...(options.yaml11 ? {version: '1.1' as const, customTags: withoutSexagesimalAndTimestamps} : {}),
  })
  const diagnostics: Diagnostic[] = []
  for (const e of doc.errors) {
    const len = Math.max(1, e.pos[1] - e.pos[0])
    diagnostics.push(error(firstLine(e.message), source.locate(e.pos[0], len)))
  }
  for (const w of doc.warnings) {
    diagnostics.push({severity: 'warning', message: firstLine(w.message), location: source.locate(w.pos[0])})
  }
  if (doc.contents) walk(doc.contents as Node, [], positions)
  let value: unknown
  if (!diagnostics.some((d) => d.severity === 'error')) {
    try {
      value = doc.toJS({maxAliasCount: 100})
    } catch (err) {
      // e.g. an alias "bomb" (exponential expansion): refuse it as input, do not crash.
      diagnostics.push(error(firstLine((err as Error).message), source.locate(0)))
    }
  }
  return {value, positions, diagnostics}
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}

function walk(node: Node, path: PathSegment[], positions: PositionMap): void {
  if (node.range) positions.setValue(path, [node.range[0], node.range[1]])
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const keyNode = pair.key as Node | null
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode)
      const child = [...path, key]
      if (keyNode?.range) positions.setKey(child, [keyNode.range[0], keyNode.range[1]])
      if (pair.value) walk(pair.value as Node, child, positions)
      else if (keyNode?.range) positions.setValue(child, [keyNode.range[0], keyNode.range[1]])
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item && !isAlias(item)) walk(item as Node, [...path, i], positions)
      else if (item && (item as Node).range) positions.setValue([...path, i], [(item as Node).range![0], (item as Node).range![1]])
    })
  }
}

/** Turn a JSON pointer (ajv's instancePath) into path segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return []
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}
