import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {extract} from 'tar-stream'
import {KeelError} from '../../core/errors.js'
import {type Reporter, silentReporter} from '../../core/progress.js'
import type {PackageCache} from '../../packages/cache.js'
import {fetchPackages} from '../../packages/download.js'
import {allLocked} from '../../packages/lock.js'
import {ensureLock} from '../../packages/lock-recipe.js'
import {loadRecipe} from '../../recipe/load.js'
import {consumeMember, memberStream, openDeb, pipeToParser} from '../../rootfs/deb.js'
import {layerTar, type LayerEntry, ociImage, type OciImage} from './oci-image.js'

/**
 * The container the containerd check runs: busybox from Debian's busybox-static, fetched, verified and
 * cached through keel's own package machinery (signed index → lock → content-addressed cache), packed as
 * an OCI image by oci-image.ts. Same lock, same bytes.
 */

export const TEST_CONTAINER_RECIPE = fileURLToPath(new URL('../../../recipes/test-container.yaml', import.meta.url))
export const TEST_CONTAINER_REFERENCE = 'docker.io/keel/test-busybox:1'
/** Applets linked in the layer besides busybox itself (the check runs `busybox echo`; a shell helps debugging). */
const APPLETS = ['cat', 'echo', 'ls', 'sh', 'true']

/** Read one regular file out of a .deb's data.tar. */
export async function readDebFile(debPath: string, path: string): Promise<{content: Buffer; mode: number}> {
  const deb = await openDeb(debPath)
  const wanted = path.replace(/^\/+/, '')
  const found = await consumeMember(memberStream(debPath, deb.data), async (stream) => {
    const ex = extract()
    pipeToParser(stream, ex)
    let hit: {content: Buffer; mode: number} | undefined
    for await (const entry of ex) {
      if (entry.header.name.replace(/^\.?\/+/, '') === wanted && entry.header.type === 'file') {
        const chunks: Buffer[] = []
        for await (const chunk of entry) chunks.push(chunk as Buffer)
        hit = {content: Buffer.concat(chunks), mode: entry.header.mode ?? 0o644}
      } else {
        entry.resume()
      }
    }
    return hit
  })
  if (!found) throw new KeelError(`${debPath} has no /${wanted}`, 'integrity')
  return found
}

/** The layer: /bin/busybox and a few applet links to it. */
export function busyboxLayer(busybox: Uint8Array): LayerEntry[] {
  return [
    {path: 'bin', type: 'dir', mode: 0o755},
    {path: 'bin/busybox', type: 'file', mode: 0o755, content: busybox},
    ...APPLETS.map((name) => ({path: `bin/${name}`, type: 'symlink' as const, mode: 0o777, target: 'busybox'})),
  ]
}

/**
 * Build the test container image. The recipe's lock lives in the cache directory (keel's own folder may be
 * read-only); a stale lock is resolved again, since this payload is keel's, not the user's.
 */
export async function buildTestContainer(opts: {cache: PackageCache; offline?: boolean; reporter?: Reporter}): Promise<OciImage> {
  const reporter = opts.reporter ?? silentReporter
  const recipe = loadRecipe(TEST_CONTAINER_RECIPE).recipe
  const lockPath = join(opts.cache.dir, 'keel-test', 'test-container.lock.json')
  let lock
  try {
    lock = (await ensureLock(recipe, {cache: opts.cache, offline: opts.offline, lockPath, reporter})).lock
  } catch (err) {
    if (!(err instanceof KeelError && err.exit === 'staleLock')) throw err
    lock = (await ensureLock(recipe, {cache: opts.cache, offline: opts.offline, lockPath, reporter, update: true})).lock
  }
  const pkg = allLocked(lock).find((p) => p.name === 'busybox-static')
  if (!pkg) throw new KeelError(`${TEST_CONTAINER_RECIPE}: the lock has no busybox-static`, 'internal')
  const paths = await fetchPackages([pkg], {cache: opts.cache, offline: opts.offline, reporter})
  const busybox = await readDebFile(paths.get(pkg.name)!, '/bin/busybox')
  return ociImage({
    reference: TEST_CONTAINER_REFERENCE,
    layer: layerTar(busyboxLayer(busybox.content)),
    cmd: ['/bin/busybox', 'sh'],
    architecture: lock.architecture,
  })
}
