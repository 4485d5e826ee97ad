/**
 * GPT partition attribute bits (the u64 at byte 48 of an entry). Bits 0–2 are UEFI's; 48–63 belong to the
 * partition type. keel uses ChromeOS/CoreOS's A/B slot fields (priority 48–51, tries 52–55, successful 56)
 * on /usr partitions, and the UAPI DPS flags growfs 59, read-only 60, no-auto 63; the two sets do not overlap.
 */

interface BitField {
  shift: bigint
  width: bigint
}

const FIELDS = {
  required: {shift: 0n, width: 1n},
  noBlockIo: {shift: 1n, width: 1n},
  legacyBootable: {shift: 2n, width: 1n},
  priority: {shift: 48n, width: 4n},
  tries: {shift: 52n, width: 4n},
  successful: {shift: 56n, width: 1n},
  growFs: {shift: 59n, width: 1n},
  readOnly: {shift: 60n, width: 1n},
  noAuto: {shift: 63n, width: 1n},
} as const satisfies Record<string, BitField>

export type AttributeField = keyof typeof FIELDS
export const ATTRIBUTE_FIELDS = Object.keys(FIELDS) as AttributeField[]

const U64 = (1n << 64n) - 1n

function mask(f: BitField): bigint {
  return ((1n << f.width) - 1n) << f.shift
}

/** The value of one field (0/1 for flags, 0–15 for priority and tries). */
export function getField(bits: bigint, field: AttributeField): number {
  const f = FIELDS[field]
  return Number((bits & mask(f)) >> f.shift)
}

/** `bits` with one field replaced. Out-of-range values throw: silently masking them would boot the wrong slot. */
export function withField(bits: bigint, field: AttributeField, value: number | boolean): bigint {
  const f = FIELDS[field]
  const v = BigInt(typeof value === 'boolean' ? Number(value) : value)
  const max = (1n << f.width) - 1n
  if (v < 0n || v > max) throw new RangeError(`${field} must be 0..${max}, got ${value}`)
  return ((bits & ~mask(f)) | (v << f.shift)) & U64
}

/** The named fields of an attribute word, plus any other bits as they were. */
export interface PartitionAttributes {
  required: boolean
  noBlockIo: boolean
  legacyBootable: boolean
  priority: number
  tries: number
  successful: boolean
  growFs: boolean
  readOnly: boolean
  noAuto: boolean
}

const KNOWN_MASK = Object.values(FIELDS).reduce((m, f) => m | mask(f), 0n)

export function decodeAttributes(bits: bigint): PartitionAttributes & {otherBits: bigint} {
  return {
    required: getField(bits, 'required') === 1,
    noBlockIo: getField(bits, 'noBlockIo') === 1,
    legacyBootable: getField(bits, 'legacyBootable') === 1,
    priority: getField(bits, 'priority'),
    tries: getField(bits, 'tries'),
    successful: getField(bits, 'successful') === 1,
    growFs: getField(bits, 'growFs') === 1,
    readOnly: getField(bits, 'readOnly') === 1,
    noAuto: getField(bits, 'noAuto') === 1,
    otherBits: bits & ~KNOWN_MASK & U64,
  }
}

export function encodeAttributes(a: Partial<PartitionAttributes>, otherBits = 0n): bigint {
  let bits = otherBits & ~KNOWN_MASK & U64
  for (const field of ATTRIBUTE_FIELDS) {
    const v = a[field]
    if (v !== undefined) bits = withField(bits, field, v)
  }
  return bits
}

/** 16 hex digits, as sgdisk and `keel inspect --json` show an attribute word. */
export function attributesHex(bits: bigint): string {
  return bits.toString(16).padStart(16, '0')
}

// ---- A/B slots -------------------------------------------------------------------------------------------

/** One bootable /usr slot: its 1-based partition index and attribute word. */
export interface Slot {
  index: number
  attributes: bigint
}

/** Whether a bootloader may pick this slot at all: priority > 0 and either proven good or with tries left. */
export function isBootable(bits: bigint): boolean {
  return getField(bits, 'priority') > 0 && (getField(bits, 'tries') > 0 || getField(bits, 'successful') === 1)
}

/**
 * The slot that boots next (CoreOS GRUB gptprio.next): the highest priority among bootable slots, ties going
 * to the lower partition index. Undefined when no slot is bootable.
 */
export function selectSlot<S extends Slot>(slots: readonly S[]): S | undefined {
  let best: S | undefined
  for (const s of [...slots].sort((a, b) => a.index - b.index)) {
    if (!isBootable(s.attributes)) continue
    if (!best || getField(s.attributes, 'priority') > getField(best.attributes, 'priority')) best = s
  }
  return best
}

// Lifecycle of one slot's attribute word. Each is pure: attribute word in, attribute word out.

/** A freshly written slot: to be tried `tries` times at `priority`, not yet proven. */
export function markNew(bits: bigint, priority: number, tries: number): bigint {
  return withField(withField(withField(bits, 'priority', priority), 'tries', tries), 'successful', false)
}

/** The bootloader commits to booting this slot: one try is used up (no change once tries is 0). */
export function spendTry(bits: bigint): bigint {
  const tries = getField(bits, 'tries')
  return tries > 0 ? withField(bits, 'tries', tries - 1) : bits
}

/** The slot reached a healthy boot: successful from now on, no tries pending. */
export function markGood(bits: bigint): bigint {
  return withField(withField(bits, 'successful', true), 'tries', 0)
}

/** The slot is known bad (e.g. failed verification): never selected again until rewritten. */
export function markFailed(bits: bigint): bigint {
  return withField(withField(withField(bits, 'priority', 0), 'tries', 0), 'successful', false)
}

function replace<S extends Slot>(slots: readonly S[], index: number, f: (bits: bigint) => bigint): S[] {
  if (!slots.some((s) => s.index === index)) throw new RangeError(`no slot at partition ${index}`)
  return slots.map((s) => (s.index === index ? {...s, attributes: f(s.attributes)} : s))
}

/**
 * An update wrote the slot at `index`: it becomes the preferred slot (priority 2) with `tries` attempts,
 * and every other slot that could boot drops to priority 1 so it is the fallback (as update_engine does).
 */
export function installUpdate<S extends Slot>(slots: readonly S[], index: number, tries = 1): S[] {
  const demoted = slots.map((s) => (s.index !== index && getField(s.attributes, 'priority') > 0 ? {...s, attributes: withField(s.attributes, 'priority', 1)} : s))
  return replace(demoted, index, (b) => markNew(b, 2, tries))
}

/**
 * One boot attempt as the bootloader performs it: select a slot and, if it is still on trial, spend a try
 * (the caller rewrites both GPT copies before booting it). Returns the chosen slot and the new state.
 */
export function bootAttempt<S extends Slot>(slots: readonly S[]): {chosen: S | undefined; slots: S[]} {
  const chosen = selectSlot(slots)
  if (!chosen) return {chosen, slots: [...slots]}
  const after = replace(slots, chosen.index, spendTry)
  return {chosen: after.find((s) => s.index === chosen.index), slots: after}
}

export function markSlotGood<S extends Slot>(slots: readonly S[], index: number): S[] {
  return replace(slots, index, markGood)
}

export function markSlotFailed<S extends Slot>(slots: readonly S[], index: number): S[] {
  return replace(slots, index, markFailed)
}
