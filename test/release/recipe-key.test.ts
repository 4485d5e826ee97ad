import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadRecipe} from '../../src/recipe/load.js'
import {generateSigningKey} from '../../src/release/sign.js'
import {repoRoot} from '../helpers/cli.js'

/** The release public key ships in the image through an ordinary recipe `files:` entry (README: signing). */
describe('shipping the release key in the image', () => {
  it('a recipe that includes base.yaml and adds the public key from its folder validates, key and mode intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-release-recipe-'))
    const key = await generateSigningKey({name: 'keel releases', email: 'release@keel.invalid'})
    writeFileSync(join(dir, 'release-key.pub.asc'), key.publicKey)
    const recipe = join(dir, 'image.yaml')
    writeFileSync(recipe, [
      `include: [${relative(dir, join(repoRoot, 'recipes/base.yaml'))}]`,
      'files:',
      '  - path: /usr/share/keel/release-key.asc',
      '    mode: 0o644',
      '    source: release-key.pub.asc',
      '',
    ].join('\n'))
    const {recipe: loaded, diagnostics} = loadRecipe(recipe)
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    const entry = loaded.files.find((f) => f.path === '/usr/share/keel/release-key.asc')
    expect(entry).toMatchObject({path: '/usr/share/keel/release-key.asc', mode: 0o644, uid: 0, gid: 0, source: join(dir, 'release-key.pub.asc')})
    // base.yaml's own files are still there: the key was added, nothing replaced.
    expect(loaded.files.some((f) => f.path === '/etc/sudoers.d/core')).toBe(true)
  })

  it('inline content works too, and a missing key file is a located error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-release-recipe-'))
    const recipe = join(dir, 'image.yaml')
    writeFileSync(recipe, [
      'image: {name: keyed, version: "1.0", channel: alpha}',
      'packages: [systemd]',
      'files:',
      '  - path: /usr/share/keel/release-key.asc',
      '    content: |',
      '      -----BEGIN PGP PUBLIC KEY BLOCK-----',
      '      -----END PGP PUBLIC KEY BLOCK-----',
      '  - path: /etc/keel/release-key.asc',
      '    source: missing.asc',
      '',
    ].join('\n'))
    expect(() => loadRecipe(recipe)).toThrow(/file source not found: .*missing\.asc/)
  })
})
