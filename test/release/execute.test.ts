import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {KeelError} from '../../src/core/errors.js'
import {applyOps, placeFile, withTreeLock} from '../../src/release/execute.js'

const dirs: string[] = []
const temp = (base = tmpdir()) => {
  const d = mkdtempSync(join(base, 'keel-exec-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, {recursive: true, force: true})))

describe('release executor', () => {
  it('applies operations in order and stops where the hook throws', async () => {
    const root = temp()
    const ops = [
      {op: 'mkdir', path: 'a/.staging-1'},
      {op: 'write', path: 'a/.staging-1/x.txt', content: 'x\n'},
      {op: 'sign', path: 'a/.staging-1/x.txt', signature: 'a/.staging-1/x.txt.sig'},
      {op: 'rename', from: 'a/.staging-1', to: 'a/1'},
      {op: 'symlink', path: 'a/current', target: '1'},
      {op: 'symlink', path: 'a/current', target: '2'},
    ] as const
    const signed: string[] = []
    const sign = async (p: string, s: string) => {
      signed.push(p)
      writeFileSync(s, `sig of ${readFileSync(p, 'utf8')}`)
    }
    await expect(applyOps(root, ops, {sign, afterOp: (n) => {
      if (n === 4) throw new Error('stop')
    }})).rejects.toThrow('stop')
    expect(readFileSync(join(root, 'a/1/x.txt.sig'), 'utf8')).toBe('sig of x\n')
    expect(existsSync(join(root, 'a/current'))).toBe(false)
    rmSync(join(root, 'a/1'), {recursive: true})
    await applyOps(root, ops, {sign, afterOp: () => {}})
    // A symlink over an existing one is replaced (rename of a temp link), never left missing.
    expect(readlinkSync(join(root, 'a/current'))).toBe('2')
    expect(signed).toEqual([join(root, 'a/.staging-1/x.txt'), join(root, 'a/.staging-1/x.txt')])
  })

  it('places by hard link on one filesystem and by copy across filesystems', async () => {
    const src = temp()
    writeFileSync(join(src, 'f'), 'payload')
    const same = temp()
    await placeFile(join(src, 'f'), join(same, 'f'))
    expect(statSync(join(same, 'f')).ino).toBe(statSync(join(src, 'f')).ino)
    if (existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev) {
      const other = temp('/dev/shm')
      await placeFile(join(src, 'f'), join(other, 'f'))
      expect(statSync(join(other, 'f')).ino).not.toBe(statSync(join(src, 'f')).ino)
      expect(readFileSync(join(other, 'f'), 'utf8')).toBe('payload')
    }
  })

  it('the tree lock: exclusive while held, refused after the wait, taken over from a dead owner', async () => {
    const root = temp()
    const order: string[] = []
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const first = withTreeLock(root, 0, async () => {
      order.push('first in')
      await held
      order.push('first out')
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(readFileSync(join(root, '.lock'), 'utf8')).toBe(`${process.pid}\n`)
    const refused = await withTreeLock(root, 0, async () => order.push('never')).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(KeelError)
    expect((refused as KeelError).exit).toBe('releaseConflict')
    const waiting = withTreeLock(root, 10_000, async () => order.push('second'))
    await new Promise((r) => setTimeout(r, 150))
    release()
    await Promise.all([first, waiting])
    expect(order).toEqual(['first in', 'first out', 'second'])
    expect(existsSync(join(root, '.lock'))).toBe(false)
    writeFileSync(join(root, '.lock'), `${spawnSync('true').pid}\n`)
    expect(await withTreeLock(root, 0, async () => 'took over')).toBe('took over')
  })
})
