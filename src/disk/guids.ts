import {createHash} from 'node:crypto'
import {KeelError} from '../core/errors.js'

/**
 * GUIDs as GPT stores them. The canonical text form is what humans, sgdisk and blkid show; on disk the
 * first three fields are little-endian and the last two big-endian ("mixed-endian"), as the UEFI spec has it.
 */

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isGuid(text: string): boolean {
  return GUID_RE.test(text.toLowerCase())
}

/** Lower-case canonical form; throws on anything that is not 8-4-4-4-12 hex. */
export function normalizeGuid(text: string): string {
  const lower = text.toLowerCase()
  if (!GUID_RE.test(lower)) throw new KeelError(`not a GUID: ${text}`, 'input')
  return lower
}

/** The 16 bytes GPT stores for `guid`. */
export function encodeGuid(guid: string): Buffer {
  const hex = normalizeGuid(guid).replace(/-/g, '')
  const bytes = Buffer.from(hex, 'hex')
  // Fields 1–3 flip to little-endian; the trailing 8 bytes keep their order.
  return Buffer.concat([bytes.subarray(0, 4).reverse(), bytes.subarray(4, 6).reverse(), bytes.subarray(6, 8).reverse(), bytes.subarray(8)])
}

/** The canonical text of the 16 GPT bytes at `offset`. */
export function decodeGuid(buf: Uint8Array, offset = 0): string {
  const b = Buffer.from(buf.subarray(offset, offset + 16))
  const ordered = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)])
  return formatGuidBytes(ordered)
}

