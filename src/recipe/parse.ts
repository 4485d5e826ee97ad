import {Ajv, type ErrorObject} from 'ajv'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {type Diagnostic, error, warning} from '../core/diagnostics.js'
import {schemaDiagnostics} from '../core/schema.js'
import type {Location} from '../core/source.js'
import {parseYaml, type PathSegment, pointerToPath, type PositionMap} from '../core/yaml.js'
import type {UsrFilesystemName} from '../fsimage/usr.js'
import type {FileSpec, GroupSpec, ImageIdentity, PackageSpec, SourceSpec, UserSpec} from './types.js'
import type {UsrLayer} from './usr.js'

/** One recipe file, validated and typed, before includes are merged. Every item remembers its location. */
export interface RecipeLayer {
  file: string
  include: Array<{path: string; location: Location}>
  image: Partial<ImageIdentity>
  distribution: {architecture?: string; essential?: boolean; sources?: SourceSpec[]}
  packages: PackageSpec[]
  exclude: {packages: Array<{name: string; location: Location}>; paths: string[]; keep: string[]}
  users: UserSpec[]
  groups: GroupSpec[]
  files: FileSpec[]
  units: {enable: string[]; disable: string[]; mask: string[]}
  kernel: {cmdline: string[]}
  /** Checked against the filesystem registry when layers merge (a compression depends on the filesystem in effect). */
  usr: UsrLayer
}

const schemaPath = fileURLToPath(new URL('../../schemas/recipe.schema.json', import.meta.url))
let validator: ReturnType<Ajv['compile']> | undefined

function validate(value: unknown): ErrorObject[] {
  if (!validator) {
    const ajv = new Ajv({allErrors: true, strict: true, allowUnionTypes: true})
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')))
  }
  return validator(value) ? [] : [...(validator.errors ?? [])]
}

/** Turn one ajv error into a located diagnostic with a message a recipe author understands. */
export function schemaDiagnostic(e: ErrorObject, positions: PositionMap): Diagnostic | undefined {
  const path = pointerToPath(e.instancePath)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as {additionalProperty: string}).additionalProperty)
      const where = path.length ? `in '${path.join('.')}'` : 'at the top level'
      return error(`unknown key '${key}' ${where}`, positions.keyOf([...path, key]))
    }
    case 'required':
      return error(`missing required key '${(e.params as {missingProperty: string}).missingProperty}'`, positions.value(path))
    case 'oneOf':
    case 'if':
      return undefined // the branch errors say more
    case 'type':
      return error(`'${lastName(path)}' must be ${article((e.params as {type: string}).type)}`, positions.value(path))
    case 'enum':
      return error(`'${lastName(path)}' must be one of: ${(e.params as {allowedValues: unknown[]}).allowedValues.join(', ')}`, positions.value(path))
    case 'pattern':
      return error(`'${lastName(path)}' has an invalid value (expected to match ${(e.params as {pattern: string}).pattern})`, positions.value(path))
    default:
      return error(`'${lastName(path)}' ${e.message ?? 'is invalid'}`, positions.value(path))
  }
}

