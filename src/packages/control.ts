import {StringDecoder} from 'node:string_decoder'
import type {BinaryPackage} from './types.js'

/**
 * deb822 ("control file") parsing: Packages indexes, Release files, .sources files. Packages for one suite is
 * ~50 MB of text, so the parser walks the string with indexOf and charCodeAt rather than a regex per line,
 * and can skip fields the caller does not need (Description bodies are most of the bytes).
 */

export interface Paragraph {
  /** Field name as written → value. Continuation lines are joined with '\n', each minus its first blank. */
  fields: Map<string, string>
  /** 1-based line of the paragraph's first field, for diagnostics. */
  line: number
}

export interface ControlProblem {
  line: number
  message: string
}

export interface ParseOptions {
  /** Only keep these fields (exact spelling); others are skipped, folded lines included. */
  fields?: ReadonlySet<string>
  /**
   * Treat lines starting with '#' as comments. deb822 allows them in hand-written files (.sources,
   * debian/control) but a Packages index has none, so it is never needed there.
   */
  comments?: boolean
  /** Number of lines before `text` (when it is a piece of a larger file), so line numbers stay true. */
  lineOffset?: number
}

const NL = 10
const CR = 13
const SPACE = 32
const TAB = 9
const HASH = 35

/** Split deb822 text into paragraphs. Malformed lines are reported with their line number, not thrown. */
export function parseControl(
  text: string,
  opts: ParseOptions = {},
): {paragraphs: Paragraph[]; problems: ControlProblem[]; /** line number of the last line read */ lastLine: number} {
  const wantedByLength = opts.fields ? groupByLength(opts.fields) : undefined
  const comments = opts.comments ?? true
  const paragraphs: Paragraph[] = []
  const problems: ControlProblem[] = []
  let current: Paragraph | undefined
  // The field that continuation lines extend; undefined while skipping an unwanted field.
  let lastName: string | undefined
  let skipping = false
  let pos = 0
  let lineNo = opts.lineOffset ?? 0
  const len = text.length
  while (pos < len) {
    lineNo++
    let eol = text.indexOf('\n', pos)
    if (eol < 0) eol = len
    let end = eol
    if (end > pos && text.charCodeAt(end - 1) === CR) end--
    const first = end > pos ? text.charCodeAt(pos) : NL
    if (first === NL || isBlank(text, pos, end)) {
      current = undefined
      lastName = undefined
      skipping = false
    } else if (first === HASH && comments) {
      // Comment lines do not end a paragraph, nor a folded field.
    } else if (first === SPACE || first === TAB) {
      if (!skipping) {
        if (current && lastName !== undefined) {
          current.fields.set(lastName, `${current.fields.get(lastName)}\n${text.slice(pos + 1, end).trimEnd()}`)
        } else {
          problems.push({line: lineNo, message: 'continuation line outside a field'})
        }
      }
    } else {
      const colon = text.indexOf(':', pos)
      if (colon < 0 || colon >= end) {
        problems.push({line: lineNo, message: `expected 'Field: value', got '${text.slice(pos, end)}'`})
        skipping = true
      } else {
        // With a field filter, names are matched in place (no slice for the many skipped fields) and the
        // filter's own strings become the keys.
        const name = wantedByLength ? matchWanted(text, pos, colon - pos, wantedByLength) : text.slice(pos, colon)
        if (!current) {
          current = {fields: new Map(), line: lineNo}
          paragraphs.push(current)
        }
        if (name === undefined) {
          skipping = true
          lastName = undefined
        } else {
          skipping = false
          lastName = name
          if (current.fields.has(name)) problems.push({line: lineNo, message: `duplicate field '${name}'`})
          current.fields.set(name, text.slice(colon + 1, end).trim())
        }
      }
    }
    pos = eol + 1
  }
  return {paragraphs, problems, lastLine: lineNo}
}

function groupByLength(names: ReadonlySet<string>): Map<number, string[]> {
  const out = new Map<number, string[]>()
  for (const n of names) out.set(n.length, [...(out.get(n.length) ?? []), n])
  return out
}

function matchWanted(text: string, pos: number, length: number, byLength: Map<number, string[]>): string | undefined {
  const candidates = byLength.get(length)
  if (candidates) for (const c of candidates) if (text.startsWith(c, pos)) return c
  return undefined
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c !== SPACE && c !== TAB) return false
  }
  return true
}

/** Case-insensitive field lookup (deb822 field names are case-insensitive; indexes use canonical case). */
export function field(p: Paragraph, name: string): string | undefined {
  const exact = p.fields.get(name)
  if (exact !== undefined) return exact
  const lower = name.toLowerCase()
  for (const [k, v] of p.fields) if (k.toLowerCase() === lower) return v
  return undefined
}

