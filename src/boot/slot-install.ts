import {kernelCommandLine} from './cmdline.js'
import {KeelError} from '../core/errors.js'
import {installUpdate, markGood, type Slot, withField} from '../disk/attributes.js'
import type {GptPartition, GptTable} from '../disk/gpt.js'
import {derivedGuid, lookupPartitionType, verityPartitionGuids} from '../disk/guids.js'
import type {SlotName} from '../disk/layout.js'
import type {UsrFilesystemName} from '../fsimage/usr.js'
import {slotPartitions, verityPartnerOf} from '../disk/slots.js'
import {ENTRIES_DIR, FIRST_BOOT_ENTRY, loaderConf, parseEntryFileName, SLOT_ENTRY_PATTERN, slotBootFiles, espEntries} from './entries.js'

/**
 * Installing a /usr slot the way an updater does, as a plan (pure): which partitions receive the image, the
 * GPT changes (the slot's PARTUUIDs and A/B bits), and the ESP changes (kernel, initrd, the slot's boot entry
 * with its try counter, loader.conf). slot-install-io.ts carries it out on a raw disk; `keel test`'s tamper
 * and rollback checks use it to put a second slot on a test copy, and the update agent will use the same plan.
 */

export interface SlotInstallRequest {
  slot: SlotName
  /** Root hash of the /usr image going into the slot (hex). */
  rootHash: string
  usrFs: UsrFilesystemName
  /** The image version: with systemd-boot's sort order the highest version among usable entries boots. */
  version: string
  /** Menu title; default "keel VERSION (slot X)". */
  title?: string
  /**
   * Tries before the slot is given up (a new update: 1–15). Omitted: installed as known good (e.g. the
   * previous release kept as the fallback), no counter.
   */
  tries?: number
  /** Kernel command line pieces the slot boots with (as the build's). */
  cmdline: {root: string; platform: string; extra?: readonly string[]}
}

export interface SlotPartitionsPlan {
  usr: {index: number; name: string; offsetBytes: number; sizeBytes: number; guid: string}
  verity: {index: number; name: string; offsetBytes: number; sizeBytes: number; guid: string}
}

export interface SlotInstallPlan {
  slot: SlotName
  partitions: SlotPartitionsPlan
  /** The new table: the slot's PARTUUIDs, and its A/B attribute bits (new: priority 2 + tries; good: successful). */
  table: GptTable
  /** The ESP's partition, where the files below go. */
  esp: {index: number; offsetBytes: number; sizeBytes: number}
  /** ESP entry files to remove first (the slot's previous entries, whatever their counter). */
  removeEntries: string[]
  /** ESP files to write (entries, loader.conf), by path. */
  writeFiles: Record<string, string>
  /** Where the slot's kernel and initrd go on the ESP. */
  bootFiles: {kernel: string; initrd: string}
  cmdline: string
}

const SECTOR = 512

function span(p: GptPartition): {offsetBytes: number; sizeBytes: number} {
  return {offsetBytes: p.firstLba * SECTOR, sizeBytes: (p.lastLba - p.firstLba + 1) * SECTOR}
}

/**
 * The slot's partition UUIDs. DPS wants them derived from the root hash (usrhash= finds them), unless another
 * partition already carries those — a byte copy of the other slot — in which case they are derived from the
 * hash and the slot name (UUIDv5), and the boot entry names them explicitly.
 */
export function slotGuids(table: GptTable, usr: GptPartition, verity: GptPartition, rootHash: string): {data: string; verity: string; derivedFromHash: boolean} {
  const fromHash = verityPartitionGuids(rootHash)
  const others = table.partitions.filter((p) => p.index !== usr.index && p.index !== verity.index).map((p) => p.guid.toLowerCase())
  if (!others.includes(fromHash.data) && !others.includes(fromHash.verity)) return {...fromHash, derivedFromHash: true}
  return {data: derivedGuid(rootHash, `partition/${usr.name}`), verity: derivedGuid(rootHash, `partition/${verity.name}`), derivedFromHash: false}
}