function lastName(path: PathSegment[]): string {
  const named = [...path].reverse().find((s) => typeof s === 'string')
  const idx = path.length && typeof path[path.length - 1] === 'number' ? `[${path[path.length - 1]}]` : ''
  return `${named ?? 'recipe'}${idx}`
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

/** Parse and validate one recipe file. Pure: the caller supplies the text. */
export function parseRecipeFile(
  file: string,
  text: string,
): {layer?: RecipeLayer; includes: RecipeLayer['include']; diagnostics: Diagnostic[]} {
  const parsed = parseYaml(file, text)
  const diagnostics = [...parsed.diagnostics]
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return {includes: [], diagnostics}
  const value = parsed.value ?? {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {includes: [], diagnostics: [error('a recipe must be a mapping of keys (image, packages, ...)', parsed.positions.value([]))]}
  }
  // Includes are followed even when this file has errors, so one run reports the problems of every file.
  const rawInclude = (value as {include?: unknown}).include
  const includes = Array.isArray(rawInclude)
    ? rawInclude.flatMap((p, i) => (typeof p === 'string' ? [{path: p, location: parsed.positions.value(['include', i])}] : []))
    : []
  diagnostics.push(...schemaDiagnostics(validate(value), (e) => schemaDiagnostic(e, parsed.positions)))
  if (diagnostics.some((d) => d.severity === 'error')) return {includes, diagnostics}
  const layer = toLayer(file, value as RawRecipe, parsed.positions, diagnostics)
  return {layer, includes, diagnostics}
}

// The YAML shape the schema admits.
interface RawRecipe {
  include?: string[]
  image?: Partial<ImageIdentity>
  distribution?: {architecture?: string; essential?: boolean; sources?: Array<{suites: string[]; components?: string[]; mirror?: string; keyrings?: string[]}>}
  packages?: string[]
  exclude?: {packages?: string[]; paths?: string[]; keep?: string[]}
  users?: Array<Omit<UserSpec, 'groups' | 'system'> & {groups?: string[]; system?: boolean}>
  groups?: Array<{name: string; gid?: number; system?: boolean}>
  files?: Array<{path: string; mode?: number | string; uid?: number; gid?: number; content?: string; source?: string}>
  units?: {enable?: string[]; disable?: string[]; mask?: string[]}
  kernel?: {cmdline?: string[]}
  usr?: {filesystem?: UsrFilesystemName; compression?: string}
}

function toLayer(file: string, raw: RawRecipe, pos: PositionMap, diagnostics: Diagnostic[]): RecipeLayer {
  const packages: PackageSpec[] = []
  const seenPackages = new Map<string, number>()
  ;(raw.packages ?? []).forEach((entry, i) => {
    const [name, version] = entry.split('=') as [string, string | undefined]
    const location = pos.value(['packages', i])
    if (seenPackages.has(name)) diagnostics.push(warning(`package '${name}' is listed twice`, location))
    seenPackages.set(name, i)
    packages.push(version ? {name, version, location} : {name, location})
  })
  const files: FileSpec[] = (raw.files ?? []).map((f, i) => {
    const location = pos.value(['files', i])
    if ((f.content === undefined) === (f.source === undefined)) {
      diagnostics.push(error(`file '${f.path}' needs exactly one of 'content' or 'source'`, location))
    }
    const mode = typeof f.mode === 'string' ? Number.parseInt(f.mode, 8) : (f.mode ?? 0o644)
    return {path: f.path, mode, uid: f.uid ?? 0, gid: f.gid ?? 0, content: f.content, source: f.source, location}
  })
  return {
    file,
    include: (raw.include ?? []).map((path, i) => ({path, location: pos.value(['include', i])})),
    image: {...raw.image},
    distribution: {
      architecture: raw.distribution?.architecture,
      essential: raw.distribution?.essential,
      sources: raw.distribution?.sources?.map((s) => ({suites: s.suites, components: s.components ?? ['main'], mirror: s.mirror, keyrings: s.keyrings})),
    },
    packages,
    exclude: {
      packages: (raw.exclude?.packages ?? []).map((name, i) => ({name, location: pos.value(['exclude', 'packages', i])})),
      paths: raw.exclude?.paths ?? [],
      keep: raw.exclude?.keep ?? [],
    },
    users: (raw.users ?? []).map((u) => ({...u, groups: u.groups ?? [], system: u.system ?? false})),
    groups: (raw.groups ?? []).map((g) => ({...g, system: g.system ?? false})),
    files,
    units: {enable: raw.units?.enable ?? [], disable: raw.units?.disable ?? [], mask: raw.units?.mask ?? []},
    kernel: {cmdline: raw.kernel?.cmdline ?? []},
    usr: {
      ...raw.usr,
      locations: {
        filesystem: raw.usr?.filesystem === undefined ? undefined : pos.value(['usr', 'filesystem']),
        compression: raw.usr?.compression === undefined ? undefined : pos.value(['usr', 'compression']),
      },
    },
  }
}
