import {readFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {LD_SO_CACHE, ldconfigFixup} from '../../../src/rootfs/fixups/ldconfig.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree} from './real-tree.js'

/** Real libc6/libc-bin/libssl3 trees; `ldconfig -p -C` reads the generated cache back as the oracle. */
const PACKAGES = ['libc6', 'libc-bin', 'libssl3', 'zlib1g']
const bases: string[] = []
let tree: RootTree

beforeAll(async () => {
  const built = await realTree(PACKAGES)
  tree = built.tree
  bases.push(built.base)
  await ldconfigFixup.run(context(tree, built.packages))
})
afterAll(async () => {
  for (const b of bases) await rm(b, {recursive: true, force: true})
})

describe('ldconfig fix-up', () => {
  it('builds an ld.so.cache that resolves the tree\'s libraries to image paths', async () => {
    const listing = (await run('ldconfig', ['-p', '-C', tree.hostPath(LD_SO_CACHE)])).stdout
    expect(listing).toMatch(/libc\.so\.6 \(libc6,x86-64\) => \/lib\/x86_64-linux-gnu\/libc\.so\.6/)
    expect(listing).toMatch(/libssl\.so\.3 \(libc6,x86-64\) => \/(usr\/)?lib\/x86_64-linux-gnu\/libssl\.so\.3/)
    expect(listing).toMatch(/libz\.so\.1 /)
    // Entries name image paths, never the staging directory (only the header line names the cache file).
    expect(listing.split('\n').slice(1).join('\n')).not.toContain(tree.dir)
    expect(tree.get(LD_SO_CACHE)).toMatchObject({type: 'file', mode: 0o644, uid: 0, gid: 0, owner: 'keel:ldconfig'})
  })

  it('is deterministic: a second tree from the same packages gives the same cache bytes', async () => {
    const again = await realTree(PACKAGES)
    bases.push(again.base)
    await ldconfigFixup.run(context(again.tree, again.packages))
    expect(readFileSync(again.tree.hostPath(LD_SO_CACHE)).equals(readFileSync(tree.hostPath(LD_SO_CACHE)))).toBe(true)
  })

  it('creates no library symlinks the manifest does not know about (-X)', async () => {
    const entries = new Set(tree.entries.keys())
    const listing = (await run('ldconfig', ['-p', '-C', tree.hostPath(LD_SO_CACHE)])).stdout
    for (const m of listing.matchAll(/=> \/(\S+)/g)) {
      const p = m[1]!.replace(/^lib\//, 'usr/lib/')
      expect(entries.has(p), p).toBe(true)
    }
  })
})
