import {describe, expect, it} from 'vitest'
import {DiagnosticsError} from '../../src/core/errors.js'
import {SourceText} from '../../src/core/source.js'
import {type PackageRequest, resolve, type Resolution} from '../../src/packages/resolve.js'
import type {BinaryPackage, PackageUniverse} from '../../src/packages/types.js'

/** A stanza with only what the test cares about; the rest is filler. */
function pkg(name: string, version: string, fields: Partial<BinaryPackage> = {}): BinaryPackage {
  return {
    name,
    version,
    architecture: 'amd64',
    essential: false,
    priority: 'optional',
    source: name,
    filename: `pool/main/${name}_${version}_amd64.deb`,
    size: 1,
    sha256: '0'.repeat(64),
    repository: {uri: 'http://mirror/debian', suite: 'bookworm', component: 'main'},
    ...fields,
  }
}

function universe(...packages: BinaryPackage[]): PackageUniverse {
  return {architecture: 'amd64', packages, releases: []}
}

const NO_OPTS = {exclude: [], essential: false}

function req(...names: string[]): PackageRequest[] {
  return names.map((name) => ({name}))
}

/** name=version of the closure, in the resolver's order (sorted by name). */
function chosen(r: Resolution): string[] {
  return r.packages.map((p) => `${p.name}=${p.version}`)
}

function failure(fn: () => unknown): DiagnosticsError {
  try {
    fn()
  } catch (e) {
    if (e instanceof DiagnosticsError) return e
    throw e
  }
  throw new Error('expected a DiagnosticsError')
}

const recipe = new SourceText('base.yaml', 'packages:\n  - systemd-resovled\n  - foo\n  - bar\n')
const at = (line: number) => ({...recipe.lineAt(line), col: 5})

describe('resolve: the dependency closure', () => {
  it('follows Depends and Pre-Depends transitively and sorts the result by name', () => {
    const u = universe(
      pkg('app', '1', {depends: 'libb (>= 1), liba', preDepends: 'libpre'}),
      pkg('liba', '2', {depends: 'libc6'}),
      pkg('libb', '1'),
      pkg('libpre', '1', {depends: 'libc6 (>= 2.36)'}),
      pkg('libc6', '2.36-9'),
      pkg('unrelated', '1'),
    )
    const r = resolve(u, req('app'), NO_OPTS)
    expect(chosen(r)).toEqual(['app=1', 'liba=2', 'libb=1', 'libc6=2.36-9', 'libpre=1'])
    expect(r.added).toEqual([])
    expect(r.excluded).toEqual([])
    // libpre is walked first (Pre-Depends come first), so libc6 is reached through it.
    expect(r.reasons.get('libc6')).toEqual(['requested: app', 'app depends on libpre', 'libpre depends on libc6 (>= 2.36)'])
    expect(r.reasons.get('app')).toEqual(['requested: app'])
  })

  it('uses the highest version across all sources as the candidate', () => {
    const security = {uri: 'http://mirror/debian-security', suite: 'bookworm-security', component: 'main'}
    const u = universe(pkg('app', '1', {depends: 'libssl3'}), pkg('libssl3', '3.0.15-1'), pkg('libssl3', '3.0.16-1', {repository: security}), pkg('libssl3', '3.0.9-1'))
    const r = resolve(u, req('app'), NO_OPTS)
    expect(chosen(r)).toEqual(['app=1', 'libssl3=3.0.16-1'])
    expect(r.packages[1]!.repository.suite).toBe('bookworm-security')
  })

  it('ignores stanzas of other architectures and takes arch: all ones', () => {
    const u = universe(pkg('app', '1', {depends: 'data, lib'}), pkg('data', '1', {architecture: 'all'}), pkg('lib', '9', {architecture: 'arm64'}), pkg('lib', '1'))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'data=1', 'lib=1'])
  })

  it('installs a requested exact version', () => {
    const u = universe(pkg('app', '1', {depends: 'lib (>= 1)'}), pkg('app', '2', {depends: 'lib (>= 2)'}), pkg('lib', '2'))
    expect(chosen(resolve(u, [{name: 'app', version: '1'}], NO_OPTS))).toEqual(['app=1', 'lib=2'])
  })

  it('installs the only provider of a requested virtual package, as apt does', () => {
    const u = universe(pkg('mawk', '1.3', {provides: 'awk'}))
    expect(chosen(resolve(u, req('awk'), NO_OPTS))).toEqual(['mawk=1.3'])
  })

  it('gives the same answer whatever the order of the index when no tie between providers is involved', () => {
    const all = [
      pkg('app', '1', {depends: 'mta | exim4, libc, awk'}),
      pkg('postfix', '3', {provides: 'mta', priority: 'optional'}),
      pkg('exim4', '4', {provides: 'mta', priority: 'standard'}),
      pkg('mawk', '1', {provides: 'awk', priority: 'required'}),
      pkg('gawk', '1', {provides: 'awk', priority: 'optional'}),
      pkg('libc', '1'),
      pkg('libc', '2'),
    ]
    const a = resolve(universe(...all), req('app'), NO_OPTS)
    const b = resolve(universe(...[...all].reverse()), req('app'), NO_OPTS)
    expect(chosen(a)).toEqual(['app=1', 'exim4=4', 'libc=2', 'mawk=1'])
    expect(chosen(b)).toEqual(chosen(a))
    expect([...a.reasons]).toEqual([...b.reasons])
    // And the same universe object twice (its index is reused): the same answer.
    const u = universe(...all)
    expect(chosen(resolve(u, [{name: 'libc', version: '1'}], NO_OPTS))).toEqual(['libc=1'])
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(chosen(a))
  })
})