/** 16 bytes in text order (no endian swapping) as 8-4-4-4-12. */
export function formatGuidBytes(bytes: Uint8Array): string {
  const h = Buffer.from(bytes.subarray(0, 16)).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export const NIL_GUID = '00000000-0000-0000-0000-000000000000'

/** RFC 9562 name-based UUID, version 5 (SHA-1): the same namespace and name always give the same UUID. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(normalizeGuid(namespace).replace(/-/g, ''), 'hex')
  const digest = createHash('sha1').update(ns).update(name, 'utf8').digest()
  const bytes = Buffer.from(digest.subarray(0, 16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  return formatGuidBytes(bytes)
}

/** keel's own namespace for derived disk and partition GUIDs (itself uuidV5(NAMESPACE_URL, 'keel:gpt')). */
export const KEEL_GPT_NAMESPACE = '619724e2-a705-58aa-88d1-a219797cf042'

/**
 * A disk or partition GUID derived from the build's inputs: UUIDv5 in keel's namespace over
 * `<seed>/<purpose>`, e.g. seed = the inputs digest, purpose = "disk" or "partition/ROOT".
 */
export function derivedGuid(seed: string, purpose: string): string {
  return uuidV5(KEEL_GPT_NAMESPACE, `${seed}/${purpose}`)
}

/**
 * The partition UUIDs systemd looks for when `usrhash=`/`roothash=` names a verity root hash (UAPI DPS):
 * the data partition's UUID is the hash's first 128 bits, the verity partition's the last 128 bits, taken
 * as text-order bytes (no version bits are set — systemd compares the raw 128-bit values).
 */
export function verityPartitionGuids(rootHashHex: string): {data: string; verity: string} {
  const hash = rootHashHex.toLowerCase()
  if (!/^[0-9a-f]+$/.test(hash) || hash.length < 64 || hash.length % 2) {
    throw new KeelError(`not a verity root hash (at least 32 bytes of hex): ${rootHashHex}`, 'input')
  }
  const bytes = Buffer.from(hash, 'hex')
  return {data: formatGuidBytes(bytes.subarray(0, 16)), verity: formatGuidBytes(bytes.subarray(bytes.length - 16))}
}

export type Architecture = 'x86-64' | 'arm64'

/** Debian's architecture names → the names the partition type registry uses. */
export function architectureFromDebian(debianArch: string): Architecture {
  if (debianArch === 'amd64') return 'x86-64'
  if (debianArch === 'arm64') return 'arm64'
  throw new KeelError(`no partition types known for architecture '${debianArch}'`, 'input', 'supported: amd64, arm64')
}

interface TypeEntry {
  /** What `keel inspect` shows. */
  description: string
  /** One GUID for every architecture, or one per architecture (DPS root/usr types). */
  guid: string | Record<Architecture, string>
}

/**
 * Partition types keel can lay out, by the name layouts use. GUIDs checked against the UAPI Discoverable
 * Partitions Specification, the UEFI spec (ESP) and Flatcar's GRUB/disk_util (CoreOS types).
 */
export const PARTITION_TYPES = {
  esp: {description: 'EFI System', guid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'},
  xbootldr: {description: 'Extended Boot Loader', guid: 'bc13c2ff-59e6-4262-a352-b275fd6f7172'},
  'bios-boot': {description: 'BIOS boot', guid: '21686148-6449-6e6f-744e-656564454649'},
  'linux-data': {description: 'Linux data', guid: '0fc63daf-8483-4772-8e79-3d69d8477de4'},
  root: {description: 'root (DPS)', guid: {'x86-64': '4f68bce3-e8cd-4db1-96e7-fbcaf984b709', arm64: 'b921b045-1df0-41c3-af44-4c6f280d3fae'}},
  'root-verity': {description: 'root verity (DPS)', guid: {'x86-64': '2c7357ed-ebd2-46d9-aec1-23d437ec2bf5', arm64: 'df3300ce-d69f-4c92-978c-9bfb0f38d820'}},
  usr: {description: '/usr (DPS)', guid: {'x86-64': '8484680c-9521-48c6-9c11-b0720656f69e', arm64: 'b0e01050-ee5f-4390-949a-9101b17104e9'}},
  'usr-verity': {description: '/usr verity (DPS)', guid: {'x86-64': '77ff5f63-e7b6-4633-acf4-1565b864c0e6', arm64: '6e11a4e7-fbca-4ded-b9e9-e1a512bb664e'}},
  'usr-verity-sig': {description: '/usr verity signature (DPS)', guid: {'x86-64': 'e7bb33fb-06cf-4e81-8273-e543b413e2e2', arm64: 'c23ce4ff-44bd-4b00-b2d4-b41b3419e02a'}},
  'coreos-usr': {description: '/usr (CoreOS)', guid: '5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6'},
  'coreos-resize': {description: 'root, resized on boot (CoreOS)', guid: '3884dd41-8582-4404-b9a8-e9b84f2df50e'},
  'coreos-reserved': {description: 'reserved (CoreOS)', guid: 'c95dc21a-df0e-4340-8d7b-26cbfa9a03e0'},
} as const satisfies Record<string, TypeEntry>

export type PartitionTypeName = keyof typeof PARTITION_TYPES

export const PARTITION_TYPE_NAMES = Object.keys(PARTITION_TYPES) as PartitionTypeName[]

/** The GPT type GUID for a registry name on an architecture. */
export function partitionTypeGuid(name: PartitionTypeName, arch: Architecture): string {
  const guid = (PARTITION_TYPES[name] as TypeEntry).guid
  return typeof guid === 'string' ? guid : guid[arch]
}

/** Registry name and architecture (when arch-specific) of a type GUID, or undefined for an unknown type. */
export function lookupPartitionType(typeGuid: string): {name: PartitionTypeName; description: string; architecture?: Architecture} | undefined {
  const wanted = typeGuid.toLowerCase()
  for (const name of PARTITION_TYPE_NAMES) {
    const entry = PARTITION_TYPES[name] as TypeEntry
    if (typeof entry.guid === 'string') {
      if (entry.guid === wanted) return {name, description: entry.description}
    } else {
      for (const [arch, guid] of Object.entries(entry.guid) as Array<[Architecture, string]>) {
        if (guid === wanted) return {name, description: `${entry.description}, ${arch}`, architecture: arch}
      }
    }
  }
  return undefined
}

/** Types that hold a bootable /usr slot (the A/B selection rule runs over these). */
export const USR_SLOT_TYPES: readonly PartitionTypeName[] = ['usr', 'coreos-usr']
