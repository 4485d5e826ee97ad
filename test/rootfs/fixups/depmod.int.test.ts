import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {rm} from 'node:fs/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {depmodFixup} from '../../../src/rootfs/fixups/depmod.js'
import type {FixupResult} from '../../../src/rootfs/fixups/types.js'
import {parseControlStanza, readControlFile} from '../../../src/rootfs/deb.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, downloadDebs, realTree} from './real-tree.js'

/**
 * A real bookworm cloud kernel (the one large download of this suite), depmod run by the fix-up, and
 * modinfo -b resolving modules through the generated index as the oracle.
 */
let tree: RootTree
let base: string
let kver: string
let result: FixupResult
let metaDir: string

beforeAll(async () => {
  metaDir = mkdtempSync(join(tmpdir(), 'keel-fixup-debs-'))
  const meta = (await downloadDebs(['linux-image-cloud-amd64'], metaDir)).get('linux-image-cloud-amd64')!
  const depends = parseControlStanza((await readControlFile(meta))!).Depends!
  const kernelPackage = /^(linux-image-[^\s,(]+)/.exec(depends)![1]!
  kver = kernelPackage.replace(/^linux-image-/, '')
  ;({tree, base} = await realTree([kernelPackage], {exclude: ['/usr/share/doc/**']}))
  result = await depmodFixup.run(context(tree, []))
})
afterAll(async () => {
  await rm(base, {recursive: true, force: true})
  await rm(metaDir, {recursive: true, force: true})
})

const stem = (path: string) => path.split('/').at(-1)!.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_')

describe('depmod fix-up on a real kernel', () => {
  it('indexes the kernel under usr/lib/modules and records the generated files', () => {
    expect(result.facts.kernels).toEqual([kver])
    for (const f of ['modules.dep', 'modules.dep.bin', 'modules.alias', 'modules.symbols', 'modules.builtin.bin']) {
      const path = `usr/lib/modules/${kver}/${f}`
      expect(tree.get(path), path).toMatchObject({type: 'file', mode: 0o644, uid: 0, gid: 0, owner: 'keel:depmod'})
      expect(result.written).toContain(path)
    }
  })

  it('lets modinfo -b find a module and its dependencies through the index', async () => {
    const dep = readFileSync(tree.hostPath(`usr/lib/modules/${kver}/modules.dep`), 'utf8').split('\n')
    const withDeps = dep.find((l) => /\.ko[^:]*: \S/.test(l))!
    const [modPath, depList] = withDeps.split(': ') as [string, string]
    const name = stem(modPath)
    const filename = await run('modinfo', ['-b', tree.dir, '-k', kver, '-F', 'filename', name])
    expect(filename.stdout.trim().endsWith(`/lib/modules/${kver}/${modPath}`)).toBe(true)
    // modinfo's "depends" comes from the module's own .modinfo section: an independent check of modules.dep.
    const declared = (await run('modinfo', ['-b', tree.dir, '-k', kver, '-F', 'depends', name])).stdout.trim().split(',').filter(Boolean).map((d) => d.replace(/-/g, '_'))
    const indexed = depList.split(' ').map(stem)
    for (const d of declared) expect(indexed).toContain(d)
  })

  it('is deterministic: running again over the same tree gives the same bytes', async () => {
    const files = ['modules.dep', 'modules.dep.bin', 'modules.alias.bin', 'modules.symbols.bin']
    const before = files.map((f) => readFileSync(tree.hostPath(`usr/lib/modules/${kver}/${f}`)))
    await depmodFixup.run(context(tree, []))
    files.forEach((f, i) => expect(readFileSync(tree.hostPath(`usr/lib/modules/${kver}/${f}`)).equals(before[i]!), f).toBe(true))
  })
})