describe('resolve: alternatives (apt: first alternative that can be installed, unless the group is already met)', () => {
  it('takes the first alternative that exists', () => {
    const u = universe(pkg('app', '1', {depends: 'missing | second | third'}), pkg('second', '1'), pkg('third', '1'))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'second=1'])
  })

  it('skips an alternative whose candidate does not meet the version', () => {
    const u = universe(pkg('app', '1', {depends: 'first (>= 2) | second'}), pkg('first', '1'), pkg('second', '1'))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'second=1'])
  })

  it('falls back to the next alternative when the first cannot have its own dependencies met', () => {
    const u = universe(pkg('app', '1', {depends: 'first | second'}), pkg('first', '1', {depends: 'nowhere'}), pkg('second', '1'))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'second=1'])
  })

  it('skips a group met by another requested package, even when listed later', () => {
    const u = universe(pkg('app', '1', {depends: 'first | second'}), pkg('first', '1'), pkg('second', '1'))
    expect(chosen(resolve(u, req('app', 'second'), NO_OPTS))).toEqual(['app=1', 'second=1'])
  })

  it('walks depth first: a package pulled in earlier meets a later group', () => {
    // app's first dependency b pulls in y; by the time "x | y" is looked at, y is already chosen.
    const u = universe(pkg('app', '1', {depends: 'b, x | y'}), pkg('b', '1', {depends: 'y'}), pkg('x', '1'), pkg('y', '1'))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'b=1', 'y=1'])
  })

  it('handles dependency cycles', () => {
    const u = universe(pkg('a', '1', {depends: 'b'}), pkg('b', '1', {depends: 'c'}), pkg('c', '1', {depends: 'a'}))
    expect(chosen(resolve(u, req('a'), NO_OPTS))).toEqual(['a=1', 'b=1', 'c=1'])
  })
})

