import {mkdirSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../../src/exec/run.js'
import {BUNDLE, caCertificatesFixup} from '../../../src/rootfs/fixups/ca-certificates.js'
import type {RootTree} from '../../../src/rootfs/tree.js'
import {context, realTree} from './real-tree.js'

/**
 * The real ca-certificates .deb, bundled by keel, compared with Debian's own update-ca-certificates run over
 * the same files (its --certsconf/--certsdir/--etccertsdir options let it work on a scratch directory).
 */
let tree: RootTree
let base: string

beforeAll(async () => {
  ;({tree, base} = await realTree(['ca-certificates']))
  // Deselect one certificate the way a user would, to check '!' lines against the real tool too.
  const all = readdirSync(tree.hostPath('usr/share/ca-certificates/mozilla')).sort()
  const conf = all.map((f) => (f === 'ISRG_Root_X2.crt' ? `!mozilla/${f}` : `mozilla/${f}`)).join('\n')
  tree.writeFile('etc/ca-certificates.conf', `# test\n${conf}\n`, {owner: 'test'})
  await caCertificatesFixup.run(context(tree, []))
})
afterAll(async () => {
  await rm(base, {recursive: true, force: true})
})

function linksIn(dir: string): Map<string, string> {
  const links = new Map<string, string>()
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.pem') || /^[0-9a-f]{8}\.\d+$/.test(name)) links.set(name, readlinkSync(join(dir, name)))
  }
  return links
}

describe('ca-certificates fix-up against update-ca-certificates', () => {
  it('produces the same bundle bytes and the same links as Debian\'s tool', async () => {
    const scratch = join(base, 'oracle')
    const etcCerts = join(scratch, 'etc/ssl/certs')
    mkdirSync(etcCerts, {recursive: true})
    mkdirSync(join(scratch, 'hooks'))
    await run('update-ca-certificates', [
      '--certsconf', tree.hostPath('etc/ca-certificates.conf'),
      '--certsdir', tree.hostPath('usr/share/ca-certificates'),
      '--localcertsdir', join(scratch, 'local'),
      '--etccertsdir', etcCerts,
      '--hooksdir', join(scratch, 'hooks'),
    ], {env: {TMPDIR: scratch}})
    const theirs = readFileSync(join(etcCerts, 'ca-certificates.crt'))
    const ours = readFileSync(tree.hostPath(BUNDLE))
    expect(ours.equals(theirs)).toBe(true)

    const oracleLinks = new Map([...linksIn(etcCerts)].map(([k, v]) => [k, v.replace(tree.dir, '')]))
    const ourLinks = linksIn(tree.hostPath('etc/ssl/certs'))
    expect(ourLinks.size).toBeGreaterThan(200)
    expect([...ourLinks].sort()).toEqual([...oracleLinks].sort())
    expect(ourLinks.has('ISRG_Root_X2.pem')).toBe(false)
  })

  it('records every link and the bundle in the manifest', () => {
    for (const name of readdirSync(tree.hostPath('etc/ssl/certs'))) {
      expect(tree.get(`etc/ssl/certs/${name}`)?.owner).toBe('keel:ca-certificates')
    }
    expect(tree.get(BUNDLE)).toMatchObject({type: 'file', mode: 0o644, uid: 0, gid: 0})
  })

  it('yields a bundle openssl verifies a real root against', async () => {
    const cert = tree.hostPath('usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt')
    const r = await run('openssl', ['verify', '-no-CApath', '-no-CAstore', '-CAfile', tree.hostPath(BUNDLE), cert])
    expect(r.stdout.trim()).toBe(`${cert}: OK`)
    // The deselected root is not trusted (the host's own trust store is switched off above).
    const x2 = tree.hostPath('usr/share/ca-certificates/mozilla/ISRG_Root_X2.crt')
    const rejected = await run('openssl', ['verify', '-no-CApath', '-no-CAstore', '-CAfile', tree.hostPath(BUNDLE), x2], {okExitCodes: [2]})
    expect(rejected.exitCode).toBe(2)
  })

  it('writes a conf listing every certificate when the image has none', async () => {
    const fresh = await realTree(['ca-certificates'])
    await caCertificatesFixup.run(context(fresh.tree, []))
    const conf = readFileSync(fresh.tree.hostPath('etc/ca-certificates.conf'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))
    expect(conf.length).toBe(readdirSync(fresh.tree.hostPath('usr/share/ca-certificates/mozilla')).length)
    expect(readFileSync(fresh.tree.hostPath(BUNDLE), 'utf8').match(/BEGIN CERTIFICATE/g)?.length).toBe(conf.length)
    await rm(fresh.base, {recursive: true, force: true})
  })
})
