import type {ErrorObject} from 'ajv'
import {type Diagnostic, error, hasErrors, warning} from '../core/diagnostics.js'
import {repairUnderIndentedQuotes} from './yaml-leniency.js'
import type {Location} from '../core/source.js'
import {type PathSegment, parseYaml, pointerToPath} from '../core/yaml.js'
import {compileSchema, schemaView} from './ajv.js'
import {CLOUD_CONFIG, cloudConfigSchema, type FieldSpec} from './cloud-config-schema.js'
import {Locator} from './locator.js'

export type Json = null | boolean | number | string | Uint8Array | Json[] | {[key: string]: Json}

export interface CheckedCloudConfig {
  /** Keys normalized (`-` → `_`), scalars coerced to the type each key wants; undefined after a YAML error. */
  value: Record<string, Json> | undefined
  loc: Locator
  diagnostics: Diagnostic[]
}

/** Keys that users put under `coreos:` although they belong at the top level, and the other way round. */
const TOP_LEVEL_KEYS = new Set(['write_files', 'users', 'hostname', 'ssh_authorized_keys', 'manage_etc_hosts'])
const COREOS_KEYS = new Set(Object.keys(CLOUD_CONFIG.fields!.coreos!.fields!))

const isMap = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)

/**
 * Parse a cloud-config body with YAML 1.1 meanings, normalize keys, coerce scalars to the type each key
 * wants (as go-yaml did: a string field keeps the text as written, so `0644`, `off` and `10:00` survive),
 * and check the structure against the cloud-config schema. Every problem is returned, located.
 */
export function checkCloudConfig(file: string, text: string): CheckedCloudConfig {
  let parsed = parseYaml(file, text, {yaml11: true})
  const lenient: Diagnostic[] = []
  const repair = hasErrors(parsed.diagnostics) ? repairUnderIndentedQuotes(text) : undefined
  if (repair) {
    const again = parseYaml(file, repair.text, {yaml11: true})
    if (!hasErrors(again.diagnostics)) {
      parsed = again
      for (const n of repair.keyLines) {
        lenient.push(warning('this quoted string continues at or left of its key\'s indentation; read as libyaml (coreos-cloudinit) did, but YAML parsers reject it: indent its lines', again.positions.source.lineAt(n + 1)))
      }
    }
  }
  const loc = new Locator(parsed.positions)
  const diagnostics = [...parsed.diagnostics, ...lenient]
  if (diagnostics.some((d) => d.severity === 'error')) return {value: undefined, loc, diagnostics: withHints(diagnostics, text, loc, true)}
  const root = parsed.value ?? {}
  if (!isMap(root)) {
    diagnostics.push(error('a cloud-config must be a mapping of keys (hostname:, users:, coreos:, ...)', loc.value([])))
    return {value: undefined, loc, diagnostics}
  }
  const value = normalize(root, [], [], loc, diagnostics) as Record<string, Json>
  coerce(value, CLOUD_CONFIG, [], loc, diagnostics)
  const validateFn = compileSchema('cloud-config', cloudConfigSchema())
  if (!validateFn(schemaView(value))) diagnostics.push(...(validateFn.errors ?? []).map((e) => ajvToDiagnostic(e, value, loc)))
  return {value, loc, diagnostics: withHints(diagnostics, text, loc, false)}
}

// Go templates, ERB and Terraform interpolation: the corpus is full of cloud-configs committed unrendered.
const TEMPLATE = /\{\{[^}]*\}\}|<%=?[^%]*%>|\$\{[A-Za-z_][\w.]*\}/

