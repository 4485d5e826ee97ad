import type {Reporter} from '../../core/progress.js'
import type {LockedPackage} from '../../packages/types.js'
import type {Recipe} from '../../recipe/types.js'
import type {RootTree} from '../tree.js'

/**
 * A fix-up does offline, as an ordinary user, what a Debian maintainer script would have done in a chroot
 * as root. keel never runs maintainer scripts, so each such effect the image needs is a named fix-up.
 */
export interface FixupContext {
  tree: RootTree
  recipe: Recipe
  /** The packages unpacked into the tree (fix-ups that stand in for one package's script check for it here). */
  packages: LockedPackage[]
  /** Seconds since the epoch; every date a fix-up writes (shadow's lastchg...) derives from it. */
  sourceDateEpoch: number
  reporter: Reporter
}

/** What one fix-up did, for the build manifest. Lists are sorted so the manifest is reproducible. */
export interface FixupResult {
  /** Image paths created or replaced (no leading slash). */
  written: string[]
  /** Image paths removed. */
  removed: string[]
  /** Named facts, e.g. {usersCreated: ['sshd'], unitsEnabled: ['ssh.service']}. */
  facts: Record<string, string[]>
}

export interface Fixup {
  name: string
  /** The maintainer-script effect this stands in for, e.g. 'base-passwd postinst'. */
  replaces: string
  run(ctx: FixupContext): Promise<FixupResult>
}

export interface NamedFixupResult extends FixupResult {
  name: string
  replaces: string
}
