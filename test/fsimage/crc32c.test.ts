import {describe, expect, it} from 'vitest'
import {crc32c, crc32cRaw} from '../../src/fsimage/crc32c.js'

describe('crc32c', () => {
  it('gives the published CRC-32C check values', () => {
    // RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa)
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43)
    expect(crc32c(Buffer.from(Array.from({length: 32}, (_, i) => i)))).toBe(0x46dd794e)
  })

  it('raw form is the kernel crc32c(seed, …): chained calls equal one call, no final inversion', () => {
    const data = Buffer.from('erofs superblock checksum')
    const whole = crc32cRaw(0xffffffff, data)
    expect(crc32cRaw(crc32cRaw(0xffffffff, data.subarray(0, 7)), data.subarray(7))).toBe(whole)
    expect((~whole) >>> 0).toBe(crc32c(data))
  })
})
