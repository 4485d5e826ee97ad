import type {Slot} from './attributes.js'
import type {GptPartition, GptTable} from './gpt.js'
import {lookupPartitionType, USR_SLOT_TYPES} from './guids.js'

/** The usr-verity partition holding a slot's hash tree: `<NAME>-verity`, else the very next partition. */
export function verityPartnerOf(table: GptTable, usr: GptPartition): GptPartition | undefined {
  const isVerity = (p: GptPartition) => lookupPartitionType(p.typeGuid)?.name === 'usr-verity'
  return table.partitions.find((p) => isVerity(p) && p.name === `${usr.name}-verity`) ?? table.partitions.find((p) => isVerity(p) && p.index === usr.index + 1)
}

/** Partitions that are bootable /usr slots (DPS usr of any architecture, or CoreOS usr). */
export function slotPartitions(table: GptTable): GptPartition[] {
  return table.partitions.filter((p) => {
    const t = lookupPartitionType(p.typeGuid)
    return t !== undefined && USR_SLOT_TYPES.includes(t.name)
  })
}

/**
 * Apply a slot transition (installUpdate, markSlotGood, markSlotFailed, bootAttempt's slots...) to a table:
 * the slots' attribute words are replaced, everything else is kept.
 */
export function withSlots(table: GptTable, change: (slots: Slot[]) => Slot[]): GptTable {
  const changed = change(slotPartitions(table).map((p) => ({index: p.index, attributes: p.attributes})))
  const byIndex = new Map(changed.map((s) => [s.index, s.attributes]))
  return {...table, partitions: table.partitions.map((p) => (byIndex.has(p.index) ? {...p, attributes: byIndex.get(p.index)!} : p))}
}
