import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {PackageCache} from '../../src/packages/cache.js'
import {loadUniverse} from '../../src/packages/repository.js'
import {resolve} from '../../src/packages/resolve.js'
import {hostRepositorySources} from '../../src/packages/sources.js'
import type {PackageUniverse, RepositorySource} from '../../src/packages/types.js'

/**
 * THE oracle for the resolver: for several package lists, keel's closure must equal, name for name and
 * version for version, what `apt-get install --simulate --no-install-recommends` chooses on an empty dpkg
 * status, with apt reading the same signed repositories as keel (from the host's sources) in a private root.
 */

const tmp = mkdtempSync(join(tmpdir(), 'keel-resolve-apt-'))
let aptOptions: string[] = []
let universe: PackageUniverse

function recipePackages(file: string): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as {packages?: Array<string | {name: string}>}
  return (doc.packages ?? []).map((p) => (typeof p === 'string' ? p : p.name))
}

function sourcesList(sources: readonly RepositorySource[]): string {
  return sources
    .map((s) => `deb [arch=amd64 signed-by=${s.keyrings.join(',')}] ${s.uri} ${s.suite} ${s.components.join(' ')}\n`)
    .join('')
}

/** name → version from apt's `Inst name (version release [arch])` lines. */
function parseSimulation(stdout: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of stdout.split('\n')) {
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) /.exec(line)
    if (m) out.set(m[1]!, m[2]!)
  }
  return out
}

async function aptAnswer(names: string[]): Promise<Map<string, string>> {
  const r = await run('apt-get', [...aptOptions, 'install', '--simulate', '--no-install-recommends', ...names], {timeoutMs: 120_000})
  return parseSimulation(r.stdout)
}

function diff(apt: Map<string, string>, keel: Map<string, string>): string[] {
  const lines: string[] = []
  for (const [name, version] of apt) {
    if (!keel.has(name)) lines.push(`missing in keel: ${name} ${version}`)
    else if (keel.get(name) !== version) lines.push(`version mismatch: ${name} apt ${version}, keel ${keel.get(name)}`)
  }
  for (const [name, version] of keel) if (!apt.has(name)) lines.push(`extra in keel: ${name} ${version}`)
  return lines.sort()
}

beforeAll(async () => {
  const sources = await hostRepositorySources()
  for (const d of ['etc/empty.d', 'lists/partial', 'cache/archives/partial', 'log']) mkdirSync(join(tmp, d), {recursive: true})
  writeFileSync(join(tmp, 'status'), '')
  writeFileSync(join(tmp, 'etc/sources.list'), sourcesList(sources))
  aptOptions = [
    `-o`, `Dir=${tmp}`,
    `-o`, `Dir::State=${tmp}`,
    `-o`, `Dir::State::Lists=${tmp}/lists`,
    `-o`, `Dir::State::status=${tmp}/status`,
    `-o`, `Dir::Cache=${tmp}/cache`,
    `-o`, `Dir::Log=${tmp}/log`,
    `-o`, `Dir::Etc::SourceList=${tmp}/etc/sources.list`,
    `-o`, `Dir::Etc::SourceParts=${tmp}/etc/empty.d`,
    `-o`, `Dir::Etc::Preferences=${tmp}/etc/preferences`,
    `-o`, `Dir::Etc::PreferencesParts=${tmp}/etc/empty.d`,
    `-o`, `APT::Architecture=amd64`,
    `-o`, `APT::Architectures=amd64`,
    `-o`, `Debug::NoLocking=1`,
    // The private root belongs to root (or the test user); apt's _apt sandbox user could not write to it.
    `-o`, `APT::Sandbox::User=${process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'root')}`,
  ]
  // keel's universe through its own signed client, and apt's lists, fetched side by side.
  const [u] = await Promise.all([
    loadUniverse(sources, {architecture: 'amd64', cache: new PackageCache(join(tmp, 'keel-cache'))}),
    run('apt-get', [...aptOptions, 'update'], {timeoutMs: 600_000}),
  ])
  universe = u
})

afterAll(() => {
  rmSync(tmp, {recursive: true, force: true})
})

const LISTS: Array<[string, () => string[]]> = [
  ['recipes/base.yaml', () => recipePackages(join(import.meta.dirname, '../../recipes/base.yaml'))],
  ['podman', () => ['podman']],
  ['nginx-light', () => ['nginx-light']],
  ['lvm2 cryptsetup', () => ['lvm2', 'cryptsetup']],
  ['docker.io', () => ['docker.io']],
  // A virtual package with many providers (mail-transport-agent) and a toolchain with OR groups.
  ['mutt build-essential', () => ['mutt', 'build-essential']],
]

/**
 * Lists where apt breaks a tie between equally good providers by its cache order (gvim, telepathy
 * connection managers, parolottero data): keel can only follow when the universe keeps the Recommends,
 * Suggests and Enhances fields, which feed that order.
 */
const TIE_LIST = ['cream', 'parolottero', 'kde-telepathy-minimal']

describe('resolve() against apt-get install --simulate --no-install-recommends', () => {
  it(`${TIE_LIST.join(' ')}: ties between providers broken as apt does`, async () => {
    // The tie-break order needs the Recommends/Suggests/Enhances fields of the signed index.
    expect(universe.packages.some((p) => p.recommends !== undefined)).toBe(true)
    const apt = await aptAnswer(TIE_LIST)
    const resolution = resolve(universe, TIE_LIST.map((name) => ({name})), {exclude: [], essential: false})
    const keel = new Map(resolution.packages.map((p) => [p.name, p.version]))
    expect(diff(apt, keel)).toEqual([])
  })

  for (const [label, list] of LISTS) {
    it(`${label}: same packages and versions as apt`, async () => {
      const names = list()
      expect(names.length).toBeGreaterThan(0)
      const apt = await aptAnswer(names)
      expect(apt.size).toBeGreaterThanOrEqual(names.length)
      const t0 = performance.now()
      const resolution = resolve(universe, names.map((name) => ({name})), {exclude: [], essential: false})
      const ms = performance.now() - t0
      const keel = new Map(resolution.packages.map((p) => [p.name, p.version]))
      const differences = diff(apt, keel)
      console.log(
        `${label}: requested ${names.length}, resolved ${keel.size} (apt ${apt.size}), equal ${differences.length === 0 ? 'yes' : 'no'}, resolve ${ms.toFixed(0)} ms`,
      )
      expect(differences).toEqual([])
      expect(resolution.added).toEqual([])
    })
  }
})
