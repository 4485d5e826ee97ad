import {describe, expect, it} from 'vitest'
import {FILESYSTEM_NAMES, FILESYSTEMS} from '../../src/fsimage/registry.js'
import {DEFAULT_USR_FILESYSTEM, USR_FILESYSTEMS, USR_IMAGE_MAKERS, usrCompressionChoices} from '../../src/fsimage/usr.js'

describe('/usr filesystems from the registry', () => {
  it('are the read-only registry filesystems that have a maker, in registry order', () => {
    expect(USR_FILESYSTEMS).toEqual(FILESYSTEM_NAMES.filter((n) => FILESYSTEMS[n].readOnly && n in USR_IMAGE_MAKERS))
    // Every maker is for a read-only filesystem: none is silently left out of the choices.
    for (const n of Object.keys(USR_IMAGE_MAKERS)) expect(FILESYSTEMS[n as keyof typeof FILESYSTEMS].readOnly, n).toBe(true)
    expect(USR_FILESYSTEMS).toContain(DEFAULT_USR_FILESYSTEM)
  })

  it('describe every compression with its levels and mark each filesystem\'s default', () => {
    const lines = usrCompressionChoices()
    expect(lines).toHaveLength(USR_FILESYSTEMS.length)
    expect(lines[USR_FILESYSTEMS.indexOf('erofs')]).toBe('erofs: lz4 (default), lz4hc[,0-12], none')
    expect(lines[USR_FILESYSTEMS.indexOf('squashfs')]).toBe('squashfs: zstd[,1-22] (default), xz, gzip[,1-9], lz4')
  })
})
