import {createCipheriv} from 'node:crypto'

/**
 * Deterministic bytes that neither compress nor repeat (AES-CTR keystream of the seed), standing in for
 * filesystem images and verity data in tests.
 */
export function pseudoRandomBytes(size: number, seed = 'keel'): Buffer {
  const key = Buffer.alloc(16)
  key.write(seed)
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size))
}
