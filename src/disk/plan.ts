import {KeelError} from '../core/errors.js'
import {formatBytes} from '../core/progress.js'
import {DEFAULT_USR_FILESYSTEM, type UsrFilesystemName} from '../fsimage/usr.js'
import {planVerity} from '../verity/tree.js'
import {attributesHex, encodeAttributes, type PartitionAttributes} from './attributes.js'
import {DEFAULT_ENTRY_COUNT, ENTRY_SIZE, type GptTable, gptGeometry, SECTOR_SIZE} from './gpt.js'
import {type Architecture, derivedGuid, type PartitionTypeName, partitionTypeGuid, verityPartitionGuids} from './guids.js'
import type {Layout, SlotName} from './layout.js'

/** What the build puts into a partition. */
export type PartitionContent =
  | {kind: 'filesystem'; fs: 'vfat' | 'ext4'; label: string}
  | {kind: 'usr'; fs: UsrFilesystem; slot: SlotName}
  | {kind: 'verity'; slot: SlotName}
  | {kind: 'empty'}

/** What a USR slot may hold: the fsimage stage's /usr filesystems (one registry, not a second list). */
export type UsrFilesystem = UsrFilesystemName

export interface PlanInputs {
  /** Digest of the build's inputs: every derived GUID hangs off it, so equal inputs give equal GUIDs. */
  seed: string
  architecture: Architecture
  /** Overrides the layout's disk size (bytes). */
  diskSize?: number
  /** Per-partition size overrides by name (bytes). */
  sizes?: Record<string, number>
  usrFilesystem?: UsrFilesystem
  /**
   * Slots that receive a /usr image. With a verity root hash, the slot's usr and usr-verity partition UUIDs
   * are the hash's first and last 128 bits (DPS), so `usrhash=` finds them. Slots not listed stay empty.
   */
  slots?: Partial<Record<SlotName, {rootHash?: string}>>
}

export interface PlannedPartition {
  /** 1-based GPT entry index. */
  index: number
  name: string
  type: PartitionTypeName
  typeGuid: string
  guid: string
  /** Why the GUID is what it is. */
  guidSource: 'layout' | 'verity-root-hash' | 'derived'
  firstLba: number
  lastLba: number
  offsetBytes: number
  sizeBytes: number
  attributes: PartitionAttributes
  attributesHex: string
  content: PartitionContent
  slot?: SlotName
}

export interface DiskPlan {
  layout: string
  sectorSize: number
  sizeBytes: number
  totalSectors: number
  diskGuid: string
  alignmentBytes: number
  firstUsableLba: number
  lastUsableLba: number
  partitions: PlannedPartition[]
}

const NO_ATTRIBUTES: PartitionAttributes = {
  required: false,
  noBlockIo: false,
  legacyBootable: false,
  priority: 0,
  tries: 0,
  successful: false,
  growFs: false,
  readOnly: false,
  noAuto: false,
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to
}

function alignDown(n: number, to: number): number {
  return Math.floor(n / to) * to
}

/**
 * Lay the partitions out on 512-byte sectors: each starts on the layout's alignment, in layout order, and
 * the growing partition takes whatever the disk size leaves. Pure: layout and inputs in, plan out.
 */
