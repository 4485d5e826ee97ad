import {silentReporter} from '../../../src/core/progress.js'
import type {FixupContext} from '../../../src/rootfs/fixups/types.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {lockedPackage} from '../../helpers/make-deb.js'
import {testRecipe, TEST_EPOCH} from './real-tree.js'

/** A fix-up context over a synthetic tree, with the named packages "installed". */
export function unitContext(tree: RootTree, packageNames: string[] = [], recipe = testRecipe()): FixupContext {
  return {tree, recipe, packages: packageNames.map((n) => lockedPackage(n)), sourceDateEpoch: TEST_EPOCH, reporter: silentReporter}
}
