import {formatBytes} from '../core/progress.js'
import {attributesHex, decodeAttributes, isBootable, selectSlot} from './attributes.js'
import {type GptPartition, type GptTable, SECTOR_SIZE} from './gpt.js'
import {lookupPartitionType, verityPartitionGuids} from './guids.js'
import {slotPartitions} from './slots.js'
import type {ReadGpt} from './read.js'
import type {VerityInfo} from './verity-info.js'

/** `keel inspect`'s result: pure data derived from a read GPT (and the verity superblocks found). */
export interface InspectReport {
  image: string
  sizeBytes: number
  totalSectors: number
  diskGuid: string
  /** Which GPT copy the table was taken from. */
  gptSource: 'primary' | 'backup'
  /** Problems readGpt found (empty for a healthy disk). */
  problems: string[]
  partitions: InspectedPartition[]
  slots: InspectedSlot[]
  /** The slot partition that boots next under the selection rule, or null when none can. */
  nextBoot: string | null
}

export interface InspectedPartition {
  index: number
  name: string
  /** Registry name (esp, usr, ...) or "unknown". */
  type: string
  typeDescription: string
  typeGuid: string
  guid: string
  firstLba: number
  lastLba: number
  sizeBytes: number
  attributes: string
  /** Named flags that are set: required, no-block-io, legacy-boot, growfs, read-only, no-auto. */
  flags: string[]
}

export interface InspectedSlot {
  partition: string
  index: number
  priority: number
  tries: number
  successful: boolean
  bootable: boolean
  verity?: VerityInfo & {verityPartition: string; partitionUuidsMatch?: boolean}
}

function flagsOf(bits: bigint): string[] {
  const a = decodeAttributes(bits)
  const named: Array<[boolean, string]> = [
    [a.required, 'required'],
    [a.noBlockIo, 'no-block-io'],
    [a.legacyBootable, 'legacy-boot'],
    [a.growFs, 'growfs'],
    [a.readOnly, 'read-only'],
    [a.noAuto, 'no-auto'],
  ]
  return named.filter(([set]) => set).map(([, name]) => name)
}

/** Build the report. `verity` maps a slot's partition index to what its verity partition holds. */
export function inspectGpt(gpt: ReadGpt, verity: ReadonlyMap<number, VerityInfo & {verityPartition: string}> = new Map()): InspectReport {
  const {table} = gpt
  const partitions = [...table.partitions]
    .sort((a, b) => a.index - b.index)
    .map((p): InspectedPartition => {
      const t = lookupPartitionType(p.typeGuid)
      return {
        index: p.index,
        name: p.name,
        type: t?.name ?? 'unknown',
        typeDescription: t?.description ?? 'unknown type',
        typeGuid: p.typeGuid,
        guid: p.guid,
        firstLba: p.firstLba,
        lastLba: p.lastLba,
        sizeBytes: (p.lastLba - p.firstLba + 1) * SECTOR_SIZE,
        attributes: attributesHex(p.attributes),
        flags: flagsOf(p.attributes),
      }
    })
  const slotParts = slotPartitions(table)
  const slots = slotParts.map((p): InspectedSlot => {
    const a = decodeAttributes(p.attributes)
    const v = verity.get(p.index)
    const slot: InspectedSlot = {partition: p.name, index: p.index, priority: a.priority, tries: a.tries, successful: a.successful, bootable: isBootable(p.attributes)}
    if (v) {
      const partner = table.partitions.find((q) => q.name === v.verityPartition)
      const match = v.rootHash && partner ? (() => {
        const want = verityPartitionGuids(v.rootHash)
        return want.data === p.guid && want.verity === partner.guid
      })() : undefined
      slot.verity = {...v, ...(match === undefined ? {} : {partitionUuidsMatch: match})}
    }
    return slot
  })
  const next = selectSlot(slotParts)
  return {
    image: gpt.path,
    sizeBytes: gpt.sizeBytes,
    totalSectors: gpt.totalSectors,
    diskGuid: table.diskGuid,
    gptSource: gpt.source,
    problems: gpt.problems,
    partitions,
    slots,
    nextBoot: next?.name ?? null,
  }
}

