import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {onTestFinished} from 'vitest'
import {RootTree} from '../../../src/rootfs/tree.js'

/**
 * A fresh, empty staging tree with the merged-/usr links the unpacker would have made. Call it inside a test:
 * the directory is removed when that test finishes.
 */
export function syntheticTree(): RootTree {
  const dir = mkdtempSync(join(tmpdir(), 'keel-fixup-unit-'))
  onTestFinished(() => rmSync(dir, {recursive: true, force: true}))
  const tree = new RootTree(dir)
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib']) tree.mkdirp(d, {owner: 'test'})
  for (const alias of ['bin', 'sbin', 'lib']) tree.symlink(alias, `usr/${alias}`, {owner: 'test'})
  return tree
}