/** The fields of a Packages stanza that BinaryPackage keeps; pass as `fields` to skip the rest quickly. */
export const BINARY_PACKAGE_FIELDS: ReadonlySet<string> = new Set([
  'Package',
  'Version',
  'Architecture',
  'Depends',
  'Pre-Depends',
  'Provides',
  'Conflicts',
  'Breaks',
  'Replaces',
  // Never followed, but apt's tie-break among equal providers counts names met in these fields too.
  'Recommends',
  'Suggests',
  'Enhances',
  'Essential',
  'Priority',
  'Multi-Arch',
  'Source',
  'Filename',
  'Size',
  'SHA256',
])

/**
 * A Packages stanza as a BinaryPackage, or a problem when a field keel needs is missing or malformed
 * (a stanza without SHA256 could not be verified, so it is not offered to the resolver).
 */
export function toBinaryPackage(p: Paragraph, repository: BinaryPackage['repository']): BinaryPackage | ControlProblem {
  const f = p.fields
  const name = f.get('Package')
  const version = f.get('Version')
  const architecture = f.get('Architecture')
  const filename = f.get('Filename')
  const sizeText = f.get('Size')
  const sha256 = f.get('SHA256')
  if (!name || !version || !architecture || !filename || !sizeText || !sha256) {
    const missing = ['Package', 'Version', 'Architecture', 'Filename', 'Size', 'SHA256'].filter((k) => !f.get(k))
    return {line: p.line, message: `package stanza${name ? ` '${name}'` : ''} lacks ${missing.join(', ')}`}
  }
  const size = Number(sizeText)
  if (!Number.isSafeInteger(size) || size < 0) return {line: p.line, message: `package '${name}': bad Size '${sizeText}'`}
  if (!/^[0-9a-f]{64}$/.test(sha256)) return {line: p.line, message: `package '${name}': bad SHA256 '${sha256}'`}
  const sourceField = f.get('Source')
  const pkg: BinaryPackage = {
    name,
    version,
    architecture,
    essential: f.get('Essential') === 'yes',
    source: sourceField ? sourceField.split(' ', 1)[0]! : name,
    filename,
    size,
    sha256,
    repository,
  }
  const optional: Array<[keyof BinaryPackage, string]> = [
    ['depends', 'Depends'],
    ['preDepends', 'Pre-Depends'],
    ['provides', 'Provides'],
    ['conflicts', 'Conflicts'],
    ['breaks', 'Breaks'],
    ['replaces', 'Replaces'],
    ['recommends', 'Recommends'],
    ['suggests', 'Suggests'],
    ['enhances', 'Enhances'],
    ['priority', 'Priority'],
    ['multiArch', 'Multi-Arch'],
  ]
  for (const [key, fieldName] of optional) {
    const v = f.get(fieldName)
    if (v !== undefined) (pkg as unknown as Record<string, string>)[key] = v
  }
  return pkg
}

export function isProblem(x: BinaryPackage | ControlProblem): x is ControlProblem {
  return (x as ControlProblem).message !== undefined && (x as BinaryPackage).name === undefined
}

/** Parse a whole Packages index into BinaryPackages; malformed stanzas are returned as problems. */
export function parsePackagesIndex(
  text: string,
  repository: BinaryPackage['repository'],
  lineOffset = 0,
): {packages: BinaryPackage[]; problems: ControlProblem[]; lastLine: number} {
  const {paragraphs, problems, lastLine} = parseControl(text, {fields: BINARY_PACKAGE_FIELDS, comments: false, lineOffset})
  const packages: BinaryPackage[] = []
  for (const p of paragraphs) {
    const r = toBinaryPackage(p, repository)
    if (isProblem(r)) problems.push(r)
    else packages.push(r)
  }
  return {packages, problems, lastLine}
}

/** Parse in pieces of about this many characters, each ending at a paragraph boundary. */
const STREAM_PIECE = 1 << 20

/**
 * parsePackagesIndex over a stream of bytes (e.g. the output of `xz -dc`): parsing overlaps with
 * decompression, and the whole text never has to be in memory at once.
 */
export async function parsePackagesStream(
  chunks: AsyncIterable<Uint8Array>,
  repository: BinaryPackage['repository'],
): Promise<{packages: BinaryPackage[]; problems: ControlProblem[]}> {
  const packages: BinaryPackage[] = []
  const problems: ControlProblem[] = []
  const decoder = new StringDecoder('utf8')
  let pending = ''
  let lineOffset = 0
  const parsePiece = (piece: string): void => {
    const r = parsePackagesIndex(piece, repository, lineOffset)
    for (const p of r.packages) packages.push(p)
    for (const p of r.problems) problems.push(p)
    // Pieces end with a newline, so the last line read is the last line of the piece.
    lineOffset = r.lastLine
  }
  for await (const chunk of chunks) {
    pending += decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
    if (pending.length < STREAM_PIECE) continue
    const boundary = pending.lastIndexOf('\n\n')
    if (boundary < 0) continue
    parsePiece(pending.slice(0, boundary + 2))
    pending = pending.slice(boundary + 2)
  }
  pending += decoder.end()
  if (pending) parsePiece(pending)
  return {packages, problems}
}
