import {KeelError} from '../core/errors.js'
import type {VersionOp} from './version.js'

/**
 * Relationship fields of binary packages (Depends, Pre-Depends, Conflicts, Breaks, Provides...), Debian
 * Policy 7.1: `name[:arch] [(op version)] [\[arch list\]] [<profiles>...]`, alternatives separated by `|`,
 * groups by `,`.
 */

export interface Relation {
  name: string
  /** The `:qualifier` after the name: 'any', 'native' or an architecture name. */
  archQualifier?: string
  op?: VersionOp
  version?: string
}

/** One comma-separated group: satisfied when any of its alternatives is. */
export type Alternatives = Relation[]

export interface ParseRelationsOptions {
  /** Our architecture: alternatives whose `[arch list]` excludes it are dropped. Without it, none are. */
  architecture?: string
  /** Field name for error messages, e.g. 'Depends'. */
  fieldName?: string
}

export class RelationSyntaxError extends KeelError {
  constructor(
    readonly field: string,
    readonly problem: string,
    fieldName?: string,
  ) {
    super(`invalid ${fieldName ?? 'relationship'} field '${field}': ${problem}`, 'input')
    this.name = 'RelationSyntaxError'
  }
}

const NAME = /^[a-z0-9][a-z0-9+.-]*$/
const OPS: Record<string, VersionOp> = {'<<': '<<', '<=': '<=', '=': '=', '>=': '>=', '>>': '>>', '<': '<=', '>': '>='}

// name, optional :qualifier, optional (op version), optional [archs], any number of <profiles>
const RELATION =
  /^([^\s:(\[<|,]+)(?::([^\s(\[<|,]+))?\s*(?:\(\s*(<<|<=|>=|>>|<|>|=)\s*([^\s)<>=][^\s)]*)\s*\))?\s*(?:\[([^\]]*)\])?\s*((?:<[^>]*>\s*)*)$/

/** Parse a Depends-style field into groups of alternatives (an empty field gives []). */
export function parseRelations(field: string, opts: ParseRelationsOptions = {}): Alternatives[] {
  const groups: Alternatives[] = []
  const text = field.replace(/\s+/g, ' ').trim()
  if (text === '') return groups
  for (const groupText of text.split(',')) {
    if (groupText.trim() === '') throw new RelationSyntaxError(field, 'empty relation between commas', opts.fieldName)
    const group: Relation[] = []
    let hadAlternative = false
    for (const altText of groupText.split('|')) {
      hadAlternative = true
      const parsed = parseOne(altText.trim(), field, opts)
      if (parsed) group.push(parsed)
    }
    // A group whose every alternative is for other architectures does not apply to us at all.
    if (hadAlternative && group.length > 0) groups.push(group)
  }
  return groups
}

function parseOne(text: string, field: string, opts: ParseRelationsOptions): Relation | undefined {
  if (text === '') throw new RelationSyntaxError(field, "empty alternative around '|'", opts.fieldName)
  const m = RELATION.exec(text)
  if (!m) throw new RelationSyntaxError(field, `cannot parse '${text}'`, opts.fieldName)
  const [, name, qualifier, op, version, archList] = m
  if (!NAME.test(name!)) throw new RelationSyntaxError(field, `invalid package name '${name}'`, opts.fieldName)
  if (archList !== undefined && opts.architecture && !archListMatches(archList, opts.architecture)) return undefined
  const rel: Relation = {name: name!}
  if (qualifier !== undefined) rel.archQualifier = qualifier
  if (op !== undefined) {
    rel.op = OPS[op]!
    rel.version = version!
  }
  return rel
}

/** `[amd64 !i386 linux-any]`: positive lists include, negated lists exclude (policy forbids mixing). */
export function archListMatches(list: string, architecture: string): boolean {
  const entries = list.trim().split(/\s+/).filter(Boolean)
  if (entries.length === 0) return true
  const negated = entries.every((e) => e.startsWith('!'))
  const hit = entries.some((e) => archWildcardMatches(e.replace(/^!/, ''), architecture))
  return negated ? !hit : hit
}

/** Architecture wildcards for the Linux ports keel targets: `any`, `linux-any`, `any-amd64`, or a name. */
function archWildcardMatches(pattern: string, architecture: string): boolean {
  if (pattern === architecture || pattern === 'any') return true
  if (pattern === 'linux-any') return !architecture.includes('-')
  if (pattern.startsWith('any-')) return pattern.slice(4) === architecture
  if (pattern.startsWith('linux-')) return pattern.slice(6) === architecture
  return false
}

export interface Provide {
  name: string
  archQualifier?: string
  /** Set only for versioned provides `(= version)`: only those satisfy versioned dependencies. */
  version?: string
}

/**
 * Parse a Provides field. Like apt, a relation other than `=` is not a provide (apt warns and drops it);
 * alternatives are not allowed here.
 */
export function parseProvides(field: string): Provide[] {
  const out: Provide[] = []
  for (const group of parseRelations(field, {fieldName: 'Provides'})) {
    if (group.length !== 1) throw new RelationSyntaxError(field, "alternatives '|' are not allowed in Provides", 'Provides')
    const rel = group[0]!
    if (rel.op !== undefined && rel.op !== '=') continue
    const p: Provide = {name: rel.name}
    if (rel.archQualifier !== undefined) p.archQualifier = rel.archQualifier
    if (rel.version !== undefined) p.version = rel.version
    out.push(p)
  }
  return out
}

/** Render a relation the way it appears in a control file, for messages. */
export function formatRelation(rel: Relation): string {
  const name = rel.archQualifier ? `${rel.name}:${rel.archQualifier}` : rel.name
  return rel.op ? `${name} (${rel.op} ${rel.version})` : name
}

export function formatAlternatives(group: Alternatives): string {
  return group.map(formatRelation).join(' | ')
}