describe('resolve: virtual packages and Provides', () => {
  it('prefers a real package of the name over packages providing it', () => {
    const u = universe(pkg('app', '1', {depends: 'foo'}), pkg('aaa', '1', {provides: 'foo', priority: 'required'}), pkg('foo', '1', {priority: 'extra'}))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'foo=1'])
  })

  it('among several providers prefers Essential, then the more important Priority', () => {
    const essential = universe(
      pkg('app', '1', {depends: 'awk'}),
      pkg('gawk', '1', {provides: 'awk', priority: 'optional'}),
      pkg('mawk', '1', {provides: 'awk', priority: 'required'}),
      pkg('original-awk', '1', {provides: 'awk', priority: 'optional', essential: true}),
    )
    expect(chosen(resolve(essential, req('app'), NO_OPTS))).toEqual(['app=1', 'original-awk=1'])
    const byPriority = universe(
      pkg('app', '1', {depends: 'awk'}),
      pkg('gawk', '1', {provides: 'awk', priority: 'optional'}),
      pkg('mawk', '1', {provides: 'awk', priority: 'required'}),
    )
    expect(chosen(resolve(byPriority, req('app'), NO_OPTS))).toEqual(['app=1', 'mawk=1'])
  })

  it('between otherwise equal providers takes the name apt met last when building its cache, as apt does', () => {
    // apt numbers names in the order it first meets them: each stanza's own name, then the names in its
    // relation fields (Recommends, Suggests and Enhances included). Here: app, mta, exim4, postfix.
    const forward = universe(pkg('app', '1', {depends: 'mta', suggests: 'exim4'}), pkg('postfix', '1', {provides: 'mta'}), pkg('exim4', '1', {provides: 'mta'}))
    expect(chosen(resolve(forward, req('app'), NO_OPTS))).toEqual(['app=1', 'postfix=1'])
    // Without the Suggests, exim4 is first met at its own stanza, after postfix.
    const plain = universe(pkg('app', '1', {depends: 'mta'}), pkg('postfix', '1', {provides: 'mta'}), pkg('exim4', '1', {provides: 'mta'}))
    expect(chosen(resolve(plain, req('app'), NO_OPTS))).toEqual(['app=1', 'exim4=1'])
    // The same stanzas in the other order: postfix is met last.
    const reversed = universe(pkg('exim4', '1', {provides: 'mta'}), pkg('postfix', '1', {provides: 'mta'}), pkg('app', '1', {depends: 'mta'}))
    expect(chosen(resolve(reversed, req('app'), NO_OPTS))).toEqual(['app=1', 'postfix=1'])
  })

  it('lets a chosen provider meet a later dependency on the virtual name', () => {
    const u = universe(
      pkg('app', '1', {depends: 'postfix, mta'}),
      pkg('postfix', '1', {provides: 'mta'}),
      pkg('exim4', '1', {provides: 'mta'}),
    )
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'postfix=1'])
  })

  it('meets a versioned dependency only through a provide carrying a matching version', () => {
    const u = universe(
      pkg('app', '1', {depends: 'libfoo-abi (>= 2)'}),
      pkg('unversioned', '9', {provides: 'libfoo-abi'}),
      pkg('old', '1', {provides: 'libfoo-abi (= 1)'}),
      pkg('new', '1', {provides: 'libfoo-abi (= 2.5)'}),
    )
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'new=1'])
  })

  it('fails a versioned dependency that only unversioned provides could meet', () => {
    const u = universe(pkg('app', '1', {depends: 'virt (>= 1)'}), pkg('prov', '1', {provides: 'virt'}))
    const e = failure(() => resolve(u, req('app'), NO_OPTS))
    expect(e.exit).toBe('unsatisfiable')
  })
})

describe('resolve: Multi-Arch', () => {
  it('meets name:any with a Multi-Arch: allowed package (and its versioned implicit provide)', () => {
    const u = universe(pkg('app', '1', {depends: 'python3:any (>= 3.11)'}), pkg('python3', '3.11.2-1', {multiArch: 'allowed'}))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'python3=3.11.2-1'])
  })

  it('does not meet name:any with a package that is not Multi-Arch: allowed', () => {
    const u = universe(pkg('app', '1', {depends: 'tool:any'}), pkg('tool', '1', {multiArch: 'foreign'}))
    expect(failure(() => resolve(u, req('app'), NO_OPTS)).exit).toBe('unsatisfiable')
  })

  it('meets name:any through the provides of a Multi-Arch: allowed package', () => {
    const u = universe(pkg('app', '1', {depends: 'perlapi:any'}), pkg('perl-base', '1', {multiArch: 'allowed', provides: 'perlapi'}))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['app=1', 'perl-base=1'])
  })

  it('treats :native and our own architecture as the plain name, and another architecture as unmet', () => {
    const u = universe(pkg('app', '1', {depends: 'a:native, b:amd64'}), pkg('a', '1'), pkg('b', '1'), pkg('other', '1', {depends: 'a:i386'}))
    expect(chosen(resolve(u, req('app'), NO_OPTS))).toEqual(['a=1', 'app=1', 'b=1'])
    expect(failure(() => resolve(u, req('other'), NO_OPTS)).exit).toBe('unsatisfiable')
  })
})

