import {describe, expect, it} from 'vitest'
import {
  attributesHex,
  bootAttempt,
  decodeAttributes,
  encodeAttributes,
  getField,
  installUpdate,
  markFailed,
  markGood,
  markNew,
  markSlotFailed,
  markSlotGood,
  selectSlot,
  type Slot,
  spendTry,
  withField,
} from '../../src/disk/attributes.js'

describe('attribute bit math', () => {
  it('places each field at its documented bits', () => {
    expect(withField(0n, 'priority', 15)).toBe(0x000f000000000000n) // bits 48–51
    expect(withField(0n, 'tries', 15)).toBe(0x00f0000000000000n) // bits 52–55
    expect(withField(0n, 'successful', true)).toBe(0x0100000000000000n) // bit 56
    expect(withField(0n, 'growFs', true)).toBe(1n << 59n)
    expect(withField(0n, 'readOnly', true)).toBe(0x1000000000000000n) // bit 60
    expect(withField(0n, 'noAuto', true)).toBe(0x8000000000000000n) // bit 63
    expect(withField(0n, 'required', true)).toBe(1n)
    expect(withField(0n, 'legacyBootable', true)).toBe(4n)
  })

  it('reads fields back and leaves other bits alone', () => {
    const bits = 0x0132000000000000n | (1n << 40n) // successful, tries 3, priority 2, plus an unnamed bit
    expect(getField(bits, 'priority')).toBe(2)
    expect(getField(bits, 'tries')).toBe(3)
    expect(getField(bits, 'successful')).toBe(1)
    expect(withField(bits, 'priority', 5)).toBe(0x0135000000000000n | (1n << 40n))
    expect(decodeAttributes(bits)).toMatchObject({priority: 2, tries: 3, successful: true, readOnly: false, otherBits: 1n << 40n})
  })

  it('encodes a field set and renders hex as sgdisk does', () => {
    expect(attributesHex(encodeAttributes({priority: 1, successful: true, readOnly: true}))).toBe('1101000000000000')
    expect(attributesHex(encodeAttributes({priority: 2, tries: 1}))).toBe('0012000000000000')
  })

  it('refuses values that do not fit the field', () => {
    expect(() => withField(0n, 'priority', 16)).toThrow(RangeError)
    expect(() => withField(0n, 'tries', -1)).toThrow(RangeError)
  })
})

const attr = (priority: number, tries: number, successful: boolean): bigint => encodeAttributes({priority, tries, successful})
const slots = (a: bigint, b: bigint): Slot[] => [
  {index: 2, attributes: a},
  {index: 4, attributes: b},
]

describe('slot selection rule', () => {
  it.each([
    // [A prio, tries, ok], [B prio, tries, ok], expected index
    [[1, 0, true], [0, 0, false], 2],
    [[1, 0, true], [2, 1, false], 4],
    [[1, 0, true], [2, 0, false], 2], // B used its try without success: fall back
    [[1, 0, true], [2, 0, true], 4],
    [[2, 0, true], [2, 0, true], 2], // tie: lower index
    [[0, 0, true], [0, 3, false], undefined], // priority 0 never boots
    [[1, 0, false], [1, 0, false], undefined], // neither good nor on trial
    [[3, 5, false], [15, 0, false], 2],
  ] as const)('A %j B %j → %s', (a, b, want) => {
    expect(selectSlot(slots(attr(...a), attr(...b)))?.index).toBe(want)
  })
})

describe('slot lifecycle', () => {
  it('single-slot transitions', () => {
    const fresh = markNew(attr(1, 0, true), 2, 3)
    expect(decodeAttributes(fresh)).toMatchObject({priority: 2, tries: 3, successful: false})
    expect(getField(spendTry(fresh), 'tries')).toBe(2)
    expect(spendTry(attr(2, 0, true))).toBe(attr(2, 0, true))
    expect(markGood(attr(2, 1, false))).toBe(attr(2, 0, true))
    expect(markFailed(attr(2, 1, true))).toBe(attr(0, 0, false))
  })

  it('build → update → good boot keeps B', () => {
    let s = slots(attr(1, 0, true), attr(0, 0, false))
    expect(bootAttempt(s).chosen?.index).toBe(2)
    s = installUpdate(s, 4, 1)
    expect(s.map((x) => decodeAttributes(x.attributes))).toMatchObject([
      {priority: 1, tries: 0, successful: true},
      {priority: 2, tries: 1, successful: false},
    ])
    const boot = bootAttempt(s)
    expect(boot.chosen?.index).toBe(4)
    expect(getField(boot.chosen!.attributes, 'tries')).toBe(0)
    s = markSlotGood(boot.slots, 4)
    expect(bootAttempt(s).chosen?.index).toBe(4)
    expect(bootAttempt(s).slots).toEqual(s) // a proven slot spends nothing
  })

  it('update → failed boot rolls back to A, and B is never tried again', () => {
    let s = installUpdate(slots(attr(1, 0, true), attr(0, 0, false)), 4, 1)
    const first = bootAttempt(s) // B spends its only try and the boot fails (nobody marks it good)
    expect(first.chosen?.index).toBe(4)
    s = first.slots
    for (let i = 0; i < 3; i++) {
      const next = bootAttempt(s)
      expect(next.chosen?.index).toBe(2)
      s = next.slots
    }
    expect(decodeAttributes(s[1]!.attributes)).toMatchObject({priority: 2, tries: 0, successful: false})
  })

  it('an explicitly failed slot is not selected even when proven before', () => {
    const s = markSlotFailed(slots(attr(1, 0, true), attr(2, 0, true)), 4)
    expect(selectSlot(s)?.index).toBe(2)
    expect(() => markSlotGood(s, 9)).toThrow(/no slot at partition 9/)
  })

  it('installing the next update over A demotes B to the fallback', () => {
    const s = installUpdate(slots(attr(1, 0, true), attr(2, 0, true)), 2, 2)
    expect(s.map((x) => attributesHex(x.attributes))).toEqual(['0022000000000000', '0101000000000000'])
  })
})
