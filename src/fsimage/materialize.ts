import {chmodSync, constants as fsc, copyFileSync, linkSync, lutimesSync, mkdirSync, readdirSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {KeelError} from '../core/errors.js'
import {compareBytes} from '../rootfs/tree.js'
import {type ImageManifest, SPECIAL_TYPES, sortedPaths} from './subtree.js'

/**
 * Copy an image's entries out of the staging directory into `outDir` (new or empty), for tools that read a
 * directory (mke2fs -d). Every copy is private, owned by whoever runs keel, readable (0644/0755) so the
 * tool can read it without root, and timed at `epoch`; the real modes and owners are written into the image
 * afterwards. Files are reflinked where the filesystem can, hard links stay hard links, and device nodes and
 * fifos are left for the image tool to create (returned).
 */
export function materializeImage(stagingRoot: string, manifest: ImageManifest, outDir: string, epoch: number): {special: string[]} {
  mkdirSync(outDir, {recursive: true})
  if (readdirSync(outDir).length > 0) throw new KeelError(`${outDir} is not empty`, 'internal')
  const special: string[] = []
  const made: string[] = []
  const links: string[] = []
  for (const path of sortedPaths(manifest)) {
    const m = manifest.get(path)!
    const dst = join(outDir, path)
    if (SPECIAL_TYPES.has(m.type)) {
      special.push(path)
      continue
    }
    switch (m.type) {
      case 'dir':
        if (path !== '') mkdirSync(dst)
        chmodSync(dst, 0o755)
        break
      case 'symlink':
        symlinkSync(m.linkTarget ?? '', dst)
        break
      case 'file':
        if (m.linkOf !== undefined) {
          // After every original exists: the original may sort after the link.
          links.push(path)
          continue
        }
        {
          if (m.treePath === undefined) throw new KeelError(`/${path} has no content in the staging directory`, 'internal')
          copyFileSync(join(stagingRoot, m.treePath), dst, fsc.COPYFILE_FICLONE)
          chmodSync(dst, m.mode & 0o111 ? 0o755 : 0o644)
        }
        break
      default:
        throw new KeelError(`unexpected entry type ${m.type} at /${path}`, 'internal')
    }
    made.push(path)
  }
  for (const path of links) {
    linkSync(join(outDir, manifest.get(path)!.linkOf!), join(outDir, path))
    made.push(path)
  }
  // Deepest first, so setting a directory's time is not undone by creating its children.
  for (const path of made.sort((a, b) => compareBytes(b, a))) lutimesSync(join(outDir, path), epoch, epoch)
  return {special}
}

/** Every path under `dir` (relative, '' for `dir` itself), not following symlinks. */
export function listDirectory(dir: string): string[] {
  const out = ['']
  const walk = (rel: string): void => {
    for (const d of readdirSync(rel === '' ? dir : join(dir, rel), {withFileTypes: true})) {
      const path = rel === '' ? d.name : `${rel}/${d.name}`
      out.push(path)
      if (d.isDirectory()) walk(path)
    }
  }
  walk('')
  return out
}
