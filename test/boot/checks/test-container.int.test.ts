import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {buildTestContainer, TEST_CONTAINER_REFERENCE} from '../../../src/boot/checks/test-container.js'
import type {OciImage} from '../../../src/boot/checks/oci-image.js'
import {PackageCache, defaultCacheDir} from '../../../src/packages/cache.js'
import {readLockfile} from '../../../src/packages/lock.js'

// The containerd check's payload, built for real: busybox-static resolved against the signed index, locked,
// fetched into the cache, /bin/busybox taken out of the .deb and packed as an OCI layout. GNU tar reads the
// archive and the layer; dpkg-deb extracts the same .deb as the oracle for the binary's bytes; the binary
// then runs on this host.

const work = mkdtempSync(join(tmpdir(), 'keel-test-container-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))
const cache = new PackageCache(defaultCacheDir())
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
let image: OciImage

beforeAll(async () => {
  image = await buildTestContainer({cache})
  writeFileSync(join(work, 'image.tar'), image.archive)
  mkdirSync(join(work, 'layout'))
  execFileSync('tar', ['-xf', join(work, 'image.tar'), '-C', join(work, 'layout')])
}, 300_000)

describe('the test container image', () => {
  it('GNU tar lists the OCI layout; every blob file is named by its sha256', () => {
    const names = execFileSync('tar', ['-tf', join(work, 'image.tar')], {encoding: 'utf8'}).trim().split('\n')
    const blobs = names.filter((n) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(n))
    expect(names).toEqual(['blobs/', 'blobs/sha256/', ...blobs, 'index.json', 'oci-layout'])
    expect(blobs).toHaveLength(3)
    for (const b of blobs) expect(sha(readFileSync(join(work, 'layout', b)))).toBe(b.slice('blobs/sha256/'.length))
    const index = JSON.parse(readFileSync(join(work, 'layout/index.json'), 'utf8'))
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe(TEST_CONTAINER_REFERENCE)
  })

  it('its layer unpacks with GNU tar to a busybox identical to the one dpkg-deb extracts, and it runs here', () => {
    const layerPath = join(work, 'layout', 'blobs/sha256', image.layer.digest.slice('sha256:'.length))
    const rootfs = join(work, 'rootfs')
    mkdirSync(rootfs)
    execFileSync('tar', ['-xzf', layerPath, '-C', rootfs])
    expect(statSync(join(rootfs, 'bin/busybox')).mode & 0o7777).toBe(0o755)
    expect(readlinkSync(join(rootfs, 'bin/sh'))).toBe('busybox')

    const lock = readLockfile(join(cache.dir, 'keel-test', 'test-container.lock.json'))!
    const pkg = [...lock.packages, ...lock.added].find((p) => p.name === 'busybox-static')!
    const deb = cache.objectPath(pkg.sha256)
    const dpkgRoot = join(work, 'dpkg')
    execFileSync('dpkg-deb', ['-x', deb, dpkgRoot])
    expect(sha(readFileSync(join(rootfs, 'bin/busybox')))).toBe(sha(readFileSync(join(dpkgRoot, 'bin/busybox'))))
    expect(execFileSync(join(rootfs, 'bin/busybox'), ['echo', 'keel'], {encoding: 'utf8'})).toBe('keel\n')
  })

  it('is the same bytes when built again from the same lock', async () => {
    const again = await buildTestContainer({cache})
    expect(sha(again.archive)).toBe(sha(image.archive))
  })
})
