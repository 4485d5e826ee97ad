import {lstatSync, readdirSync, readlinkSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {DEFAULT_PRESET, KEEL_PRESET, unitsFixup} from '../../../src/rootfs/fixups/units.js'
import type {FixupResult} from '../../../src/rootfs/fixups/types.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree, testRecipe} from './real-tree.js'

/** Real unit files from bookworm packages; `systemctl --root` itself is the oracle for the outcome. */
const PACKAGES = ['systemd', 'systemd-timesyncd', 'systemd-resolved', 'openssh-server', 'e2fsprogs', 'util-linux']
const recipe = testRecipe({units: {enable: ['ssh.service', 'systemd-networkd.service'], disable: ['fstrim.timer'], mask: ['apt-daily.timer', 'systemd-timesyncd.service']}})

let tree: RootTree
let base: string
let result: FixupResult

beforeAll(async () => {
  const built = await realTree(PACKAGES)
  ;({tree, base} = built)
  result = await unitsFixup.run(context(tree, built.packages, recipe))
})
afterAll(async () => {
  await rm(base, {recursive: true, force: true})
})

async function isEnabled(unit: string): Promise<string> {
  const r = await run('systemctl', [`--root=${tree.dir}`, 'is-enabled', unit], {okExitCodes: [1]})
  return r.stdout.trim()
}

function walkLinks(dir: string, prefix: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const host = join(dir, name)
    const st = lstatSync(host)
    if (st.isDirectory()) walkLinks(host, `${prefix}/${name}`, out)
    else if (st.isSymbolicLink()) out.push(`${prefix}/${name}`)
  }
  return out
}

describe('units fix-up with systemctl --root', () => {
  it('enables the recipe\'s units and Debian\'s defaults, honours disable and mask', async () => {
    expect(await isEnabled('ssh.service')).toBe('enabled')
    expect(await isEnabled('systemd-networkd.service')).toBe('enabled')
    expect(await isEnabled('systemd-resolved.service')).toBe('enabled')
    expect(await isEnabled('e2scrub_all.timer')).toBe('enabled')
    expect(await isEnabled('getty@tty1.service')).toBe('enabled')
    expect(await isEnabled('fstrim.timer')).toBe('disabled')
    expect(await isEnabled('systemd-timesyncd.service')).toBe('masked')
    // Masking a unit no package ships (apt is not in the image) is allowed.
    expect(await isEnabled('apt-daily.timer')).toBe('masked')
  })

  it('leaves units nobody asked for disabled, also for PID 1\'s first-boot preset-all', async () => {
    // Enabling networkd enables what its [Install] Also= names, as on any systemd system.
    expect(await isEnabled('systemd-networkd-wait-online.service')).toBe('enabled')
    expect(await isEnabled('debug-shell.service')).toBe('disabled')
    expect(await isEnabled('systemd-time-wait-sync.service')).toBe('disabled')
    // Units without an [Install] section are untouched by presets.
    expect(await isEnabled('e2scrub_fail@.service')).toBe('static')
    expect(tree.get(DEFAULT_PRESET)?.type).toBe('file')
    expect(tree.get(KEEL_PRESET)?.type).toBe('file')
  })

  it('sets multi-user.target as the default target', async () => {
    const r = await run('systemctl', [`--root=${tree.dir}`, 'get-default'])
    expect(r.stdout.trim()).toBe('multi-user.target')
  })

  it('records every symlink systemctl made in the manifest, with its target', () => {
    const links = walkLinks(tree.hostPath('etc/systemd/system'), 'etc/systemd/system')
    expect(links.length).toBeGreaterThan(8)
    for (const link of links) {
      expect(tree.get(link), link).toMatchObject({type: 'symlink', linkTarget: readlinkSync(tree.hostPath(link))})
      expect(result.written).toContain(link)
    }
    expect(tree.get('etc/systemd/system/multi-user.target.wants')).toMatchObject({type: 'dir', mode: 0o755, uid: 0})
  })

  it('turns a misspelt unit to enable into an input error naming it', async () => {
    const bad = testRecipe({units: {enable: ['no-such-unit.service'], disable: [], mask: []}})
    await expect(unitsFixup.run(context(tree, [], bad))).rejects.toMatchObject({exit: 'input', message: expect.stringMatching(/no-such-unit\.service/)})
  })
})
