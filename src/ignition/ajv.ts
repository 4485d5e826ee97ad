import {Ajv, type ValidateFunction} from 'ajv'

/** One ajv instance for every schema keel ships; our annotation keywords (x-…) are known, not errors. */
let ajv: Ajv | undefined
const compiled = new Map<string, ValidateFunction>()

export function compileSchema(name: string, schema: Record<string, unknown>): ValidateFunction {
  let fn = compiled.get(name)
  if (!fn) {
    ajv ??= new Ajv({allErrors: true, strict: true, allowUnionTypes: true, verbose: true})
    for (const keyword of ['x-go-type', 'x-env', 'x-deprecated']) if (!ajv.getKeyword(keyword)) ajv.addKeyword({keyword})
    fn = ajv.compile(schema)
    compiled.set(name, fn)
  }
  return fn
}

/** A copy that JSON Schema can judge: bytes (YAML !!binary) count as a string, as go-yaml read them. */
export function schemaView(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1')
  if (Array.isArray(value)) return value.map(schemaView)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schemaView(v)]))
  return value
}
