import {describe, expect, it} from 'vitest'
import {
  decodeGuid,
  derivedGuid,
  encodeGuid,
  KEEL_GPT_NAMESPACE,
  lookupPartitionType,
  partitionTypeGuid,
  uuidV5,
  verityPartitionGuids,
} from '../../src/disk/guids.js'

const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'

describe('GUID mixed-endian encoding', () => {
  it('stores the ESP type GUID as the UEFI spec lays it out', () => {
    // C12A7328-F81F-11D2-BA4B-00A0C93EC93B: first three fields little-endian, the rest as written.
    const bytes = [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b]
    expect([...encodeGuid('C12A7328-F81F-11D2-BA4B-00A0C93EC93B')]).toEqual(bytes)
    expect(decodeGuid(Buffer.from(bytes))).toBe('c12a7328-f81f-11d2-ba4b-00a0c93ec93b')
  })

  it('decodes at an offset and round-trips', () => {
    const g = '0fc63daf-8483-4772-8e79-3d69d8477de4'
    const buf = Buffer.concat([Buffer.alloc(5, 0xff), encodeGuid(g)])
    expect(buf.subarray(5, 9).toString('hex')).toBe('af3dc60f')
    expect(decodeGuid(buf, 5)).toBe(g)
  })

  it('rejects text that is not a GUID', () => {
    expect(() => encodeGuid('not-a-guid')).toThrow(/not a GUID/)
  })
})

describe('derived GUIDs', () => {
  it('uuidV5 matches the published vector (Python docs: uuid5(NAMESPACE_DNS, "python.org"))', () => {
    expect(uuidV5(NAMESPACE_DNS, 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d')
  })

  it("keel's namespace is itself uuid5(NAMESPACE_URL, 'keel:gpt'), as documented", () => {
    expect(uuidV5(NAMESPACE_URL, 'keel:gpt')).toBe(KEEL_GPT_NAMESPACE)
  })

  it('derivedGuid is stable, version 5 and RFC variant, and differs per purpose and seed', () => {
    const a = derivedGuid('seed-1', 'disk')
    expect(derivedGuid('seed-1', 'disk')).toBe(a)
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(derivedGuid('seed-1', 'partition/ROOT')).not.toBe(a)
    expect(derivedGuid('seed-2', 'disk')).not.toBe(a)
  })

  it('verity partition UUIDs are the first and last 128 bits of the root hash, unmodified (DPS)', () => {
    const hash = '00112233445566778899aabbccddeeff' + 'f0e1d2c3b4a5968778695a4b3c2d1e0f'
    expect(verityPartitionGuids(hash)).toEqual({
      data: '00112233-4455-6677-8899-aabbccddeeff',
      verity: 'f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f',
    })
    expect(() => verityPartitionGuids('abcd')).toThrow(/root hash/)
  })
})

describe('partition type registry', () => {
  it('resolves architecture-specific DPS types (values from the UAPI DPS text)', () => {
    expect(partitionTypeGuid('usr', 'x86-64')).toBe('8484680c-9521-48c6-9c11-b0720656f69e')
    expect(partitionTypeGuid('usr-verity', 'x86-64')).toBe('77ff5f63-e7b6-4633-acf4-1565b864c0e6')
    expect(partitionTypeGuid('usr', 'arm64')).toBe('b0e01050-ee5f-4390-949a-9101b17104e9')
    expect(partitionTypeGuid('usr-verity', 'arm64')).toBe('6e11a4e7-fbca-4ded-b9e9-e1a512bb664e')
    expect(partitionTypeGuid('root', 'x86-64')).toBe('4f68bce3-e8cd-4db1-96e7-fbcaf984b709')
    expect(partitionTypeGuid('esp', 'arm64')).toBe('c12a7328-f81f-11d2-ba4b-00a0c93ec93b')
    expect(partitionTypeGuid('coreos-usr', 'x86-64')).toBe('5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6')
  })

  it('looks a GUID up in either case and names its architecture', () => {
    expect(lookupPartitionType('77FF5F63-E7B6-4633-ACF4-1565B864C0E6')).toEqual({name: 'usr-verity', description: '/usr verity (DPS), x86-64', architecture: 'x86-64'})
    expect(lookupPartitionType('3884dd41-8582-4404-b9a8-e9b84f2df50e')?.name).toBe('coreos-resize')
    expect(lookupPartitionType('11111111-2222-3333-4444-555555555555')).toBeUndefined()
  })
})
