/**
 * coreos-cloudinit's platform variables. Upstream replaced them in the raw text before parsing, from the
 * platform metadata, empty when unknown. keel cannot know them at translate time, so (unless given with
 * --var) they become `${KEEL_…}` references to an environment file written at boot — see README.md here.
 */

export const METADATA_VARIABLES = {
  private_ipv4: 'KEEL_PRIVATE_IPV4',
  public_ipv4: 'KEEL_PUBLIC_IPV4',
  private_ipv6: 'KEEL_PRIVATE_IPV6',
  public_ipv6: 'KEEL_PUBLIC_IPV6',
} as const

export type VariableName = keyof typeof METADATA_VARIABLES

export const VARIABLE_NAMES = Object.keys(METADATA_VARIABLES) as VariableName[]

/** The oneshot service that writes the metadata environment at boot, and the file it writes. */
export const METADATA_SERVICE = 'keel-metadata.service'
export const METADATA_ENV_FILE = '/run/keel/metadata.env'
/** Environment-file templates the metadata service renders at boot (`${KEEL_…}` replaced) into RENDERED_DIR. */
export const METADATA_TEMPLATE_DIR = '/etc/keel/metadata/templates'
export const METADATA_RENDERED_DIR = '/run/keel/metadata'

/**
 * Ignition platform ids keel knows, and whether the platform has a metadata service the boot-time
 * variables can be read from (on qemu and metal nothing tells a machine its addresses).
 */
export const PLATFORMS = {
  aws: {metadata: true},
  azure: {metadata: true},
  digitalocean: {metadata: true},
  gcp: {metadata: true},
  openstack: {metadata: true},
  vmware: {metadata: true},
  qemu: {metadata: false},
  metal: {metadata: false},
} as const satisfies Record<string, {metadata: boolean}>

export type PlatformName = keyof typeof PLATFORMS

export const PLATFORM_NAMES = Object.keys(PLATFORMS) as PlatformName[]

// `\$private_ipv4` is an escape (upstream's regex required a non-backslash before the `$`).
const PATTERN = /(?<!\\)\$(private_ipv4|public_ipv4|private_ipv6|public_ipv6)\b/g

export interface VariableUse {
  name: VariableName
  index: number
}

export function findVariables(text: string): VariableUse[] {
  return [...text.matchAll(PATTERN)].map((m) => ({name: m[1] as VariableName, index: m.index}))
}

export function replaceVariables(text: string, replace: (name: VariableName) => string): string {
  return text.replace(PATTERN, (_m, name: VariableName) => replace(name))
}

export function bootReference(name: VariableName): string {
  return `\${${METADATA_VARIABLES[name]}}`
}

/** Parse `--var k=v` values; unknown names and malformed entries are reported. */
export function parseVarFlags(entries: readonly string[]): {values: Partial<Record<VariableName, string>>; problems: string[]} {
  const values: Partial<Record<VariableName, string>> = {}
  const problems: string[] = []
  for (const entry of entries) {
    const eq = entry.indexOf('=')
    const name = eq > 0 ? entry.slice(0, eq).replace(/^\$/, '') : ''
    if (!(VARIABLE_NAMES as string[]).includes(name)) {
      problems.push(`--var ${entry}: expected NAME=VALUE with NAME one of ${VARIABLE_NAMES.join(', ')}`)
      continue
    }
    values[name as VariableName] = entry.slice(eq + 1)
  }
  return {values, problems}
}
