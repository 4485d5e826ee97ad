import type {IgnitionUnit} from './builder.js'
import type {TranslateContext} from './context.js'
import {METADATA_ENV_FILE, METADATA_SERVICE} from './variables.js'

export const UNIT_TYPES = ['service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'snapshot', 'slice', 'scope']
export const NETWORK_UNIT_TYPES = ['network', 'netdev', 'link']

const STARTING_COMMANDS = new Set(['start', 'restart', 'try-restart', 'reload-or-restart', 'reload-or-try-restart'])

/** The target whose .wants/ pulls a unit in at boot, by unit type. */
export function wantedByTarget(name: string): string {
  if (name.endsWith('.socket')) return 'sockets.target'
  if (name.endsWith('.timer')) return 'timers.target'
  if (name.endsWith('.path')) return 'paths.target'
  return 'multi-user.target'
}

export function hasInstallSection(contents: string): boolean {
  return /^\s*\[Install\]\s*$/m.test(contents)
}

function extension(name: string): string {
  return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : ''
}

/** coreos.units[] → systemd.units (or files under /etc/systemd/network for networkd units). */
export function translateUnits(ctx: TranslateContext): void {
  const units = ctx.get(['coreos', 'units'], 'array') ?? []
  units.forEach((_u, n) => {
    const at = ['coreos', 'units', n]
    if (!ctx.get(at, 'object')) return
    const name = ctx.get([...at, 'name'], 'string')
    if (!name) {
      ctx.warn('unit has no name; the entry is skipped (as coreos-cloudinit did)', ctx.loc.key(at))
      return
    }
    const ext = extension(name)
    if (!/^[A-Za-z0-9:_.\\@-]+$/.test(name) || (!UNIT_TYPES.includes(ext) && !NETWORK_UNIT_TYPES.includes(ext))) {
      ctx.error(`invalid unit name "${name}" (want NAME.service, .socket, .timer, .mount, ... or a networkd .network/.netdev/.link)`, ctx.loc.value([...at, 'name']))
      return
    }
    if (NETWORK_UNIT_TYPES.includes(ext)) networkUnit(ctx, at, name)
    else systemdUnit(ctx, at, name)
  })
}

function dropins(ctx: TranslateContext, at: (string | number)[], unit: string): Array<{name: string; contents: string}> {
  const list = ctx.get([...at, 'drop_ins'], 'array') ?? []
  const out: Array<{name: string; contents: string}> = []
  list.forEach((_d, n) => {
    const dat = [...at, 'drop_ins', n]
    if (!ctx.get(dat, 'object')) return
    const name = ctx.get([...dat, 'name'], 'string')
    if (!name || !/^[^/]+\.conf$/.test(name)) {
      ctx.error(name ? `drop-in "${name}" must be a file name ending in .conf (systemd reads nothing else)` : 'drop-in has no name', ctx.loc.key(name ? [...dat, 'name'] : dat))
      return
    }
    const text = ctx.get([...dat, 'content'], 'string') ?? ''
    out.push({name, contents: ctx.unitText(text, [...dat, 'content'], unit)})
  })
  return out
}

function systemdUnit(ctx: TranslateContext, at: (string | number)[], name: string): void {
  const where = ctx.loc.key(at)
  const unit: IgnitionUnit = {name}
  const rawContents = ctx.get([...at, 'content'], 'string')
  if (rawContents !== undefined) unit.contents = ctx.unitText(rawContents, [...at, 'content'], name)
  const ds = dropins(ctx, at, name)
  if (ds.length) unit.dropins = ds
  const mask = ctx.get([...at, 'mask'], 'boolean') === true
  if (mask) unit.mask = true
  if (ctx.get([...at, 'runtime'], 'boolean') === true) {
    ctx.warn(`runtime: true cannot be expressed in Ignition: ${name} is written to /etc/systemd/system and persists across reboots`, ctx.loc.key([...at, 'runtime']))
  }
  // Contents from an earlier entry of the same unit count too (cloud-config applied entries in order).
  // An instance (foo@bar.service) takes its [Install] section from its template (foo@.service).
  const contents = unit.contents ?? ctx.out.unitContents(name) ?? ctx.out.unitContents(name.replace(/@[^.]+\./, '@.'))
  const command = ctx.get([...at, 'command'], 'string')
  const starts = command !== undefined && STARTING_COMMANDS.has(command)
  if (command !== undefined && !starts && /^(stop|reload)$/.test(command)) {
    ctx.warn(`command: ${command} has no Ignition equivalent (nothing runs yet when Ignition applies the config); ignored`, ctx.loc.key([...at, 'command']))
  }
  const enable = ctx.get([...at, 'enable'], 'boolean') === true
  if (mask && (enable || starts)) {
    ctx.warn(`${name} is masked, so it is neither enabled nor started`, ctx.loc.key([...at, 'mask']))
  } else if (starts || enable) {
    enableUnit(ctx, at, name, unit, contents, starts ? command : undefined)
  }
  ctx.out.unit(unit, where)
}

function enableUnit(ctx: TranslateContext, at: (string | number)[], name: string, unit: IgnitionUnit, contents: string | undefined, command: string | undefined): void {
  const startWarning = command
    ? `command: ${command} has no Ignition equivalent; ${name} is enabled instead, so it starts at every boot, not once`
    : undefined
  const where = ctx.loc.key([...at, command ? 'command' : 'enable'])
  if (contents === undefined || hasInstallSection(contents)) {
    // A unit shipped by the image (no contents here) is assumed to carry its own [Install] section.
    unit.enabled = true
    if (startWarning) ctx.warn(startWarning, where)
    return
  }
  if (!command) {
    ctx.warn(`enable: true has no effect: ${name} has no [Install] section (coreos-cloudinit's enable did nothing either)`, where)
    return
  }
  const target = wantedByTarget(name)
  const file = name.replace(/@[^.]+\./, '@.')
  ctx.out.link(`/etc/systemd/system/${target}.wants/${name}`, `/etc/systemd/system/${unit.contents !== undefined || file === name ? name : file}`)
  ctx.warn(`${startWarning}: it has no [Install] section, so a ${target}.wants link is added`, where)
}

function networkUnit(ctx: TranslateContext, at: (string | number)[], name: string): void {
  const where = ctx.loc.key(at)
  if (ctx.get([...at, 'runtime'], 'boolean') === true) {
    ctx.warn(`runtime: true cannot be expressed in Ignition: ${name} is written to /etc/systemd/network and persists across reboots`, ctx.loc.key([...at, 'runtime']))
  }
  for (const k of ['mask', 'enable'] as const) {
    if (ctx.get([...at, k], 'boolean') === true) ctx.warn(`${k} does not apply to the networkd file ${name}; ignored`, ctx.loc.key([...at, k]))
  }
  const text = ctx.get([...at, 'content'], 'string')
  if (text !== undefined) {
    const contents = ctx.literalText(text, [...at, 'content'], `networkd file ${name}`)
    ctx.out.file(`/etc/systemd/network/${name}`, Buffer.from(contents, 'utf8'), {where})
  }
  for (const d of dropins(ctx, at, name)) {
    ctx.out.file(`/etc/systemd/network/${name}.d/${d.name}`, Buffer.from(d.contents, 'utf8'), {where})
  }
}

/** Units that read variables at boot get the metadata environment and run after the service writing it. */
export function addMetadataDropins(ctx: TranslateContext): void {
  for (const name of [...ctx.metadataUnits].sort()) {
    ctx.out.unit({name, dropins: [{name: '10-keel-metadata.conf', contents: metadataDropin()}]})
  }
}

export function metadataDropin(envFile = METADATA_ENV_FILE): string {
  return `[Unit]\nRequires=${METADATA_SERVICE}\nAfter=${METADATA_SERVICE}\n\n[Service]\nEnvironmentFile=${envFile}\n`
}
