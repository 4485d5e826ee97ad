import type {ErrorObject} from 'ajv'
import {type Diagnostic, error, warning} from '../core/diagnostics.js'
import {type PathSegment, PositionMap, parseYaml, pointerToPath} from '../core/yaml.js'
import {compileSchema} from './ajv.js'
import {NETWORK_UNIT_TYPES, UNIT_TYPES} from './cc-units.js'
import {describePath} from './locator.js'
import {findSpec, ignitionSchema, SPEC_VERSIONS, type SpecVersion} from './specs.js'

export interface CheckedIgnition {
  config: Record<string, unknown> | undefined
  version: SpecVersion | undefined
  diagnostics: Diagnostic[]
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Check an Ignition config (JSON text) against its spec: the version, the schema (ajv, every error at its
 * line:col) and the rules ignition-validate applies beyond the schema (absolute clean paths, data URLs,
 * unit names, drop-in names, duplicates, modes, overwrite without a source).
 */
export function checkIgnition(file: string, text: string): CheckedIgnition {
  const parsed = parseYaml(file, text)
  const pos = parsed.positions
  const diagnostics = [...parsed.diagnostics]
  if (diagnostics.some((d) => d.severity === 'error')) return {config: undefined, version: undefined, diagnostics}
  const config = parsed.value
  if (!isObj(config)) {
    diagnostics.push(error('an Ignition config must be a JSON object', pos.value([])))
    return {config: undefined, version: undefined, diagnostics}
  }
  const version = isObj(config.ignition) ? config.ignition.version : undefined
  if (typeof version !== 'string' || !findSpec(version)) {
    const where = isObj(config.ignition) ? pos.value(['ignition', 'version']) : pos.keyOf(['ignition'])
    const got = typeof version === 'string' ? `version ${version}` : 'no ignition.version'
    diagnostics.push(error(`unsupported Ignition config: ${got} (keel reads spec ${SPEC_VERSIONS.join(', ')})`, where))
    return {config: undefined, version: undefined, diagnostics}
  }
  const spec = version as SpecVersion
  const validate = compileSchema(`ignition-${spec}`, ignitionSchema(spec))
  if (!validate(config)) diagnostics.push(...dedupe(validate.errors ?? []).map((e) => schemaDiagnostic(e, pos)))
  diagnostics.push(...semanticChecks(config, pos))
  return {config, version: spec, diagnostics}
}

function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>()
  return errors.filter((e) => {
    const k = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function schemaDiagnostic(e: ErrorObject, pos: PositionMap): Diagnostic {
  const path = pointerToPath(e.instancePath)
  const name = describePath(path) || 'config'
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as {additionalProperty: string}).additionalProperty)
      return warning(`unused key ${key}`, pos.keyOf([...path, key]))
    }
    case 'required':
      return error(`${name}: missing required key "${String((e.params as {missingProperty: string}).missingProperty)}"`, pos.value(path))
    case 'type':
      return error(`${name}: ${e.message ?? 'wrong type'}`, pos.value(path))
    default:
      return error(`${name}: ${e.message ?? 'invalid'}`, pos.value(path))
  }
}