/** Say why a YAML or value error probably happened, once per diagnostic, as a note. */
function withHints(diagnostics: Diagnostic[], text: string, loc: Locator, syntax: boolean): Diagnostic[] {
  const template = TEMPLATE.exec(text)
  const note = (message: string, location?: Location) => (d: Diagnostic): Diagnostic => ({...d, notes: [...(d.notes ?? []), {message, location}]})
  return diagnostics.map((d) => {
    if (d.severity !== 'error') return d
    if (/^Missing closing ["']quote/.test(d.message)) {
      return note('continuation lines of a quoted string must be indented more than its key (libyaml, which coreos-cloudinit used, let this pass)')(d)
    }
    if (d.location && TEMPLATE.test(d.location.lineText)) return note('this is an unrendered template placeholder; render the template first')(d)
    if (syntax && template) {
      const where = loc.positions.source.locate(template.index, template[0].length)
      return note(`this file contains unrendered template placeholders (first: ${template[0]}); render the template first`, where)(d)
    }
    return d
  })
}

function normalize(value: Json, path: PathSegment[], orig: PathSegment[], loc: Locator, out: Diagnostic[]): Json {
  loc.record(path, orig)
  if (Array.isArray(value)) return value.map((v, i) => normalize(v, [...path, i], [...orig, i], loc, out))
  if (!isMap(value)) return value
  const result: Record<string, Json> = {}
  const spelledAs = new Map<string, string>()
  for (const [key, child] of Object.entries(value)) {
    const norm = key.replace(/-/g, '_')
    const earlier = spelledAs.get(norm)
    if (earlier !== undefined) {
      out.push(warning(`"${key}" and "${earlier}" are the same key (coreos-cloudinit read "-" as "_"); the later one, "${key}", is used`, loc.positions.keyOf([...orig, key])))
    }
    spelledAs.set(norm, key)
    // defineProperty: a key named __proto__ must stay data, never become the object's prototype.
    Object.defineProperty(result, norm, {value: normalize(child, [...path, norm], [...orig, key], loc, out), enumerable: true, writable: true, configurable: true})
  }
  return result
}

/** Shape scalars like go-yaml v2 did for the Go field type; report deprecated keys; drop empty values. */
function coerce(value: Record<string, Json>, spec: FieldSpec, path: PathSegment[], loc: Locator, out: Diagnostic[]): void {
  for (const [key, child] of Object.entries(value)) {
    const field = spec.fields && Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined
    if (!field) continue
    const here = [...path, key]
    if (field.deprecated) out.push(warning(`deprecated key "${loc.spelling(here)}" (${field.deprecated})`, loc.key(here)))
    if (child === null) {
      // `key:` with nothing after it is Go's zero value: as if absent.
      delete value[key]
      continue
    }
    value[key] = coerceValue(child, field, here, loc, out)
  }
}

function coerceValue(child: Json, field: FieldSpec, here: PathSegment[], loc: Locator, out: Diagnostic[]): Json {
  switch (field.type) {
    case 'string':
      return typeof child === 'number' || typeof child === 'boolean' ? asWritten(child, here, loc) : child
    case '[]string':
      return Array.isArray(child)
        ? child.map((c, n) => (typeof c === 'number' || typeof c === 'boolean' ? asWritten(c, [...here, n], loc) : c))
        : child
    case 'struct':
      if (isMap(child)) coerce(child, field, here, loc, out)
      return child
    case '[]struct':
      if (Array.isArray(child)) child.forEach((c, n) => isMap(c) && coerce(c, field, [...here, n], loc, out))
      return child
    default:
      return child
  }
}

function asWritten(v: number | boolean, path: PathSegment[], loc: Locator): string {
  const raw = loc.raw(path)
  return raw !== undefined && !/^["']/.test(raw) ? raw.trim() : String(v)
}

const GO_TYPE_NAME: Record<string, string> = {'float64': 'float64', '[]struct': '[]struct', '[]string': '[]string'}

function ajvToDiagnostic(e: ErrorObject, root: Record<string, Json>, loc: Locator): Diagnostic {
  const path = pointerToPath(e.instancePath)
  const name = nameOf(path)
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as {additionalProperty: string}).additionalProperty)
      const at = [...path, key]
      const spelled = loc.spelling(at)
      if (path.length === 1 && path[0] === 'coreos' && TOP_LEVEL_KEYS.has(key)) {
        return warning(`${key} doesn't belong under coreos; it is ignored there (move it to the top level)`, loc.key(at))
      }
      if (path.length === 0 && COREOS_KEYS.has(key)) {
        return warning(`${key} belongs under coreos:; it is ignored at the top level`, loc.key(at))
      }
      return warning(`unrecognized key "${spelled}"`, loc.key(at))
    }
    case 'type': {
      const goType = String((e.parentSchema as {'x-go-type'?: string} | undefined)?.['x-go-type'] ?? e.params.type)
      return warning(`incorrect type for "${name}" (want ${GO_TYPE_NAME[goType] ?? goType})`, loc.key(path))
    }
    case 'pattern':
      return error(`invalid value ${display(valueAt(root, path), loc.raw(path))}`, loc.value(path))
    default:
      return error(`${name || 'cloud-config'} ${e.message ?? 'is invalid'}`, loc.value(path))
  }
}

function nameOf(path: PathSegment[]): string {
  const last = path.at(-1)
  if (typeof last === 'number') return `${String(path.at(-2) ?? '')}[${last}]`
  return last === undefined ? '' : String(last)
}

function valueAt(root: Json, path: PathSegment[]): Json | undefined {
  let v: Json | undefined = root
  for (const seg of path) v = v && typeof v === 'object' ? (v as Record<string, Json>)[seg as string] : undefined
  return v
}

function display(v: Json | undefined, raw: string | undefined): string {
  if (typeof v === 'string') return v
  return raw?.trim() ?? String(v)
}
