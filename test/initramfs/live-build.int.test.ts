import {mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {run} from '../../src/exec/run.js'
import {concatenateInitrds, writeLiveArchive} from '../../src/initramfs/live-build.js'
import {RootTree} from '../../src/rootfs/tree.js'

// Oracle: GNU cpio lists and extracts the live archive keel writes (the kernel's unpacker of the concatenated
// initrd is exercised by the PXE and ISO boot tests).
const work = mkdtempSync(join(tmpdir(), 'keel-live-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

function sampleTree(dir: string): RootTree {
  const tree = new RootTree(dir)
  const owner = 'test'
  tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n', {owner})
  tree.writeFile('etc/shadow', 'root:*:1::::::\n', {mode: 0o640, gid: 42, owner})
  tree.mkdirp('home/core', {mode: 0o700, uid: 500, gid: 500, owner})
  tree.symlink('bin', 'usr/bin', {owner})
  tree.writeFile('usr/bin/tool', 'not on ROOT', {mode: 0o755, owner})
  tree.writeFile('boot/vmlinuz-1', 'not on ROOT either', {owner})
  return tree
}

describe('writeLiveArchive against GNU cpio', () => {
  const tree = sampleTree(join(work, 'tree'))
  const usr = join(work, 'usr.img')
  const hash = join(work, 'usr.verity')
  writeFileSync(usr, Buffer.alloc(8192 + 3, 0x61))
  writeFileSync(hash, Buffer.alloc(4096, 0x62))
  const out = join(work, 'live.cpio')

  it('holds the images, ROOT under /keel/root (not /usr, not /boot) and the initrd units, with owners and modes', async () => {
    const r = await writeLiveArchive({tree, usrImage: usr, usrHash: hash, out, sourceDateEpoch: 1700000000})
    expect(statSync(out).size).toBe(r.size)
    const {stdout} = await run('cpio', ['-itv', '--quiet', '--numeric-uid-gid', '-F', out])
    const lines = new Map(stdout.trim().split('\n').map((l) => {
      const f = l.trim().split(/\s+/)
      return [f[8]!, {mode: f[0], uid: f[2], gid: f[3], size: f[4]}]
    }))
    expect(lines.get('keel/usr.img')).toEqual({mode: '-r--------', uid: '0', gid: '0', size: '8195'})
    expect(lines.get('keel/usr.verity')).toMatchObject({size: '4096'})
    expect(lines.get('keel/root/etc/shadow')).toEqual({mode: '-rw-r-----', uid: '0', gid: '42', size: '15'})
    expect(lines.get('keel/root/home/core')).toMatchObject({mode: 'drwx------', uid: '500', gid: '500'})
    expect(lines.get('keel/root/tmp')).toMatchObject({mode: 'drwxrwxrwt'})
    expect(lines.get('keel/root/usr')).toMatchObject({mode: 'drwxr-xr-x'})
    expect([...lines.keys()].filter((p) => p.startsWith('keel/root/usr/') || p.startsWith('keel/root/boot/'))).toEqual([])
    expect(lines.get('usr/lib/systemd/system/keel-live-usr.service')).toMatchObject({mode: '-rw-r--r--'})
    expect(lines.get('usr/bin/is-live-image')).toMatchObject({mode: '-rwxr-xr-x'})
  })

  it('extracts identical bytes and link targets', async () => {
    const dest = join(work, 'x')
    mkdirSync(dest)
    await run('cpio', ['-id', '--quiet', '-F', out], {cwd: dest})
    expect(readFileSync(join(dest, 'keel/usr.img')).equals(readFileSync(usr))).toBe(true)
    expect(readFileSync(join(dest, 'keel/root/etc/passwd'), 'utf8')).toBe('root:x:0:0:root:/root:/bin/bash\n')
    expect(readlinkSync(join(dest, 'keel/root/bin'))).toBe('usr/bin')
    expect(readlinkSync(join(dest, 'keel/root/etc/systemd/system/keel-firstboot-done.service'))).toBe('/dev/null')
  })

  it('gives the same bytes for the same inputs', async () => {
    const again = await writeLiveArchive({tree, usrImage: usr, usrHash: hash, out: join(work, 'again.cpio'), sourceDateEpoch: 1700000000})
    expect(readFileSync(again.path).equals(readFileSync(out))).toBe(true)
  })

})

describe('concatenateInitrds', () => {
  it('starts every archive after the first on a 4-byte boundary, padded with NULs', async () => {
    const a = join(work, 'a')
    const b = join(work, 'b')
    const c = join(work, 'c')
    writeFileSync(a, 'AAAAA') // 5 bytes → 3 NULs
    writeFileSync(b, 'BBBB') // ends aligned → no padding
    writeFileSync(c, 'C')
    const r = await concatenateInitrds([a, b, c], join(work, 'abc'))
    expect(readFileSync(r.path).toString('latin1')).toBe('AAAAA\0\0\0BBBBC')
    expect(r.size).toBe(13)
  })
})
