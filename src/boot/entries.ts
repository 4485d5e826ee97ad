import {KeelError} from '../core/errors.js'
import type {SlotName} from '../disk/layout.js'

/**
 * The systemd-boot entries of each /usr slot, as ESP paths → file contents (pure). One module decides every
 * entry name, because three parties must agree on them: the build (slot A), whatever installs a slot later
 * (slot-install.ts, the update agent), and the initrd's slot fallback (src/initramfs/slot-fallback.ts).
 *
 * Rollback is systemd's boot counting (Boot Loader Specification, "Automatic Boot Assessment"): an entry
 * named `keel-b+3.conf` has three tries. systemd-boot renames it to `keel-b+2-1.conf` before booting it and
 * tells the OS the new name (EFI variable LoaderBootCountPath); systemd-bless-boot drops the counter once
 * boot-complete.target is reached (`keel-b.conf`: good from now on). At `+0` the entry is bad: systemd-boot
 * sorts it after every other entry, so another slot boots instead. Why it works with a `default` pattern and
 * how the first boot fits in: see src/disk/README.md, "What actually decides the boot".
 */

/** Every slot entry sorts by this key and then by `version`, newest first (systemd-boot's ordering). */
export const SORT_KEY = 'keel'
/**
 * loader.conf's `default` once the first boot is done: any slot entry, counted or not, and never the
 * first-boot entry. systemd-boot takes the first *sorted* entry the pattern matches, and it sorts entries
 * with no tries left behind all others — so the newest slot that is not known bad boots.
 */
export const SLOT_ENTRY_PATTERN = 'keel-[ab][+.]*'
/** The first boot's entry: slot A with ignition.firstboot. Never boot-counted, never matched by SLOT_ENTRY_PATTERN. */
export const FIRST_BOOT_ENTRY = 'keel-a-firstboot.conf'
export const ENTRIES_DIR = 'loader/entries'

/** `keel-a`, `keel-b`: an entry's name without counter and suffix. */
export function slotEntryStem(slot: SlotName): string {
  return `keel-${slot.toLowerCase()}`
}

export interface BootCounter {
  /** Tries left (0 = bad). */
  left: number
  /** Tries done so far; written only when > 0 (as systemd-boot itself names entries). */
  done?: number
}

/** `keel-b.conf`, `keel-b+3.conf`, `keel-b+0-1.conf`. */
export function entryFileName(slot: SlotName, counter?: BootCounter): string {
  const stem = slotEntryStem(slot)
  if (!counter) return `${stem}.conf`
  for (const [what, n] of [['left', counter.left], ['done', counter.done ?? 0]] as const) {
    if (!Number.isInteger(n) || n < 0) throw new KeelError(`boot counter '${what}' must be a whole number ≥ 0, not ${n}`, 'internal')
  }
  return `${stem}+${counter.left}${counter.done ? `-${counter.done}` : ''}.conf`
}

export interface ParsedEntryName {
  slot: SlotName
  /** Absent for an entry without a counter (proven good, or never counted). */
  counter?: {left: number; done: number}
}

/** The slot and counter of a slot entry's file name; undefined for any other name (the first-boot entry, a foreign OS). */
export function parseEntryFileName(name: string): ParsedEntryName | undefined {
  const m = /^keel-([ab])(?:\+(\d+)(?:-(\d+))?)?\.conf$/i.exec(name)
  if (!m) return undefined
  const slot = m[1]!.toUpperCase() as SlotName
  return m[2] === undefined ? {slot} : {slot, counter: {left: Number(m[2]), done: Number(m[3] ?? 0)}}
}

/** The state an entry name says a slot is in, as keel inspect and the checks report it. */
export function entryState(name: string): 'good' | 'trying' | 'bad' | undefined {
  const p = parseEntryFileName(name)
  if (!p) return undefined
  if (!p.counter) return 'good'
  return p.counter.left > 0 ? 'trying' : 'bad'
}

export interface SlotEntriesInput {
  slot: SlotName
  /** ESP paths ('/'-separated, leading '/'), as the entry names them. */
  kernelPath: string
  /** One or more initrds, loaded in order (a platform may add a second one carrying a baked config). */
  initrdPaths: readonly string[]
  /** The kernel command line for a normal boot (false) and for the first boot (true, with ignition.firstboot). */
  cmdline: (firstBoot: boolean) => string
  /** Menu title, e.g. "keel 0.1.0 (slot A)". */
  title: string
  /** The slot's image version: with the sort key it decides which good slot boots (highest first). */
  version: string
  /** Boot-count the slot: this many tries before it is given up. Omitted: the entry is good as written. */
  tries?: number
  /** Also write the first-boot entry (slot A at build time). */
  firstBoot?: boolean
}

/** A Boot Loader Specification type 1 entry with keel's sort key. */
export function renderEntry(e: {title: string; version: string; sortKey?: string; linux: string; initrds: readonly string[]; options: string}): string {
  for (const [k, v] of Object.entries({title: e.title, version: e.version, linux: e.linux, options: e.options, ...Object.fromEntries(e.initrds.map((p, i) => [`initrd ${i}`, p]))})) {
    if (/[\n\r]/.test(v) || v.trim() === '') throw new KeelError(`boot entry field ${k} must be one non-empty line`, 'internal')
  }
  if (!e.initrds.length) throw new KeelError('a boot entry needs at least one initrd', 'internal')
  const lines = [`title ${e.title}`, ...(e.sortKey ? [`sort-key ${e.sortKey}`] : []), `version ${e.version}`, `linux ${e.linux}`, ...e.initrds.map((p) => `initrd ${p}`), `options ${e.options}`]
  return `${lines.join('\n')}\n`
}

/**
 * The entry files of one slot, by ESP path: `loader/entries/keel-<slot>[+N].conf`, and with `firstBoot` the
 * first-boot entry too (no sort key, so it never outranks a slot entry when no default names it).
 */
export function espEntries(input: SlotEntriesInput): Record<string, string> {
  const normal = renderEntry({title: input.title, version: input.version, sortKey: SORT_KEY, linux: input.kernelPath, initrds: input.initrdPaths, options: input.cmdline(false)})
  const name = entryFileName(input.slot, input.tries === undefined ? undefined : {left: input.tries})
  if (input.tries !== undefined && (input.tries < 1 || input.tries > 15)) throw new KeelError(`a new slot needs 1–15 tries, not ${input.tries}`, 'input')
  const out: Record<string, string> = {[`${ENTRIES_DIR}/${name}`]: normal}
  if (input.firstBoot) {
    if (input.slot !== 'A') throw new KeelError('only slot A carries the first-boot entry', 'internal')
    out[`${ENTRIES_DIR}/${FIRST_BOOT_ENTRY}`] = renderEntry({title: `${input.title}, first boot`, version: input.version, linux: input.kernelPath, initrds: input.initrdPaths, options: input.cmdline(true)})
  }
  return out
}

/** loader/loader.conf: boot `defaultEntry` (an entry id or a pattern) at once, no menu; the menu stays reachable by holding a key. */
export function loaderConf(defaultEntry: string): string {
  if (/\s/.test(defaultEntry)) throw new KeelError(`a loader.conf default cannot contain whitespace: ${defaultEntry}`, 'internal')
  return `default ${defaultEntry}\ntimeout 0\nconsole-mode keep\neditor no\n`
}

/** Where each slot's kernel and initrd live on the ESP. */
export function slotBootFiles(slot: SlotName): {kernel: string; initrd: string} {
  const s = slot.toLowerCase()
  return {kernel: `keel/vmlinuz-${s}`, initrd: `keel/initrd-${s}`}
}
