import {Ajv, type ErrorObject} from 'ajv'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type Diagnostic, error, hasErrors} from '../core/diagnostics.js'
import {schemaDiagnostics} from '../core/schema.js'
import {DiagnosticsError, KeelError} from '../core/errors.js'
import type {Location} from '../core/source.js'
import {parseYaml, type PathSegment, pointerToPath, type PositionMap} from '../core/yaml.js'
import type {PartitionAttributes} from './attributes.js'
import type {PartitionTypeName} from './guids.js'

/**
 * Disk layouts are data: images/layouts/<name>.yaml, a base plus per-platform overlays (`extends`). This
 * module parses and validates each file (JSON Schema, located diagnostics) and merges the chain; planning
 * sectors is plan.ts's job.
 */

export type ContentKind = 'vfat' | 'ext4' | 'usr' | 'verity' | 'empty'
export type SlotName = 'A' | 'B'

export interface LayoutPartition {
  name: string
  /** GPT entry number (1-based): pinned in the layout or one more than the previous partition's. */
  number: number
  type: PartitionTypeName
  /** Bytes; the minimum when `grow` is set. */
  size: number
  grow: boolean
  content: ContentKind
  /** Filesystem label (vfat/ext4). */
  label: string
  slot?: SlotName
  guid?: string
  attributes: Partial<PartitionAttributes>
  /** Where the partition was (last) described, for diagnostics about it. */
  location: Location
}

export interface Layout {
  /** The file name without .yaml of the top layout (e.g. "azure"). */
  name: string
  /** Every file that contributed, base first. */
  files: string[]
  disk: {alignment: number; sizeAlignment: number; size?: number}
  partitions: LayoutPartition[]
}

export const LAYOUT_DEFAULTS = {alignment: 1 << 20, sizeAlignment: 4096} as const

export const LAYOUTS_DIR = fileURLToPath(new URL('../../images/layouts/', import.meta.url))
const schemaPath = fileURLToPath(new URL('../../schemas/layout.schema.json', import.meta.url))

// ---- one file ------------------------------------------------------------------------------------------------

interface RawPartition {
  name: string
  number?: number
  type?: PartitionTypeName
  size?: number | string
  grow?: boolean
  content?: ContentKind
  label?: string
  slot?: SlotName
  guid?: string
  attributes?: Partial<PartitionAttributes>
  after?: string
  remove?: boolean
}

interface RawLayout {
  extends?: string
  description?: string
  disk?: {alignment?: number | string; sizeAlignment?: number | string; size?: number | string}
  partitions?: RawPartition[]
}

/** One parsed, schema-valid layout file; values keep the positions needed to point at them later. */
export interface LayoutLayer {
  file: string
  extends?: {path: string; location: Location}
  raw: RawLayout
  positions: PositionMap
}

let validator: ReturnType<Ajv['compile']> | undefined

function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv({allErrors: true, strict: true, allowUnionTypes: true}).compile(JSON.parse(readFileSync(schemaPath, 'utf8')))
  return validator(value) ? [] : [...(validator.errors ?? [])]
}

function schemaDiagnostic(e: ErrorObject, positions: PositionMap): Diagnostic | undefined {
  const path = pointerToPath(e.instancePath)
  const what = describe(path)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as {additionalProperty: string}).additionalProperty)
      return error(`unknown key '${key}' ${path.length ? `in ${what}` : 'at the top level'}`, positions.keyOf([...path, key]))
    }
    case 'required':
      return error(`missing required key '${(e.params as {missingProperty: string}).missingProperty}' in ${what}`, positions.value(path))
    case 'enum':
      return error(`${what} must be one of: ${(e.params as {allowedValues: unknown[]}).allowedValues.join(', ')}`, positions.value(path))
    case 'pattern':
      return error(`${what} has an invalid value '${positions.rawText(path) ?? ''}'`, positions.value(path))
    case 'type':
      return error(`${what} must be ${(e.params as {type: string | string[]}).type.toString().replace(',', ' or ')}`, positions.value(path))
    default:
      return error(`${what} ${e.message ?? 'is invalid'}`, positions.value(path))
  }
}

function describe(path: PathSegment[]): string {
  if (!path.length) return 'the layout'
  return `'${path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[')}'`
}

/** Parse and validate one layout file. Pure: the caller supplies the text. */
export function parseLayoutFile(file: string, text: string): {layer?: LayoutLayer; diagnostics: Diagnostic[]} {
  const parsed = parseYaml(file, text)
  const diagnostics = [...parsed.diagnostics]
  if (hasErrors(diagnostics)) return {diagnostics}
  const value = parsed.value ?? {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {diagnostics: [error('a layout must be a mapping (disk, partitions, ...)', parsed.positions.value([]))]}
  }
  diagnostics.push(...schemaDiagnostics(validate(value), (e) => schemaDiagnostic(e, parsed.positions)))
  if (hasErrors(diagnostics)) return {diagnostics}
  const raw = value as RawLayout
  const layer: LayoutLayer = {file, raw, positions: parsed.positions}
  if (raw.extends) layer.extends = {path: raw.extends, location: parsed.positions.value(['extends'])}
  return {layer, diagnostics}
}

