import {describe, expect, it} from 'vitest'
import {canonicalPackagePath, ExcludeMatcher, globToRegExp, matchesExclude} from '../../src/rootfs/paths.js'

describe('canonicalPackagePath', () => {
  it.each([
    ['./usr/bin/bash', 'usr/bin/bash'],
    ['./bin/ls', 'usr/bin/ls'],
    ['./sbin/init', 'usr/sbin/init'],
    ['./lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/libc.so.6'],
    ['./lib32/x', 'usr/lib32/x'],
    ['./lib64/ld-linux-x86-64.so.2', 'usr/lib64/ld-linux-x86-64.so.2'],
    ['./libx32/y', 'usr/libx32/y'],
    ['usr/share/', 'usr/share'],
    ['./etc//default/./grub', 'etc/default/grub'],
    ['./', ''],
    ['./library/x', 'library/x'],
    ['./binaries', 'binaries'],
  ])('%s -> %s', (raw, expected) => {
    expect(canonicalPackagePath(raw)).toMatchObject({ok: true, path: expected})
  })

  it('marks the alias itself so the unpacker can accept `./bin -> usr/bin`', () => {
    expect(canonicalPackagePath('./bin/')).toEqual({ok: true, path: 'usr/bin', alias: 'bin'})
    expect(canonicalPackagePath('./bin/x')).toEqual({ok: true, path: 'usr/bin/x'})
  })

  it.each([
    ['../../etc/passwd', 'dotdot'],
    ['./usr/../../x', 'dotdot'],
    ['./usr/bin/..', 'dotdot'],
    ['/etc/abs', 'absolute'],
    ['./a\0b', 'nul'],
  ])('rejects %j (%s)', (raw, problem) => {
    expect(canonicalPackagePath(raw)).toEqual({ok: false, problem})
  })
})

describe('exclude globs', () => {
  const doc = ['/usr/share/doc/**']

  it('`dir/**` excludes everything below the directory but keeps the directory', () => {
    expect(matchesExclude('usr/share/doc', doc)).toBe(false)
    expect(matchesExclude('usr/share/doc/bash', doc)).toBe(true)
    expect(matchesExclude('usr/share/doc/bash/copyright', doc)).toBe(true)
    expect(matchesExclude('usr/share/docs/x', doc)).toBe(false)
    expect(matchesExclude('usr/share', doc)).toBe(false)
  })

  it('`*` stays within one component, and an excluded directory takes its contents with it', () => {
    const locale = ['/usr/share/locale/*']
    expect(matchesExclude('usr/share/locale/de', locale)).toBe(true)
    expect(matchesExclude('usr/share/locale/de/LC_MESSAGES/bash.mo', locale)).toBe(true)
    expect(matchesExclude('usr/share/locale', locale)).toBe(false)
    const re = globToRegExp('/usr/share/man/man*/*.gz')
    expect(re.test('usr/share/man/man1/ls.1.gz')).toBe(true)
    expect(re.test('usr/share/man/man1/sub/ls.1.gz')).toBe(false)
  })

  it('inner `**` matches zero or more components; a leading one matches anywhere', () => {
    const mo = ['/usr/share/**/*.mo']
    expect(matchesExclude('usr/share/x.mo', mo)).toBe(true)
    expect(matchesExclude('usr/share/locale/de/LC_MESSAGES/x.mo', mo)).toBe(true)
    expect(matchesExclude('usr/lib/x.mo', mo)).toBe(false)
    const pyc = ['**/*.pyc']
    expect(matchesExclude('a.pyc', pyc)).toBe(true)
    expect(matchesExclude('usr/lib/python3/dist-packages/x/__pycache__/y.pyc', pyc)).toBe(true)
    expect(matchesExclude('usr/lib/y.pyco', pyc)).toBe(false)
  })

  it('`?` is one non-slash character and regex metacharacters are literal', () => {
    expect(matchesExclude('etc/rc1.d', ['/etc/rc?.d'])).toBe(true)
    expect(matchesExclude('etc/rc12.d', ['/etc/rc?.d'])).toBe(false)
    expect(matchesExclude('etc/a+b(c)', ['/etc/a+b(c)'])).toBe(true)
    expect(matchesExclude('etc/aab(c)', ['/etc/a+b(c)'])).toBe(false)
    expect(matchesExclude('usr/share/doc', ['usr/share/doc'])).toBe(true)
  })

  it('an empty pattern list excludes nothing and the root is never excluded', () => {
    const m = new ExcludeMatcher([])
    expect(m.empty).toBe(true)
    expect(m.excludes('usr/share/doc/x')).toBe(false)
    expect(matchesExclude('', ['/**'])).toBe(false)
    expect(matchesExclude('etc', ['/**'])).toBe(true)
  })

  it('a keep glob spares the paths it names inside excluded contents, and nothing else', () => {
    const m = new ExcludeMatcher(['/usr/bin/**'], ['/usr/bin/mount', '/usr/bin/systemd*'])
    expect(m.excludes('usr/bin/mount')).toBe(false)
    expect(m.excludes('usr/bin/systemctl')).toBe(true)
    expect(m.excludes('usr/bin/systemd-tmpfiles')).toBe(false)
    expect(m.excludes('usr/bin/umount')).toBe(true)
    expect(m.excludes('usr/bin/mount.d/x')).toBe(true)
    expect(m.excludes('usr/bin')).toBe(false)
  })

  it('a keep glob does not revive the contents of a folder excluded whole', () => {
    const m = new ExcludeMatcher(['/usr/sbin'], ['/usr/sbin/blkid'])
    expect(m.excludes('usr/sbin')).toBe(true)
    expect(m.excludes('usr/sbin/blkid')).toBe(true)
  })
})
