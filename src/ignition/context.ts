import {type Diagnostic, error, warning} from '../core/diagnostics.js'
import type {Location} from '../core/source.js'
import type {PathSegment} from '../core/yaml.js'
import type {IgnitionBuilder} from './builder.js'
import type {Json} from './cloud-config-check.js'
import type {Locator} from './locator.js'
import {bootReference, findVariables, PLATFORMS, type PlatformName, replaceVariables, type VariableName} from './variables.js'

export interface TranslateOptions {
  /** Values for $private_ipv4 & co., substituted at translate time. */
  vars?: Partial<Record<VariableName, string>>
  /** Unresolved variables become errors (and every warning is fatal for the CLI). */
  strict?: boolean
  /** The target platform: where the boot-time variables would come from (none on qemu and metal). */
  platform?: PlatformName
}

/** Everything one translation step needs: the checked cloud-config, where things are, and the output. */
export class TranslateContext {
  /** Units that read the metadata environment at boot (they get EnvironmentFile= and ordering). */
  readonly metadataUnits = new Set<string>()
  /** How many times each variable was met in each value so far, to point at the right occurrence. */
  private readonly seen = new Map<string, number>()

  constructor(
    readonly cc: Record<string, Json>,
    readonly loc: Locator,
    readonly out: IgnitionBuilder,
    readonly diagnostics: Diagnostic[],
    readonly opts: TranslateOptions,
  ) {}

  error(message: string, where: Location): void {
    this.diagnostics.push(error(message, where))
  }

  warn(message: string, where: Location): void {
    this.diagnostics.push(warning(message, where))
  }

  /** Text that nothing expands at boot (file contents, hostnames, keys): only --var can fill it in. */
  literalText(text: string, path: PathSegment[], what: string): string {
    return replaceVariables(text, (name) => {
      const where = this.where(path, name)
      const given = this.opts.vars?.[name]
      if (given !== undefined) return given
      const message = `$${name} in ${what} cannot be filled in at boot (only unit Exec lines and service settings can); give --var ${name}=VALUE`
      if (this.opts.strict) this.error(message, where)
      else this.warn(`${message}; it is left as written`, where)
      return `$${name}`
    })
  }

  /**
   * Unit or drop-in text: variables in Exec lines become `${KEEL_…}` (systemd expands them from the
   * metadata EnvironmentFile); elsewhere in a unit systemd would not expand them, so they are reported.
   */
  unitText(text: string, path: PathSegment[], unit: string): string {
    // Units written for coreos-cloudinit read COREOS_PRIVATE_IPV4 & co. from the environment it wrote;
    // the metadata environment file carries those names too (README.md).
    if (unit.endsWith('.service') && /\bCOREOS_(PUBLIC|PRIVATE)_IPV[46]\b/.test(text)) this.metadataUnits.add(unit)
    if (!findVariables(text).length) return text
    return text
      .split('\n')
      .map((line) => {
        if (!findVariables(line).length) return line
        const isExec = /^\s*Exec[A-Za-z]*\s*=/.test(line) && unit.endsWith('.service')
        return replaceVariables(line, (name) => {
          const where = this.where(path, name)
          const given = this.opts.vars?.[name]
          if (given !== undefined) return given
          if (!this.bootResolvable(name, where)) return `$${name}`
          if (!isExec) {
            this.warn(`$${name} in "${line.trim().slice(0, 40)}" of ${unit}: systemd expands variables only in Exec lines of services; give --var ${name}=VALUE`, where)
            return `$${name}`
          }
          this.metadataUnits.add(unit)
          return bootReference(name)
        })
      })
      .join('\n')
  }

  /** A service setting value: with a boot-time variable it goes to a rendered environment file instead. */
  settingValue(text: string, path: PathSegment[]): {value: string; atBoot: boolean} {
    let atBoot = false
    const value = replaceVariables(text, (name) => {
      const where = this.where(path, name)
      const given = this.opts.vars?.[name]
      if (given !== undefined) return given
      if (!this.bootResolvable(name, where)) return `$${name}`
      atBoot = true
      return bootReference(name)
    })
    return {value, atBoot}
  }

  /** The next occurrence of $name in the value at `path`, as written. */
  private where(path: PathSegment[], name: VariableName): Location {
    const key = `${path.join('\u0000')}\u0001${name}`
    const k = this.seen.get(key) ?? 0
    this.seen.set(key, k + 1)
    return this.loc.occurrence(path, `$${name}`, k)
  }

  /** Whether a variable may be left to boot time; if not, say why (as an error). */
  private bootResolvable(name: VariableName, where: Location): boolean {
    if (this.opts.strict) {
      this.error(`$${name} is not known at translate time (--strict); give --var ${name}=VALUE`, where)
      return false
    }
    const platform = this.opts.platform
    if (platform && !PLATFORMS[platform].metadata) {
      this.error(`$${name} cannot be filled in at boot on ${platform} (no metadata service there); give --var ${name}=VALUE`, where)
      return false
    }
    return true
  }

  /** The value at a normalized path, if it has the wanted JS type (wrong types were already reported). */
  get<T extends 'string' | 'number' | 'boolean' | 'object' | 'array' | 'bytes'>(
    path: PathSegment[],
    type: T,
  ): (T extends 'string' ? string : T extends 'number' ? number : T extends 'boolean' ? boolean : T extends 'array' ? Json[] : T extends 'bytes' ? Uint8Array : Record<string, Json>) | undefined {
    let v: Json | undefined = this.cc
    for (const seg of path) {
      if (v === null || typeof v !== 'object' || v instanceof Uint8Array || !Object.hasOwn(v, seg)) return undefined
      v = (v as Record<string, Json>)[seg as string]
    }
    const ok =
      type === 'array'
        ? Array.isArray(v)
        : type === 'bytes'
          ? v instanceof Uint8Array
          : type === 'object'
            ? v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
            : typeof v === type
    return (ok ? v : undefined) as never
  }
}