/**
 * Plan installing `req` into its slot on a disk with `table`, whose ESP currently holds `entries` (names in
 * loader/entries) and `loaderConfText` (loader/loader.conf).
 */
export function planSlotInstall(table: GptTable, entries: readonly string[], req: SlotInstallRequest, loaderConfText = ''): SlotInstallPlan {
  if (!/^[0-9a-f]{64}$/.test(req.rootHash)) throw new KeelError(`not a sha256 root hash: ${req.rootHash}`, 'input')
  const usr = slotPartitions(table).find((p) => p.name === `USR-${req.slot}`)
  if (!usr) throw new KeelError(`the disk has no USR-${req.slot} partition`, 'input', `its /usr slots: ${slotPartitions(table).map((p) => p.name).join(', ') || 'none'}`)
  const verity = verityPartnerOf(table, usr)
  if (!verity) throw new KeelError(`the disk has no verity partition for ${usr.name}`, 'input')
  const esp = table.partitions.find((p) => lookupPartitionType(p.typeGuid)?.name === 'esp')
  if (!esp) throw new KeelError('the disk has no EFI system partition', 'input')
  const guids = slotGuids(table, usr, verity, req.rootHash)
  const cmdlineFor = (firstBoot: boolean): string =>
    kernelCommandLine({usrHash: req.rootHash, usrFs: req.usrFs, root: req.cmdline.root, firstBoot, platform: req.cmdline.platform, extra: req.cmdline.extra, ...(guids.derivedFromHash ? {} : {usrPartitions: {data: guids.data, verity: guids.verity}})})
  const bootFiles = slotBootFiles(req.slot)
  const writeFiles = espEntries({
    slot: req.slot,
    kernelPath: `/${bootFiles.kernel}`,
    initrdPaths: [`/${bootFiles.initrd}`],
    cmdline: cmdlineFor,
    title: req.title ?? `keel ${req.version} (slot ${req.slot})`,
    version: req.version,
    ...(req.tries === undefined ? {} : {tries: req.tries}),
  })
  // From now on systemd-boot chooses among the slot entries by its own ranking (see boot-entries.ts) —
  // unless the first boot is still to come: keel-firstboot-done switches to the pattern after it.
  const currentDefault = /^default\s+(\S+)/m.exec(loaderConfText)?.[1]
  const firstBootPending = currentDefault === FIRST_BOOT_ENTRY && entries.includes(FIRST_BOOT_ENTRY)
  if (!firstBootPending) writeFiles['loader/loader.conf'] = loaderConf(SLOT_ENTRY_PATTERN)
  const removeEntries = entries.filter((name) => parseEntryFileName(name)?.slot === req.slot).map((name) => `${ENTRIES_DIR}/${name}`)

  const withBits = (slots: Slot[]): Slot[] =>
    req.tries === undefined ? slots.map((s) => (s.index === usr.index ? {...s, attributes: markGood(withField(s.attributes, 'priority', 1))} : s)) : installUpdate(slots, usr.index, req.tries)
  const slotState = withBits(slotPartitions(table).map((p) => ({index: p.index, attributes: p.attributes})))
  const bits = new Map(slotState.map((s) => [s.index, s.attributes]))
  const next: GptTable = {
    ...table,
    partitions: table.partitions.map((p) => {
      let q = bits.has(p.index) ? {...p, attributes: bits.get(p.index)!} : p
      if (p.index === usr.index) q = {...q, guid: guids.data}
      if (p.index === verity.index) q = {...q, guid: guids.verity}
      return q
    }),
  }
  return {
    slot: req.slot,
    partitions: {usr: {index: usr.index, name: usr.name, ...span(usr), guid: guids.data}, verity: {index: verity.index, name: verity.name, ...span(verity), guid: guids.verity}},
    table: next,
    esp: {index: esp.index, ...span(esp)},
    removeEntries,
    writeFiles,
    bootFiles,
    cmdline: cmdlineFor(false),
  }
}