// ---- text --------------------------------------------------------------------------------------------------

function table(rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd())
}

/** One character per partition index: 1–9, then a–z. */
export function partitionMark(index: number): string {
  return index < 10 ? String(index) : String.fromCharCode(87 + index)
}

/**
 * A proportional bar of the disk: each partition gets columns in proportion to its size (at least one, so
 * small verity partitions stay visible) and is drawn with its index; unallocated space larger than one
 * column is drawn as '.'.
 */
export function layoutBar(report: Pick<InspectReport, 'partitions' | 'totalSectors'>, width = 72): string {
  type Segment = {mark: string; sectors: number}
  const segments: Segment[] = []
  let cursor = 0
  const column = report.totalSectors / width
  for (const p of [...report.partitions].sort((a, b) => a.firstLba - b.firstLba)) {
    if (p.firstLba - cursor > column) segments.push({mark: '.', sectors: p.firstLba - cursor})
    segments.push({mark: partitionMark(p.index), sectors: p.lastLba - p.firstLba + 1})
    cursor = p.lastLba + 1
  }
  if (report.totalSectors - cursor > column) segments.push({mark: '.', sectors: report.totalSectors - cursor})
  if (!segments.length) return `[${'.'.repeat(width)}]`
  const cols = segments.map((s) => Math.max(1, Math.round((s.sectors / report.totalSectors) * width)))
  // Rounding and the one-column minimum can miss the width; the largest segment absorbs the difference.
  const largest = cols.indexOf(Math.max(...cols))
  cols[largest] = Math.max(1, cols[largest]! + width - cols.reduce((a, b) => a + b, 0))
  return `[${segments.map((s, i) => s.mark.repeat(cols[i]!)).join('')}]`
}

export function renderInspect(r: InspectReport, width = 72): string {
  const out: string[] = []
  const health = r.problems.length ? `GPT has ${r.problems.length} problem${r.problems.length > 1 ? 's' : ''} (table read from the ${r.gptSource} copy)` : 'GPT ok (primary and backup agree)'
  out.push(`Disk ${r.image}: ${formatBytes(r.sizeBytes)} (${r.totalSectors} sectors), GUID ${r.diskGuid}`, health)
  for (const p of r.problems) out.push(`  ! ${p}`)
  out.push('')
  const rows = [['#', 'NAME', 'TYPE', 'START', 'END', 'SIZE', 'PARTUUID', 'FLAGS']]
  for (const p of r.partitions) rows.push([String(p.index), p.name, p.typeDescription, String(p.firstLba), String(p.lastLba), formatBytes(p.sizeBytes), p.guid, p.flags.join(',')])
  out.push(...table(rows, new Set([0, 3, 4, 5])))
  if (r.slots.length) {
    out.push('', `Slots (next boot: ${r.nextBoot ?? 'none — no slot is bootable'})`)
    const slotRows = [[' ', 'SLOT', 'PRIORITY', 'TRIES', 'SUCCESSFUL', 'VERITY ROOT HASH']]
    for (const s of r.slots) {
      let hash = '- (no verity superblock)'
      if (s.verity?.rootHash) hash = `${s.verity.rootHash}${s.verity.partitionUuidsMatch === false ? ' (PARTUUIDs not derived from it)' : ''}`
      else if (s.verity) hash = `- (${s.verity.note ?? 'unknown'})`
      slotRows.push([s.partition === r.nextBoot ? '>' : ' ', s.partition, String(s.priority), String(s.tries), s.successful ? 'yes' : 'no', hash])
    }
    out.push(...table(slotRows))
  }
  out.push('', 'Layout', layoutBar(r, width))
  const legend = r.partitions.map((p) => `${partitionMark(p.index)} ${p.name} ${formatBytes(p.sizeBytes)}`)
  let line = ''
  for (const item of legend) {
    if (line && line.length + item.length + 3 > width + 2) {
      out.push(` ${line}`)
      line = ''
    }
    line = line ? `${line} · ${item}` : item
  }
  if (line) out.push(` ${line}`)
  return out.join('\n')
}