describe('resolve: Essential and exclude', () => {
  const u = universe(
    pkg('app', '1', {depends: 'libc6, dpkg'}),
    pkg('libc6', '1'),
    pkg('dpkg', '1.21', {essential: true, priority: 'required', depends: 'tar'}),
    pkg('tar', '1.34', {essential: true, priority: 'required', depends: 'libacl1'}),
    pkg('libacl1', '2.3'),
    pkg('bash', '5.2', {essential: true, priority: 'required', depends: 'base-files'}),
    pkg('base-files', '12', {essential: true, priority: 'required'}),
  )

  it('does not add Essential packages unless asked (apt with an empty status does not either)', () => {
    const r = resolve(u, req('app'), NO_OPTS)
    expect(chosen(r)).toEqual(['app=1', 'dpkg=1.21', 'libacl1=2.3', 'libc6=1', 'tar=1.34'])
    expect(r.added).toEqual([])
  })

  it('adds every Essential package and what it needs, separately, with the reason', () => {
    const r = resolve(u, req('app'), {exclude: [], essential: true})
    expect(chosen(r)).toEqual(['app=1', 'dpkg=1.21', 'libacl1=2.3', 'libc6=1', 'tar=1.34'])
    expect(r.added.map((a) => [a.pkg.name, a.reason])).toEqual([
      ['base-files', 'essential: base-files'],
      ['bash', 'essential: bash'],
    ])
  })

  it('never installs an excluded name, counts a dependency on it as met, and does not follow it', () => {
    const r = resolve(u, req('app'), {exclude: ['dpkg', 'apt'], essential: false})
    expect(chosen(r)).toEqual(['app=1', 'libc6=1'])
    expect(r.excluded).toEqual(['dpkg'])
  })

  it('counts a dependency met by an excluded provider', () => {
    const v = universe(pkg('app', '1', {depends: 'mta'}), pkg('postfix', '1', {provides: 'mta'}))
    const r = resolve(v, req('app'), {exclude: ['postfix'], essential: false})
    expect(chosen(r)).toEqual(['app=1'])
    expect(r.excluded).toEqual(['postfix'])
  })

  it('reports a package of the closure that the Essential set displaces, instead of dropping it silently', () => {
    const v = universe(pkg('app', '1', {depends: 'q | r'}), pkg('q', '1'), pkg('r', '1'), pkg('ess', '1', {essential: true, conflicts: 'q'}))
    expect(chosen(resolve(v, req('app'), NO_OPTS))).toEqual(['app=1', 'q=1'])
    const e = failure(() => resolve(v, req('app'), {exclude: [], essential: true}))
    expect(e.exit).toBe('unsatisfiable')
    expect(e.diagnostics.map((d) => d.message)).toContain('q 1 is needed by the package list but conflicts with the Essential set')
  })

  it('keeps excluded Essential packages out of the added set', () => {
    const r = resolve(u, req('libc6'), {exclude: ['dpkg', 'bash'], essential: true})
    expect(r.added.map((a) => a.pkg.name)).toEqual(['base-files', 'libacl1', 'tar'])
    expect(r.reasons.get('libacl1')).toEqual(['essential: tar', 'tar depends on libacl1'])
  })
})