const UNITS: Record<string, number> = {B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4}

/** `2GiB` → 2147483648. The schema has already checked the shape. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value
  const m = /^([0-9]+) ?(B|KiB|MiB|GiB|TiB)?$/.exec(value)
  if (!m) throw new KeelError(`not a size: ${value}`, 'input')
  return Number(m[1]) * UNITS[m[2] ?? 'B']!
}

// ---- merging -------------------------------------------------------------------------------------------------

interface Draft extends Omit<Partial<LayoutPartition>, 'location' | 'number'> {
  number?: number
  name: string
  location: Location
  /** Where the size came from, to point at it when it is wrong. */
  sizeLocation?: Location
}

/**
 * Merge layers, base first. Disk keys: the later layer overrides. Partitions are keyed by name: fields an
 * overlay lists replace the base's (attributes field by field), `remove: true` drops the partition, a new
 * name is inserted after `after` or appended. Then the whole layout is checked; every problem is returned.
 */
export function mergeLayoutLayers(name: string, layers: readonly LayoutLayer[]): {layout?: Layout; diagnostics: Diagnostic[]} {
  const diagnostics: Diagnostic[] = []
  const disk: Layout['disk'] = {...LAYOUT_DEFAULTS}
  const diskLocations: Partial<Record<keyof Layout['disk'], Location>> = {}
  let drafts: Draft[] = []
  for (const layer of layers) {
    const pos = layer.positions
    for (const key of ['alignment', 'sizeAlignment', 'size'] as const) {
      const v = layer.raw.disk?.[key]
      if (v === undefined) continue
      disk[key] = parseSize(v)
      diskLocations[key] = pos.value(['disk', key])
    }
    const namesInLayer = new Set<string>()
    ;(layer.raw.partitions ?? []).forEach((p, i) => {
      const at = (field: string): Location => pos.value(['partitions', i, field])
      if (namesInLayer.has(p.name)) {
        diagnostics.push(error(`partition '${p.name}' is listed twice in this file`, at('name')))
        return
      }
      namesInLayer.add(p.name)
      const existing = drafts.findIndex((d) => d.name === p.name)
      if (p.remove) {
        if (existing < 0) diagnostics.push(error(`cannot remove '${p.name}': no such partition in the layouts below this one`, at('name')))
        else drafts.splice(existing, 1)
        return
      }
      const fields: Partial<Draft> = {location: at('name')}
      if (p.number !== undefined) fields.number = p.number
      if (p.type !== undefined) fields.type = p.type
      if (p.size !== undefined) {
        fields.size = parseSize(p.size)
        fields.sizeLocation = at('size')
      }
      if (p.grow !== undefined) fields.grow = p.grow
      if (p.content !== undefined) fields.content = p.content
      if (p.label !== undefined) fields.label = p.label
      if (p.slot !== undefined) fields.slot = p.slot
      if (p.guid !== undefined) fields.guid = p.guid.toLowerCase()
      if (existing >= 0) {
        const old = drafts[existing]!
        drafts[existing] = {...old, ...fields, attributes: {...old.attributes, ...p.attributes}}
        if (p.after !== undefined) diagnostics.push(error(`'after' only places new partitions; '${p.name}' already exists`, at('after')))
        return
      }
      const draft: Draft = {name: p.name, ...fields, location: at('name'), attributes: {...p.attributes}}
      if (p.after === undefined) drafts.push(draft)
      else {
        const anchor = drafts.findIndex((d) => d.name === p.after)
        if (anchor < 0) {
          diagnostics.push(error(`no partition named '${p.after}' to place '${p.name}' after`, at('after')))
          drafts.push(draft)
        } else drafts = [...drafts.slice(0, anchor + 1), draft, ...drafts.slice(anchor + 1)]
      }
    })
  }
  const numbers = numberPartitions(drafts, diagnostics)
  const partitions = drafts.map((d, i) => complete(d, numbers[i]!, diagnostics)).filter((p): p is LayoutPartition => p !== undefined)
  checkLayout(disk, diskLocations, drafts, partitions, diagnostics)
  if (hasErrors(diagnostics)) return {diagnostics}
  return {layout: {name, files: layers.map((l) => l.file), disk, partitions}, diagnostics}
}

/** Entry numbers in disk order: pinned ones as given, the others one more than the partition before. */
function numberPartitions(drafts: Draft[], diagnostics: Diagnostic[]): number[] {
  const used = new Map<number, string>()
  let previous = 0
  return drafts.map((d) => {
    const n = d.number ?? previous + 1
    const other = used.get(n)
    if (other !== undefined) diagnostics.push(error(`partitions '${other}' and '${d.name}' would both be number ${n}; pin distinct numbers`, d.location))
    else if (n > 128) diagnostics.push(error(`partition '${d.name}' would be number ${n}, beyond the 128 GPT entries`, d.location))
    used.set(n, d.name)
    previous = n
    return n
  })
}

