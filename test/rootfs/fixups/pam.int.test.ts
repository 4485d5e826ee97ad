import {cpSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {enabledProfiles, PAM_TYPES, parsePamProfile, renderCommonFile} from '../../../src/rootfs/fixups/pam-auth-update.js'
import {pamFixup} from '../../../src/rootfs/fixups/pam.js'
import {listTreeDir, readTreeText} from '../../../src/rootfs/fixups/util.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree} from './real-tree.js'

/**
 * Real PAM profiles (unix, systemd, capability) and Debian's own pam-auth-update as the oracle, run
 * unprivileged on a scratch root with a private debconf database so the host's is never touched.
 */
const PACKAGES = ['libpam-runtime', 'libpam-modules', 'libpam-systemd', 'libpam-cap']
let tree: RootTree
let base: string

beforeAll(async () => {
  const built = await realTree(PACKAGES)
  ;({tree, base} = built)
  await pamFixup.run(context(tree, built.packages))
})
afterAll(async () => {
  await rm(base, {recursive: true, force: true})
})

async function realPamAuthUpdate(): Promise<string> {
  const scratch = join(base, 'oracle')
  mkdirSync(join(scratch, 'root/etc/pam.d'), {recursive: true})
  mkdirSync(join(scratch, 'root/var/lib/pam'), {recursive: true})
  cpSync(tree.hostPath('usr/share/pam-configs'), join(scratch, 'root/usr/share/pam-configs'), {recursive: true})
  writeFileSync(join(scratch, 'debconf.conf'), `Config: configdb\nTemplates: templatedb\n\nName: configdb\nDriver: File\nFilename: ${scratch}/config.dat\n\nName: templatedb\nDriver: File\nMode: 644\nFilename: ${scratch}/templates.dat\n`)
  await run('pam-auth-update', ['--root', join(scratch, 'root'), '--package', '--force'], {env: {DEBCONF_SYSTEMRC: join(scratch, 'debconf.conf'), DEBIAN_FRONTEND: 'noninteractive'}})
  return join(scratch, 'root')
}

describe('pam fix-up', () => {
  it('stacks the profiles exactly as pam-auth-update does', async () => {
    const oracleRoot = await realPamAuthUpdate()
    const profiles = listTreeDir(tree, 'usr/share/pam-configs').map((n) => parsePamProfile(n, readTreeText(tree, `usr/share/pam-configs/${n}`)!))
    expect(profiles.map((p) => p.name).sort()).toEqual(['capability', 'mkhomedir', 'systemd', 'unix'])
    for (const type of PAM_TYPES) {
      const theirs = readFileSync(join(oracleRoot, `etc/pam.d/common-${type}`), 'utf8')
      // pam-auth-update reads its templates from the host's /usr/share/pam, not from --root: render from the same.
      const hostTemplate = readFileSync(`/usr/share/pam/common-${type}`, 'utf8')
      expect(renderCommonFile(hostTemplate, type, enabledProfiles(profiles)), type).toBe(theirs)
    }
  })

  it('writes all five common-* files into the image, with pam_unix and pam_systemd where Debian puts them', () => {
    for (const type of PAM_TYPES) expect(tree.get(`etc/pam.d/common-${type}`)).toMatchObject({type: 'file', mode: 0o644, owner: 'keel:pam'})
    expect(readTreeText(tree, 'etc/pam.d/common-auth')).toMatch(/^auth\t\[success=1 default=ignore\]\tpam_unix\.so nullok$/m)
    expect(readTreeText(tree, 'etc/pam.d/common-session')).toMatch(/^session\toptional\s+pam_systemd\.so $/m)
    expect(readTreeText(tree, 'etc/pam.d/common-session-noninteractive')).not.toContain('pam_systemd')
  })

  it('creates libpam-modules\' opasswd (0600) and environment', () => {
    expect(tree.get('etc/security/opasswd')).toMatchObject({type: 'file', mode: 0o600})
    expect(tree.get('etc/environment')).toMatchObject({type: 'file', mode: 0o644})
  })
})
