import type {FieldSpec} from './cloud-config-schema.js'
import {CLOUD_CONFIG} from './cloud-config-schema.js'
import type {TranslateContext} from './context.js'
import {METADATA_RENDERED_DIR, METADATA_SERVICE, METADATA_TEMPLATE_DIR} from './variables.js'

/** Sections that coreos-cloudinit turned into `Environment=` drop-ins, with the unit each configures. */
export const SERVICE_SECTIONS = [
  {key: 'etcd', unit: 'etcd.service'},
  {key: 'etcd2', unit: 'etcd2.service'},
  {key: 'fleet', unit: 'fleet.service'},
  {key: 'flannel', unit: 'flanneld.service'},
  {key: 'locksmith', unit: 'locksmithd.service'},
] as const

export const SETTINGS_DROPIN = '20-cloudinit.conf'

/** Go's %v of a field value; zero values (false, 0, "") were left out upstream. */
function goValue(v: unknown): string | undefined {
  if (v === false || v === 0 || v === '' || v === undefined || v === null) return undefined
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}

/** systemd's double-quoted strings (Environment="…", EnvironmentFile lines): backslash and quote escaped. */
function escapeQuoted(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')
}

function quoteEnvironment(assignment: string): string {
  return `Environment="${escapeQuoted(assignment)}"`
}

const DISCOVERY = /^(\/|[A-Za-z][A-Za-z0-9+.-]*:)/

export function translateServiceSections(ctx: TranslateContext): void {
  for (const {key, unit} of SERVICE_SECTIONS) {
    const at = ['coreos', key]
    const section = ctx.get(at, 'object')
    if (!section) continue
    const fields = CLOUD_CONFIG.fields!.coreos!.fields![key]!.fields!
    if ((key === 'etcd' || key === 'etcd2') && typeof section.discovery === 'string' && !DISCOVERY.test(section.discovery)) {
      ctx.warn('discovery URL is not valid', ctx.loc.value([...at, 'discovery']))
    }
    settingsDropin(ctx, at, unit, fields)
  }
}

function settingsDropin(ctx: TranslateContext, at: string[], unit: string, fields: Record<string, FieldSpec>): void {
  const direct: string[] = []
  const atBoot: string[] = []
  for (const [name, spec] of Object.entries(fields)) {
    if (!spec.env) continue
    const path = [...at, name]
    const expected = spec.type === 'string' ? 'string' : spec.type === 'bool' ? 'boolean' : 'number'
    const raw = ctx.get(path, expected)
    const text = goValue(raw)
    if (text === undefined) continue
    const {value, atBoot: boot} = typeof raw === 'string' ? ctx.settingValue(text, path) : {value: text, atBoot: false}
    if (boot) atBoot.push(`${spec.env}="${escapeQuoted(value)}"`)
    else direct.push(quoteEnvironment(`${spec.env}=${value}`))
  }
  if (!direct.length && !atBoot.length) return
  const service = direct.map((l) => `${l}\n`).join('')
  let contents = `[Service]\n${service}`
  if (atBoot.length) {
    // systemd does not expand ${…} in Environment=; keel-metadata renders this template at boot instead.
    const rendered = `${METADATA_RENDERED_DIR}/${unit}.env`
    ctx.out.file(`${METADATA_TEMPLATE_DIR}/${unit}.env`, Buffer.from(`${atBoot.join('\n')}\n`, 'utf8'), {where: ctx.loc.key(at)})
    contents = `[Unit]\nRequires=${METADATA_SERVICE}\nAfter=${METADATA_SERVICE}\n\n[Service]\n${service}EnvironmentFile=${rendered}\n`
  }
  ctx.out.unit({name: unit, dropins: [{name: SETTINGS_DROPIN, contents}]})
}
