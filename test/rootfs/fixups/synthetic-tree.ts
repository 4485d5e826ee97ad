import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {RootTree} from '../../../src/rootfs/tree.js'

/** A fresh, empty staging tree with the merged-/usr links the unpacker would have made. */
export function syntheticTree(): RootTree {
  const tree = new RootTree(mkdtempSync(join(tmpdir(), 'keel-fixup-unit-')))
  for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib']) tree.mkdirp(dir, {owner: 'test'})
  for (const alias of ['bin', 'sbin', 'lib']) tree.symlink(alias, `usr/${alias}`, {owner: 'test'})
  return tree
}
