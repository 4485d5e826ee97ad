/** A compression choice for a filesystem image: an algorithm name from the registry and an optional level. */
export interface Compression {
  algorithm: string
  level?: number
}

/** 'lz4hc,9' form, as mkfs.erofs takes it and results report it. */
export function formatCompression(c: Compression): string {
  return c.level === undefined ? c.algorithm : `${c.algorithm},${c.level}`
}

/** The filesystems keel writes (the registry in registry.ts has one entry per name). */
export type FilesystemName = 'erofs' | 'squashfs' | 'ext4' | 'vfat'