function complete(d: Draft, number: number, diagnostics: Diagnostic[]): LayoutPartition | undefined {
  const missing = (['type', 'size', 'content'] as const).filter((k) => d[k] === undefined)
  if (missing.length) {
    diagnostics.push(error(`partition '${d.name}' has no ${missing.join(', ')}`, d.location))
    return undefined
  }
  return {
    name: d.name,
    number,
    type: d.type!,
    size: d.size!,
    grow: d.grow ?? false,
    content: d.content!,
    label: d.label ?? d.name,
    ...(d.slot ? {slot: d.slot} : {}),
    ...(d.guid ? {guid: d.guid} : {}),
    attributes: d.attributes ?? {},
    location: d.location,
  }
}

const SECTOR = 512

function checkLayout(
  disk: Layout['disk'],
  diskLocations: Partial<Record<keyof Layout['disk'], Location>>,
  drafts: Draft[],
  partitions: LayoutPartition[],
  diagnostics: Diagnostic[],
): void {
  for (const key of ['alignment', 'sizeAlignment', 'size'] as const) {
    const v = disk[key]
    if (v !== undefined && v % SECTOR) diagnostics.push(error(`disk ${key} ${v} is not a whole number of 512-byte sectors`, diskLocations[key]))
  }
  for (const d of drafts) {
    if (d.size !== undefined && d.size % SECTOR) diagnostics.push(error(`size of '${d.name}' (${d.size} bytes) is not a whole number of 512-byte sectors`, d.sizeLocation ?? d.location))
  }
  const growers = partitions.filter((p) => p.grow)
  for (const extra of growers.slice(1)) diagnostics.push(error(`only one partition may grow; '${growers[0]!.name}' already does`, extra.location))
  const guids = new Map<string, string>()
  for (const p of partitions) {
    if ((p.content === 'usr' || p.content === 'verity') && !p.slot) diagnostics.push(error(`partition '${p.name}' holds ${p.content} but names no slot (A or B)`, p.location))
    if (p.slot && p.content !== 'usr' && p.content !== 'verity') diagnostics.push(error(`only usr and verity partitions belong to a slot; '${p.name}' holds ${p.content}`, p.location))
    if (p.guid) {
      const other = guids.get(p.guid)
      if (other) diagnostics.push(error(`partitions '${other}' and '${p.name}' have the same GUID`, p.location))
      guids.set(p.guid, p.name)
    }
  }
  for (const slot of ['A', 'B'] as const) {
    for (const kind of ['usr', 'verity'] as const) {
      const holders = partitions.filter((p) => p.slot === slot && p.content === kind)
      for (const extra of holders.slice(1)) diagnostics.push(error(`slot ${slot} already has a ${kind} partition ('${holders[0]!.name}')`, extra.location))
    }
    const hasVerity = partitions.some((p) => p.slot === slot && p.content === 'verity')
    const usr = partitions.find((p) => p.slot === slot && p.content === 'usr')
    if (hasVerity && !usr) diagnostics.push(error(`slot ${slot} has a verity partition but no usr partition`, partitions.find((p) => p.slot === slot)!.location))
  }
}

// ---- files ---------------------------------------------------------------------------------------------------

/** The layout file for a platform name (images/layouts/<platform>.yaml), or a path given as is. */
export function layoutFile(platformOrPath: string): string {
  return /[/\\]|\.ya?ml$/.test(platformOrPath) ? resolve(platformOrPath) : resolve(LAYOUTS_DIR, `${platformOrPath}.yaml`)
}

/** Read a layout and the chain it extends, validate and merge; all problems of all files are thrown at once. */
export function loadLayout(platformOrPath: string): Layout {
  const top = layoutFile(platformOrPath)
  if (!existsSync(top)) throw new KeelError(`layout not found: ${top}`, 'input', `layouts live in ${LAYOUTS_DIR}`)
  const diagnostics: Diagnostic[] = []
  const chain: LayoutLayer[] = []
  const seen: string[] = []
  let file: string | undefined = top
  let via: Location | undefined
  while (file) {
    if (seen.includes(file)) {
      diagnostics.push(error(`extends cycle: ${[...seen, file].join(' -> ')}`, via))
      break
    }
    seen.push(file)
    if (!existsSync(file)) {
      diagnostics.push(error(`extended layout not found: ${file}`, via))
      break
    }
    const {layer, diagnostics: found} = parseLayoutFile(displayPath(file), readFileSync(file, 'utf8'))
    diagnostics.push(...found)
    if (!layer) break
    chain.unshift(layer)
    via = layer.extends?.location
    file = layer.extends ? resolve(dirname(file), layer.extends.path) : undefined
  }
  if (hasErrors(diagnostics)) throw new DiagnosticsError(diagnostics)
  const name = top.replace(/^.*[/\\]/, '').replace(/\.ya?ml$/, '')
  const merged = mergeLayoutLayers(name, chain)
  if (!merged.layout) throw new DiagnosticsError([...diagnostics, ...merged.diagnostics])
  return merged.layout
}

function displayPath(f: string): string {
  return f.startsWith(`${process.cwd()}/`) ? f.slice(process.cwd().length + 1) : f
}