describe('resolve: Conflicts and Breaks', () => {
  it('rejects a chosen set with a conflict, naming both packages', () => {
    const u = universe(pkg('a', '1', {conflicts: 'b'}), pkg('b', '1'))
    const e = failure(() => resolve(u, [{name: 'a', location: at(3)}, {name: 'b', location: at(4)}], NO_OPTS))
    expect(e.exit).toBe('conflict')
    expect(e.render()).toContain('base.yaml:3:5: error: a 1 conflicts with b 1 (b)')
  })

  it('applies versioned Breaks only to matching versions', () => {
    const ok = universe(pkg('a', '1', {breaks: 'b (<< 2)'}), pkg('b', '2'))
    expect(chosen(resolve(ok, req('a', 'b'), NO_OPTS))).toEqual(['a=1', 'b=2'])
    const bad = universe(pkg('a', '1', {breaks: 'b (<< 2)'}), pkg('b', '1.9'))
    expect(failure(() => resolve(bad, req('a', 'b'), NO_OPTS)).exit).toBe('conflict')
  })

  it('sees conflicts through Provides, but not a package conflicting with what it provides itself', () => {
    const u = universe(pkg('postfix', '1', {provides: 'mta', conflicts: 'mta'}), pkg('exim4', '1', {provides: 'mta', conflicts: 'mta'}))
    expect(chosen(resolve(u, req('postfix'), NO_OPTS))).toEqual(['postfix=1'])
    expect(failure(() => resolve(u, req('postfix', 'exim4'), NO_OPTS)).exit).toBe('conflict')
  })
})

describe('resolve: alternatives that conflict with chosen packages', () => {
  it('skips an alternative whose Conflicts hit a requested package and takes the next, as apt does', () => {
    // checksecurity + bcron in bookworm: cron conflicts with bcron, so apt installs anacron instead.
    const u = universe(
      pkg('checksecurity', '1', {depends: 'cron | anacron'}),
      pkg('cron', '3', {conflicts: 'bcron'}),
      pkg('anacron', '2'),
      pkg('bcron', '1'),
    )
    expect(chosen(resolve(u, req('checksecurity', 'bcron'), NO_OPTS))).toEqual(['anacron=2', 'bcron=1', 'checksecurity=1'])
    expect(chosen(resolve(u, req('checksecurity'), NO_OPTS))).toEqual(['checksecurity=1', 'cron=3'])
  })

  it('unmarks an automatically chosen package that a later choice conflicts with, as apt does', () => {
    // libmpv-dev in bookworm: jackd2 is chosen first for libavdev, then libjack0 (through libjack-dev)
    // conflicts with it; apt drops jackd2, and libjack0's Provides still meets libavdev's dependency.
    const stanzas = [
      pkg('app', '1', {depends: 'libavdev, libdev'}),
      pkg('libavdev', '1', {depends: 'jackd2 | libjack-api'}),
      pkg('libdev', '1', {depends: 'libjack-dev | jackd2-dev'}),
      pkg('libjack-dev', '1', {depends: 'libjack0'}),
      pkg('libjack0', '1', {conflicts: 'jackd2', provides: 'libjack-api'}),
      pkg('jackd2', '2'),
      pkg('jackd2-dev', '2', {depends: 'jackd2'}),
    ]
    expect(chosen(resolve(universe(...stanzas), req('app'), NO_OPTS))).toEqual(['app=1', 'libavdev=1', 'libdev=1', 'libjack-dev=1', 'libjack0=1'])
    // When jackd2 is requested it is protected: libjack0 fails, and libdev takes its second alternative.
    expect(chosen(resolve(universe(...stanzas), req('app', 'jackd2'), NO_OPTS))).toEqual([
      'app=1',
      'jackd2=2',
      'jackd2-dev=2',
      'libavdev=1',
      'libdev=1',
    ])
  })

  it('explains a request that fails because its only way conflicts with a chosen package', () => {
    const u = universe(pkg('app', '1', {depends: 'cron'}), pkg('cron', '3', {breaks: 'bcron (<< 2)'}), pkg('bcron', '1'))
    const e = failure(() => resolve(u, [{name: 'bcron'}, {name: 'app', location: at(3)}], NO_OPTS))
    expect(e.exit).toBe('unsatisfiable')
    expect(e.diagnostics.map((d) => d.message)).toEqual(["package 'app' cannot be installed: cron conflicts with bcron, which is already chosen"])
    expect(e.diagnostics[0]!.notes?.map((n) => n.message)).toEqual([
      'app 1 depends on cron',
      'cron 3 conflicts with bcron (<< 2), met by bcron 1',
    ])
  })
})