export function planDisk(layout: Layout, inputs: PlanInputs): DiskPlan {
  const align = layout.disk.alignment
  const unknown = Object.keys(inputs.sizes ?? {}).filter((n) => !layout.partitions.some((p) => p.name === n))
  if (unknown.length) throw new KeelError(`size given for unknown partition(s): ${unknown.join(', ')}`, 'input', `layout ${layout.name} has: ${layout.partitions.map((p) => p.name).join(', ')}`)
  for (const [name, size] of Object.entries(inputs.sizes ?? {})) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE) throw new KeelError(`size of ${name} (${size}) is not a positive whole number of 512-byte sectors`, 'input')
  }
  const geometryOverhead = gptGeometry(0).entrySectors + 1 // backup entries + backup header

  // First pass: every partition at its (minimum) size.
  let cursor = alignUp(gptGeometry(0).firstUsableLba * SECTOR_SIZE, align)
  const spans = layout.partitions.map((p) => {
    const size = inputs.sizes?.[p.name] ?? p.size
    const start = alignUp(cursor, align)
    cursor = start + size
    return {p, start, size}
  })
  const requestedDisk = inputs.diskSize ?? layout.disk.size
  const minimumDisk = alignUp(cursor + geometryOverhead * SECTOR_SIZE, layout.disk.sizeAlignment)
  let sizeBytes = minimumDisk
  if (requestedDisk !== undefined) {
    const disk = alignUp(requestedDisk, layout.disk.sizeAlignment)
    if (disk < minimumDisk) {
      throw new KeelError(`the ${layout.name} layout needs a disk of at least ${minimumDisk} bytes, ${requestedDisk} was asked for`, 'input')
    }
    sizeBytes = disk
    // Second pass: the growing partition takes the slack, whole alignment units, and later ones move along.
    const growIndex = spans.findIndex((s) => s.p.grow)
    if (growIndex >= 0) {
      const usableEnd = sizeBytes - geometryOverhead * SECTOR_SIZE
      const slack = alignDown(usableEnd - cursor, align)
      spans[growIndex]!.size += slack
      for (const s of spans.slice(growIndex + 1)) s.start += slack
    }
  }
  checkVerityRoom(spans.map(({p, size}) => ({name: p.name, slot: p.slot, content: p.content, size})))
  const totalSectors = sizeBytes / SECTOR_SIZE
  const g = gptGeometry(totalSectors)
  const usrFs = inputs.usrFilesystem ?? DEFAULT_USR_FILESYSTEM
  const claimed = new Set<string>()

  const partitions = spans.map(({p, start, size}): PlannedPartition => {
    const slotInput = p.slot ? inputs.slots?.[p.slot] : undefined
    const filled = p.slot ? slotInput !== undefined : true
    let content: PartitionContent
    if (!filled || p.content === 'empty') content = {kind: 'empty'}
    else if (p.content === 'usr') content = {kind: 'usr', fs: usrFs, slot: p.slot!}
    else if (p.content === 'verity') content = {kind: 'verity', slot: p.slot!}
    else content = {kind: 'filesystem', fs: p.content, label: p.label}

    let guid = derivedGuid(inputs.seed, `partition/${p.name}`)
    let guidSource: PlannedPartition['guidSource'] = 'derived'
    if (p.guid) {
      guid = p.guid
      guidSource = 'layout'
    } else if (slotInput?.rootHash && (p.content === 'usr' || p.content === 'verity')) {
      const fromHash = verityPartitionGuids(slotInput.rootHash)[p.content === 'usr' ? 'data' : 'verity']
      // A slot holding a copy of another slot's image has the same hash; the first slot keeps the
      // hash-derived UUIDs so `usrhash=` stays unambiguous.
      if (!claimed.has(fromHash)) {
        guid = fromHash
        guidSource = 'verity-root-hash'
      }
    }
    claimed.add(guid)

    let attributes: PartitionAttributes = {...NO_ATTRIBUTES, ...p.attributes}
    // An empty slot must never be chosen to boot, whatever the layout says.
    if (p.slot && !filled) attributes = {...attributes, priority: 0, tries: 0, successful: false}
    return {
      index: p.number,
      name: p.name,
      type: p.type,
      typeGuid: partitionTypeGuid(p.type, inputs.architecture),
      guid,
      guidSource,
      firstLba: start / SECTOR_SIZE,
      lastLba: (start + size) / SECTOR_SIZE - 1,
      offsetBytes: start,
      sizeBytes: size,
      attributes,
      attributesHex: attributesHex(encodeAttributes(attributes)),
      content,
      ...(p.slot ? {slot: p.slot} : {}),
    }
  })
  return {
    layout: layout.name,
    sectorSize: SECTOR_SIZE,
    sizeBytes,
    totalSectors,
    diskGuid: derivedGuid(inputs.seed, 'disk'),
    alignmentBytes: align,
    firstUsableLba: g.firstUsableLba,
    lastUsableLba: g.lastUsableLba,
    partitions,
  }
}

/**
 * Each slot's verity partition must hold the hash tree of a /usr image as large as the slot (4 KiB blocks,
 * as keel verity formats), or an update that fills the slot could not be installed.
 */
function checkVerityRoom(parts: Array<{name: string; slot?: SlotName; content: string; size: number}>): void {
  for (const verity of parts.filter((p) => p.content === 'verity')) {
    const usr = parts.find((p) => p.slot === verity.slot && p.content === 'usr')
    if (!usr) continue
    const needed = planVerity(usr.size).hashDeviceSize
    if (needed > verity.size) {
      throw new KeelError(
        `${verity.name} (${formatBytes(verity.size)}) cannot hold the verity tree of a full ${usr.name} (${formatBytes(usr.size)} needs ${formatBytes(needed)})`,
        'input',
      )
    }
  }
}

/** The GPT a plan describes, for gpt.ts to encode. */
export function planToGptTable(plan: DiskPlan): GptTable {
  return {
    diskGuid: plan.diskGuid,
    totalSectors: plan.totalSectors,
    firstUsableLba: plan.firstUsableLba,
    lastUsableLba: plan.lastUsableLba,
    entryCount: DEFAULT_ENTRY_COUNT,
    entrySize: ENTRY_SIZE,
    partitions: plan.partitions.map((p) => ({
      index: p.index,
      typeGuid: p.typeGuid,
      guid: p.guid,
      firstLba: p.firstLba,
      lastLba: p.lastLba,
      attributes: encodeAttributes(p.attributes),
      name: p.name,
    })),
  }
}
