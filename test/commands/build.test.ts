import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {FILESYSTEMS} from '../../src/fsimage/registry.js'
import {USR_FILESYSTEMS} from '../../src/fsimage/usr.js'
import {PLATFORM_NAMES, PLATFORMS} from '../../src/platforms/registry.js'
import {keel} from '../helpers/cli.js'

// keel build's command line: what it accepts and refuses before any package is touched. The builds
// themselves are tested in test/platforms/formats.int.test.ts and test/build/*.boot.test.ts.

const work = mkdtempSync(join(tmpdir(), 'keel-build-cli-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('keel build', () => {
  it('--help lists every registry platform with its description and config delivery', () => {
    const r = keel(['build', '--help'])
    expect(r.status).toBe(0)
    // oclif wraps long lines: compare with whitespace collapsed
    const text = r.stdout.replace(/\s+/g, ' ')
    for (const p of PLATFORM_NAMES) {
      expect(r.stdout).toContain(`  ${p} `)
      expect(text).toContain(PLATFORMS[p].description.replace(/\s+/g, ' '))
      expect(text).toContain(`config: ${PLATFORMS[p].configDelivery}`.replace(/\s+/g, ' '))
    }
    expect(r.stdout).toContain('--extra-format')
    expect(r.stdout).toContain('--config')
  })

  it('--help offers the read-only registry filesystems for /usr and each one\'s compressions', () => {
    const r = keel(['build', '--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`--usr-filesystem ${USR_FILESYSTEMS.join('|')}`)
    expect(r.stdout).toContain('--usr-compression')
    for (const fs of USR_FILESYSTEMS) {
      const line = r.stdout.split('\n').find((l) => l.trim().startsWith(`${fs}: `))
      expect(line, fs).toBeDefined()
      for (const algorithm of Object.keys(FILESYSTEMS[fs].compressions)) expect(line, `${fs} ${algorithm}`).toContain(algorithm)
    }
  })

  it('refuses a /usr compression the chosen filesystem lacks, and a writable /usr filesystem, before building (exit 2)', () => {
    const out = join(work, 'usr-out')
    const zstdOnErofs = keel(['build', 'recipes/base.yaml', '--usr-compression', 'zstd,19', '-o', out])
    expect(zstdOnErofs.status).toBe(2)
    expect(zstdOnErofs.stderr).toContain(`--usr-compression zstd,19: erofs has no compression 'zstd,19'; choose one of: ${Object.keys(FILESYSTEMS.erofs.compressions).join(', ')}`)
    const lz4hcOnSquashfs = keel(['build', 'recipes/base.yaml', '--usr-filesystem', 'squashfs', '--usr-compression', 'lz4hc', '-o', out])
    expect(lz4hcOnSquashfs.status).toBe(2)
    expect(lz4hcOnSquashfs.stderr).toContain("squashfs has no compression 'lz4hc'")
    const ext4 = keel(['build', 'recipes/base.yaml', '--usr-filesystem', 'ext4', '-o', out])
    expect(ext4.status).toBe(2)
    expect(ext4.stderr).toContain(`to be one of: ${USR_FILESYSTEMS.join(', ')}`)
    expect(existsSync(out)).toBe(false)
  })

  it('refuses unknown platforms all at once, with the choices (exit 2)', () => {
    const r = keel(['build', 'recipes/base.yaml', '--platform', 'qemu,vbox,hyperv', '-o', join(work, 'out')])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('unknown platform vbox, hyperv')
    expect(r.stderr).toContain(`choose from ${PLATFORM_NAMES.join(', ')}`)
  })

  it('refuses an optional format no chosen platform offers (exit 2)', () => {
    const r = keel(['build', 'recipes/base.yaml', '--platform', 'qemu', '--extra-format', 'raw.xz', '-o', join(work, 'out')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/--extra-format raw\.xz .* applies to none of qemu/)
  })

  it('reports a --config file\'s problems as FILE:LINE:COL before building (exit 3)', () => {
    const config = join(work, 'user-data')
    writeFileSync(config, '#!/bin/sh\necho hello\n')
    const r = keel(['build', 'recipes/base.yaml', '--platform', 'metal', '--config', config, '-o', join(work, 'out')])
    expect(r.status).toBe(3)
    expect(r.stderr).toContain(`${config}:1:1: error:`)
  })
})
