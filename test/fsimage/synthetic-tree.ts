import {linkSync, mkdirSync} from 'node:fs'
import {RootTree} from '../../src/rootfs/tree.js'

/**
 * A small rootfs with the cases that matter for images: setuid/setgid binaries owned by non-root groups,
 * private home directories, a hard link, odd file names, merged-/usr symlinks, a device node (manifest
 * only, as rootless unpacking records them), and /usr contents that must not reach ROOT.
 * `reverse` creates the same tree in the opposite order, so the images must not depend on creation order.
 */
export const SYNTHETIC_EPOCH = 1_700_000_000

export function syntheticTree(dir: string, opts: {reverse?: boolean; bigIds?: boolean} = {}): RootTree {
  mkdirSync(dir, {recursive: true})
  const tree = new RootTree(dir)
  const steps: Array<() => void> = [
    () => tree.writeFile('usr/bin/bash', '#!bash\n'.repeat(500), {owner: 't', mode: 0o755}),
    () => tree.writeFile('usr/bin/sudo', 'sudo binary\n'.repeat(300), {owner: 't', mode: 0o4755}),
    () => tree.writeFile('usr/bin/ssh-agent', 'agent\n', {owner: 't', mode: 0o2755, gid: 101}),
    () => tree.writeFile('usr/lib/dbus-1.0/dbus-daemon-launch-helper', 'helper\n', {owner: 't', mode: 0o4754, gid: 998}),
    () => tree.symlink('usr/bin/sh', 'bash', {owner: 't'}),
    () => tree.writeFile('usr/share/doc/a b\\x2d[c].txt', 'odd name\n', {owner: 't'}),
    () => tree.writeFile('usr/share/ca/Főtanúsítvány.crt', 'utf-8 name\n', {owner: 't'}),
    () => tree.writeFile('usr/share/private/key', 'secret\n', {owner: 't', mode: 0o600, uid: opts.bigIds ? 70_000 : 500, gid: opts.bigIds ? 70_001 : 500}),
    () => {
      // A hard link as the unpacker makes one: link(2) on disk, 'hardlink' in the manifest.
      tree.writeFile('usr/bin/gunzip', 'gzip -d\n', {owner: 't', mode: 0o755})
      linkSync(tree.hostPath('usr/bin/gunzip'), tree.hostPath('usr/bin/uncompress'))
      tree.record({path: 'usr/bin/uncompress', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, linkTarget: 'usr/bin/gunzip', owner: 't'})
    },
    () => tree.writeFile('etc/shadow', 'root:*:19000:0:99999:7:::\n', {owner: 't', mode: 0o640, gid: 42}),
    () => {
      // A hard link on ROOT too, with the link sorting before its original.
      tree.writeFile('var/lib/z-original', 'shared\n', {owner: 't', mode: 0o640, gid: 4})
      linkSync(tree.hostPath('var/lib/z-original'), tree.hostPath('var/lib/a-link'))
      tree.record({path: 'var/lib/a-link', type: 'hardlink', mode: 0o640, uid: 0, gid: 4, linkTarget: 'var/lib/z-original', owner: 't'})
    },
    () => tree.writeFile('boot/vmlinuz-6.1.0-test', 'kernel\n', {owner: 't'}),
    () => tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\n', {owner: 't'}),
    () => tree.writeFile('home/core/.bashrc', '# bashrc\n', {owner: 't', uid: 500, gid: 500}),
    () => tree.symlink('bin', 'usr/bin', {owner: 't'}),
    () => tree.symlink('lib', 'usr/lib', {owner: 't'}),
    () => {
      tree.mkdirp('dev', {owner: 't'})
      tree.record({path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, devMajor: 1, devMinor: 3, owner: 't'})
    },
  ]
  const dirs = [
    {path: 'home/core', mode: 0o700, uid: 500, gid: 500},
    {path: 'var/log/journal', mode: 0o2755, uid: 0, gid: 999},
    {path: 'var/local', mode: 0o2775, uid: 0, gid: 50},
    {path: 'tmp', mode: 0o1777, uid: 0, gid: 0},
    {path: 'root', mode: 0o700, uid: 0, gid: 0},
  ]
  for (const d of opts.reverse ? [...dirs].reverse() : dirs) tree.mkdirp(d.path, {owner: 't'})
  for (const step of opts.reverse ? [...steps].reverse() : steps) step()
  // Directory metadata last: in either order, parents made on the way keep the same manifest.
  for (const d of dirs) tree.record({...d, type: 'dir', owner: 't'})
  return tree
}
