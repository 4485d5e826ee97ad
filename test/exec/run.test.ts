import {describe, expect, it} from 'vitest'
import {MissingToolError, ToolFailedError} from '../../src/core/errors.js'
import {minimalEnv, run, spawnFilter} from '../../src/exec/run.js'
import {HOST_TOOLS, requireTool} from '../../src/exec/tools.js'

describe('process runner', () => {
  it('passes arguments as an array: spaces and quotes reach the tool untouched', async () => {
    const r = await run('xz', ['--robot', '--version'])
    expect(r.stdout).toMatch(/^XZ_VERSION=\d+/m)
  })

  it('reports a failure with the command, exit code and stderr tail', async () => {
    const err = await run('xz', ['-d', '/nonexistent file; rm -rf /']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ToolFailedError)
    const failure = err as ToolFailedError
    expect(failure.code).toBe(1)
    expect(failure.message).toContain("'/nonexistent file; rm -rf /'")
    expect(failure.stderrTail).toMatch(/No such file or directory/)
    expect(failure.exitCode).toBe(9)
  })

  it('streams through a filter process', async () => {
    const xz = spawnFilter('xz', ['-c', '-0'])
    const unxz = spawnFilter('xz', ['-dc'])
    xz.stdout.pipe(unxz.stdin)
    const chunks: Buffer[] = []
    unxz.stdout.on('data', (c: Buffer) => chunks.push(c))
    xz.stdin.end(Buffer.from('keel '.repeat(10000)))
    await Promise.all([xz.done, unxz.done])
    expect(Buffer.concat(chunks).toString()).toBe('keel '.repeat(10000))
  })

  it('gives tools a minimal environment', () => {
    const env = minimalEnv({EXTRA: '1'})
    expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['EXTRA', 'LC_ALL', 'PATH', 'TZ']))
    expect(env.PATH).toContain('/usr/sbin')
    expect(env).not.toHaveProperty('NODE_OPTIONS')
  })

  it('removes a variable given as undefined (mkfs.erofs changes behaviour when SOURCE_DATE_EPOCH is merely set)', () => {
    const saved = process.env.SOURCE_DATE_EPOCH
    process.env.SOURCE_DATE_EPOCH = '1700000000'
    try {
      expect(minimalEnv()).toHaveProperty('SOURCE_DATE_EPOCH', '1700000000')
      expect(minimalEnv({SOURCE_DATE_EPOCH: undefined})).not.toHaveProperty('SOURCE_DATE_EPOCH')
      expect(minimalEnv({SOURCE_DATE_EPOCH: '5'})).toHaveProperty('SOURCE_DATE_EPOCH', '5')
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH
      else process.env.SOURCE_DATE_EPOCH = saved
    }
  })

  it('names the Debian package of a missing tool', () => {
    // Every entry names a package; a missing one would be reported as an apt-get line.
    for (const [tool, info] of Object.entries(HOST_TOOLS)) expect(info.debianPackage, tool).toMatch(/^[a-z0-9.+-]+$/)
    const err = new MissingToolError('mkfs.erofs', 'erofs-utils')
    expect(err.render()).toBe("error: required tool 'mkfs.erofs' was not found\nhint: install it with: apt-get install erofs-utils")
    expect(requireTool('xz')).toMatch(/\/xz$/)
  })
})
