import {cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {shellsFixup} from '../../../src/rootfs/fixups/shells.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree} from './real-tree.js'

/** debianutils, bash and dash as shipped; Debian's own update-shells --root as the oracle. */
const PACKAGES = ['debianutils', 'bash', 'dash']
let tree: RootTree
const bases: string[] = []

beforeAll(async () => {
  const built = await realTree(PACKAGES)
  tree = built.tree
  bases.push(built.base)
  await shellsFixup.run(context(tree, built.packages))
})
afterAll(async () => {
  for (const b of bases) await rm(b, {recursive: true, force: true})
})

describe('shells fix-up', () => {
  it('writes the same /etc/shells as the postinst (cp template + update-shells --root)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'keel-shells-oracle-'))
    bases.push(scratch)
    for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'etc', 'var/lib']) mkdirSync(join(scratch, d), {recursive: true})
    for (const alias of ['bin', 'sbin', 'lib']) symlinkSync(`usr/${alias}`, join(scratch, alias))
    cpSync(tree.hostPath('usr/share/debianutils'), join(scratch, 'usr/share/debianutils'), {recursive: true})
    cpSync(join(scratch, 'usr/share/debianutils/shells'), join(scratch, 'etc/shells'))
    await run('update-shells', ['--root', scratch])
    const theirs = readFileSync(join(scratch, 'etc/shells'), 'utf8')
    expect(readFileSync(tree.hostPath('etc/shells'), 'utf8')).toBe(theirs)
    expect(theirs).toContain('/usr/bin/bash\n')
    expect(tree.get('etc/shells')).toMatchObject({type: 'file', mode: 0o644, owner: 'keel:shells'})
  })
})
