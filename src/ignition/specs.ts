import {buildIgnitionSchema, type SpecLevel} from './ignition-schema.js'

/**
 * The Ignition spec versions keel can write and check. This registry is the single source for --spec's
 * options and help, the schema files under schemas/, and validation.
 */
export interface IgnitionSpec {
  version: string
  level: SpecLevel
  summary: string
}

export const IGNITION_SPECS = [
  {version: '3.0.0', level: 0, summary: 'first 3.x spec (Ignition 2.0)'},
  {version: '3.1.0', level: 1, summary: 'adds HTTP headers, proxies, mount options'},
  {version: '3.2.0', level: 2, summary: 'adds LUKS, shouldExist for users and groups'},
  {version: '3.3.0', level: 3, summary: 'adds kernel arguments; what Debian\'s ignition 2.14 accepts by default'},
  {version: '3.4.0-experimental', level: 4, summary: 'experimental spec of Ignition 2.14'},
] as const satisfies readonly IgnitionSpec[]

export type SpecVersion = (typeof IGNITION_SPECS)[number]['version']

export const DEFAULT_SPEC: SpecVersion = '3.3.0'

export const SPEC_VERSIONS: SpecVersion[] = IGNITION_SPECS.map((s) => s.version)

export function findSpec(version: string): IgnitionSpec | undefined {
  return IGNITION_SPECS.find((s) => s.version === version)
}

export function isSpecVersion(version: string): version is SpecVersion {
  return findSpec(version) !== undefined
}

/** The JSON Schema of a spec; schemas/ignition-<version>.schema.json is this, written out. */
export function ignitionSchema(version: SpecVersion): Record<string, unknown> {
  return buildIgnitionSchema(version, findSpec(version)!.level)
}

/** One line per spec for --help. */
export function specHelp(): string {
  return IGNITION_SPECS.map((s) => `${s.version}${s.version === DEFAULT_SPEC ? ' (default)' : ''}: ${s.summary}`).join('; ')
}
