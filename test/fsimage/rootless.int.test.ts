import {spawnSync} from 'node:child_process'
import {chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {repoRoot} from '../helpers/cli.js'

// Every image kind made by root and by an unprivileged uid (65534, no groups) from the same synthetic tree
// must be byte-identical: owners come from the manifest, never from who ran keel.
const NOBODY = 65534
const isRoot = process.getuid?.() === 0
let work: string

function makeImages(dir: string, asUid?: number): {uid: number; sha256: Record<string, string>} {
  const script = join(repoRoot, 'test/fsimage/fixtures/make-images.ts')
  const tsx = join(repoRoot, 'node_modules/.bin/tsx')
  const argv = asUid === undefined ? [tsx, script, dir] : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', tsx, script, dir]
  const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', cwd: repoRoot, env: {PATH: process.env.PATH, HOME: dir}})
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'keel-fsimage-rootless-'))
  chmodSync(work, 0o755)
})
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('images made without root', () => {
  it.skipIf(!isRoot)('are byte-identical to the same images made by root', () => {
    const asRoot = makeImages(join(work, 'root'))
    const userDir = join(work, 'nobody')
    mkdirSync(userDir)
    chownSync(userDir, NOBODY, NOBODY)
    const asNobody = makeImages(userDir, NOBODY)
    expect(asRoot.uid).toBe(0)
    expect(asNobody.uid).toBe(NOBODY)
    expect(Object.keys(asNobody.sha256).sort()).toEqual(['erofs', 'esp', 'oem', 'root', 'squashfs'])
    expect(asNobody.sha256).toEqual(asRoot.sha256)
  }, 120_000)
})