const DATA_URL = /^data:([a-zA-Z0-9!#$&^_.+-]+\/[a-zA-Z0-9!#$&^_.+-]+)?((?:;[a-zA-Z0-9!#$&^_.+-]+=[^;,]*)*)(;base64)?,(.*)$/s

function checkSource(source: unknown, path: PathSegment[], pos: PositionMap, out: Diagnostic[]): void {
  if (typeof source !== 'string') return
  if (source.startsWith('data:')) {
    const m = DATA_URL.exec(source)
    if (!m) out.push(error('invalid data URL', pos.value(path)))
    else if (!m[3] && /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/.test(m[4]!)) out.push(error('data URL: invalid data character (percent-encode it)', pos.value(path)))
    else if (m[3] && !/^[A-Za-z0-9+/]*={0,2}$/.test(m[4]!)) out.push(error('data URL: invalid base64 data', pos.value(path)))
    return
  }
  if (!/^(https?|s3|tftp|gs|arn):/.test(source)) out.push(error(`unsupported source URL scheme in "${source.slice(0, 40)}"`, pos.value(path)))
}

function semanticChecks(config: Obj, pos: PositionMap): Diagnostic[] {
  const out: Diagnostic[] = []
  const storage = isObj(config.storage) ? config.storage : {}
  const seen = new Map<string, PathSegment[]>()
  for (const kind of ['files', 'directories', 'links'] as const) {
    const list = Array.isArray(storage[kind]) ? (storage[kind] as unknown[]) : []
    list.forEach((node, n) => {
      if (!isObj(node) || typeof node.path !== 'string') return
      const at: PathSegment[] = ['storage', kind, n]
      const p = node.path
      if (!p.startsWith('/')) out.push(error(`path "${p}" is not absolute`, pos.value([...at, 'path'])))
      else if (p !== p.replace(/\/+/g, '/').replace(/\/\.(?=\/|$)/g, '').replace(/(.)\/$/, '$1') || /(^|\/)\.\.(\/|$)/.test(p)) {
        out.push(error(`path "${p}" is not in its simplest form`, pos.value([...at, 'path'])))
      }
      const earlier = seen.get(p)
      if (earlier) out.push(error(`duplicate entry for path ${p}`, pos.value([...at, 'path']), [{message: 'first defined here', location: pos.value([...earlier, 'path'])}]))
      else seen.set(p, at)
      if (typeof node.mode === 'number' && (node.mode < 0 || node.mode > 0o7777)) out.push(error(`illegal file mode ${node.mode}`, pos.value([...at, 'mode'])))
      if (kind === 'files') {
        const contents = isObj(node.contents) ? node.contents : undefined
        checkSource(contents?.source, [...at, 'contents', 'source'], pos, out)
        const compression = contents?.compression
        if (compression !== undefined && compression !== null && compression !== '' && compression !== 'gzip') {
          out.push(error(`unsupported compression "${String(compression)}"`, pos.value([...at, 'contents', 'compression'])))
        }
        if (node.overwrite === true && (contents?.source === undefined || contents.source === null)) {
          out.push(error('overwrite must be false if source is unspecified', pos.value([...at, 'overwrite'])))
        }
        if (Array.isArray(node.append)) node.append.forEach((a, k) => isObj(a) && checkSource(a.source, [...at, 'append', k, 'source'], pos, out))
      }
    })
  }
  const units = isObj(config.systemd) && Array.isArray(config.systemd.units) ? config.systemd.units : []
  const names = new Map<string, number>()
  units.forEach((u, n) => {
    if (!isObj(u) || typeof u.name !== 'string') return
    const at: PathSegment[] = ['systemd', 'units', n]
    const ext = u.name.includes('.') ? u.name.slice(u.name.lastIndexOf('.') + 1) : ''
    if (!UNIT_TYPES.includes(ext)) {
      const hint = NETWORK_UNIT_TYPES.includes(ext) ? ' (networkd files go to storage.files under /etc/systemd/network)' : ''
      out.push(error(`invalid unit extension ".${ext}"${hint}`, pos.value([...at, 'name'])))
    }
    if (names.has(u.name)) out.push(error(`duplicate unit ${u.name}`, pos.value([...at, 'name'])))
    names.set(u.name, n)
    if (u.enabled === true && typeof u.contents === 'string' && !/^\s*\[Install\]\s*$/m.test(u.contents)) {
      out.push(warning(`unit ${u.name} is enabled, but has no install section`, pos.value([...at, 'enabled'])))
    }
    if (Array.isArray(u.dropins)) {
      u.dropins.forEach((d, k) => {
        if (isObj(d) && typeof d.name === 'string' && !d.name.endsWith('.conf')) {
          out.push(error(`drop-in "${d.name}" must end in .conf`, pos.value([...at, 'dropins', k, 'name'])))
        }
      })
    }
  })
  const users = isObj(config.passwd) && Array.isArray(config.passwd.users) ? config.passwd.users : []
  const userNames = new Set<string>()
  users.forEach((u, n) => {
    if (!isObj(u) || typeof u.name !== 'string') return
    if (userNames.has(u.name)) out.push(error(`duplicate user ${u.name}`, pos.value(['passwd', 'users', n, 'name'])))
    userNames.add(u.name)
  })
  return out
}