describe('resolve: diagnostics', () => {
  const u = universe(
    pkg('systemd-resolved', '252', {depends: 'systemd (= 252)'}),
    pkg('systemd', '253'),
    pkg('foo', '1', {depends: 'middle'}),
    pkg('middle', '1', {depends: 'libgone (>= 3) | libgone2'}),
    pkg('libgone', '2'),
    pkg('bar', '1'),
  )

  it('reports an unknown package at the request with a close name', () => {
    const e = failure(() => resolve(u, [{name: 'systemd-resovled', location: at(2)}], NO_OPTS))
    expect(e.exit).toBe('input')
    expect(e.render()).toContain("base.yaml:2:5: error: unknown package 'systemd-resovled'; did you mean 'systemd-resolved'?")
  })

  it('reports an unknown package without a guess when nothing is close', () => {
    const e = failure(() => resolve(u, [{name: 'zzzzzzzzzz'}], NO_OPTS))
    expect(e.diagnostics.map((d) => d.message)).toEqual(["unknown package 'zzzzzzzzzz'"])
  })

  it('reports an unsatisfiable request at its line with the chain down to the unmet dependency', () => {
    const e = failure(() => resolve(u, [{name: 'foo', location: at(3)}], NO_OPTS))
    expect(e.exit).toBe('unsatisfiable')
    expect(e.diagnostics).toHaveLength(1)
    const d = e.diagnostics[0]!
    expect(d.location?.line).toBe(3)
    expect(d.message).toBe("package 'foo' cannot be installed: 'libgone (>= 3) | libgone2' (needed by middle) cannot be met")
    expect(d.notes?.map((n) => n.message)).toEqual([
      'foo 1 depends on middle',
      'middle 1 depends on libgone (>= 3) | libgone2',
      'libgone: available versions: 2',
      'libgone2: no such package in the configured sources',
    ])
  })

  it('reports every problem at once: unknown names, bad versions and unmet dependencies', () => {
    const e = failure(() =>
      resolve(
        u,
        [
          {name: 'systemd-resovled', location: at(2)},
          {name: 'foo', location: at(3)},
          {name: 'bar', version: '7', location: at(4)},
          {name: 'systemd-resolved'},
        ],
        NO_OPTS,
      ),
    )
    expect(e.exit).toBe('unsatisfiable')
    expect(e.diagnostics.map((d) => d.message)).toEqual([
      "unknown package 'systemd-resovled'; did you mean 'systemd-resolved'?",
      "package 'bar' has no version '7' (available: 1)",
      "package 'foo' cannot be installed: 'libgone (>= 3) | libgone2' (needed by middle) cannot be met",
      "package 'systemd-resolved' cannot be installed: 'systemd (= 252)' (needed by systemd-resolved) cannot be met",
    ])
    expect(e.render()).toMatch(/4 errors generated\.$/)
  })

  it('rejects a package that is both requested and excluded', () => {
    const e = failure(() => resolve(u, [{name: 'bar', location: at(4)}], {exclude: ['bar'], essential: false}))
    expect(e.diagnostics[0]!.message).toBe("package 'bar' is both requested and excluded")
  })

  it('asks to pick when a requested virtual package has several providers', () => {
    const v = universe(pkg('postfix', '1', {provides: 'mta'}), pkg('exim4', '1', {provides: 'mta'}))
    const e = failure(() => resolve(v, req('mta'), NO_OPTS))
    expect(e.diagnostics[0]!.message).toBe("'mta' is a virtual package provided by exim4, postfix; name one of them")
  })
})
