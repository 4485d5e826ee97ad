import {accountsFixup} from './accounts.js'
import {alternativesFixup} from './alternatives.js'
import {baseFilesFixup} from './base-files.js'
import {caCertificatesFixup} from './ca-certificates.js'
import {depmodFixup} from './depmod.js'
import {directoriesFixup} from './directories.js'
import {hostnameFstabFixup} from './hostname-fstab.js'
import {kmodFixup} from './kmod.js'
import {ldconfigFixup} from './ldconfig.js'
import {loginFixup} from './login.js'
import {machineIdFixup} from './machine-id.js'
import {netbaseFixup} from './netbase.js'
import {mergedUsrFixup} from './merged-usr.js'
import {opensshServerFixup} from './openssh-server.js'
import {osReleaseFixup} from './os-release.js'
import {packageManagerLeftoversFixup} from './package-manager-leftovers.js'
import {pamFixup} from './pam.js'
import {recipeFilesFixup} from './recipe-files.js'
import {resolvedFixup} from './resolved.js'
import {shellsFixup} from './shells.js'
import {statOverridesFixup} from './statoverrides.js'
import type {Fixup, FixupContext, NamedFixupResult} from './types.js'
import {unitOrderFixup} from './unit-order.js'
import {unitsFixup} from './units.js'

export type {Fixup, FixupContext, FixupResult, NamedFixupResult} from './types.js'

/**
 * Every fix-up, in the order they run. The order is part of the design (src/rootfs/README.md):
 * accounts before anything that names a user or group; package-derived files before the recipe's files so
 * the recipe wins; recipe files before units (a recipe unit can be enabled) and before ldconfig (a recipe's
 * ld.so.conf.d snippet counts).
 */
export const FIXUPS: readonly Fixup[] = [
  mergedUsrFixup,
  packageManagerLeftoversFixup,
  accountsFixup,
  statOverridesFixup,
  baseFilesFixup,
  directoriesFixup,
  alternativesFixup,
  opensshServerFixup,
  kmodFixup,
  pamFixup,
  shellsFixup,
  netbaseFixup,
  loginFixup,
  resolvedFixup,
  unitOrderFixup,
  caCertificatesFixup,
  osReleaseFixup,
  machineIdFixup,
  hostnameFstabFixup,
  recipeFilesFixup,
  unitsFixup,
  ldconfigFixup,
  depmodFixup,
]

/** Run `fixups` (default: all) in order; returns what each did, for the build manifest. */
export async function runFixups(ctx: FixupContext, fixups: readonly Fixup[] = FIXUPS): Promise<NamedFixupResult[]> {
  const results: NamedFixupResult[] = []
  for (const fixup of fixups) {
    ctx.reporter.status(`fix-up: ${fixup.name}`)
    const r = await fixup.run(ctx)
    results.push({name: fixup.name, replaces: fixup.replaces, ...r})
  }
  return results
}
