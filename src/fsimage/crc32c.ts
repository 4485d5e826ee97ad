/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as erofs uses for its superblock checksum. Node's
 * zlib only offers the IEEE polynomial, so a small table-driven version lives here.
 */
const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/**
 * The raw CRC register after `data`, starting from `seed`, with no final inversion — the form of the Linux
 * kernel's `crc32c(seed, data, len)`. The standard CRC-32C of `data` is `~crc32cRaw(~0, data) >>> 0`.
 */
export function crc32cRaw(seed: number, data: Uint8Array): number {
  let crc = seed >>> 0
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return crc >>> 0
}

/** The standard CRC-32C check value (e.g. "123456789" → 0xe3069283). */
export function crc32c(data: Uint8Array): number {
  return ~crc32cRaw(0xffffffff, data) >>> 0
}
