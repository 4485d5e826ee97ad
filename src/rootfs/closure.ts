import {closeSync, openSync, readFileSync, readSync} from 'node:fs'
import {EM_AARCH64, EM_X86_64, type ElfDynamicInfo, readElfDynamic} from './elf.js'
import {compareBytes, parentOf, type RootTree} from './tree.js'

/**
 * Build-time check that every dynamically linked program and library in a composed tree finds its
 * interpreter and DT_NEEDED libraries inside that tree, the way ld.so would search for them. A recipe's
 * exclude rule that removes a library something still needs then fails the build instead of the boot.
 * Libraries loaded with dlopen() (NSS modules, PAM modules, plugins) are invisible here.
 */
export interface ClosureProblem {
  /** The ELF that needs something, as a manifest path (no leading slash), e.g. 'usr/bin/ls'. */
  path: string
  /** The DT_NEEDED name or the PT_INTERP path that does not resolve to a regular file in the tree. */
  missing: string
  kind: 'needed' | 'interpreter'
}

const MAX_SYMLINK_HOPS = 40
const MAX_CONF_INCLUDE_DEPTH = 8
/** Kernel modules are ELF relocatables that never need ld.so: skipped by name, without opening thousands of them. */
const KERNEL_MODULE = /\.ko(\.xz|\.zst|\.gz)?$/
/** One read covers the ELF header and, in practice, the program headers right after it. */
const HEAD_BYTES = 4096

/**
 * `machine` is the image's ELF e_machine; `elfClass` its word size (default 64: x32 programs are EM_X86_64
 * too, but ELF32, and like i386 ones they need libraries the image does not aim to provide).
 */
export function checkLibraryClosure(tree: RootTree, opts: {machine: number; elfClass?: 32 | 64}): ClosureProblem[] {
  const resolver = new TreeResolver(tree)
  const systemDirs = [...defaultLibraryDirs(opts.machine), ...ldSoConfDirs(resolver)]
  const elves = dynamicElves(tree, opts.machine, opts.elfClass ?? 64)
  // A library without its own RUNPATH still finds a dependency in a private directory (systemd's
  // libsystemd-core → libsystemd-shared) when the program loading it has that directory in its RUNPATH and
  // has loaded the dependency already. Which program loads which library is unknown here, so libraries
  // (ELFs without PT_INTERP) may also use any private directory some ELF in the tree names.
  const privateDirs = [...new Set(elves.flatMap((e) => e.ownDirs))]
  const problems: ClosureProblem[] = []
  for (const {path, elf, ownDirs, origin} of elves) {
    if (elf.interpreter !== undefined && !resolver.isFile(elf.interpreter)) problems.push({path, missing: elf.interpreter, kind: 'interpreter'})
    const dirs = elf.interpreter === undefined ? [...ownDirs, ...systemDirs, ...privateDirs] : [...ownDirs, ...systemDirs]
    for (const name of elf.needed) {
      // ld.so expands $ORIGIN in a DT_NEEDED path too (Python's bundled builds use it).
      const found = name.includes('/') ? resolver.isFile(expandOrigin(name, origin)) : dirs.some((dir) => resolver.isFile(`${dir}/${name}`))
      if (!found) problems.push({path, missing: name, kind: 'needed'})
    }
  }
  return problems.sort((a, b) => compareBytes(a.path, b.path) || compareBytes(a.kind, b.kind) || compareBytes(a.missing, b.missing))
}

/**
 * `roots` and everything ld.so would load to start them: their interpreters and DT_NEEDED libraries,
 * transitively, as resolved manifest paths (symlinks followed), sorted. Roots that are not regular files in
 * the tree, and libraries that do not resolve, are left out (checkLibraryClosure reports those).
 */
export function libraryClosure(tree: RootTree, roots: readonly string[], machine: number): string[] {
  return libraryClosures(tree, [roots], machine)[0]!
}

/** libraryClosure of each group of roots, with one resolver and one reading of ld.so.conf for all of them. */
export function libraryClosures(tree: RootTree, groups: ReadonlyArray<readonly string[]>, machine: number): string[][] {
  const resolver = new TreeResolver(tree)
  const systemDirs = [...defaultLibraryDirs(machine), ...ldSoConfDirs(resolver)]
  return groups.map((roots) => {
    const found = new Set<string>()
    // `loaderDirs`: RUNPATHs of the objects that load this one, which is how a library without a RUNPATH of its
    // own still finds a dependency in a private directory (libsystemd-core → libsystemd-shared).
    const visit = (path: string, loaderDirs: readonly string[]): void => {
      const resolved = resolver.resolve(path)
      if (resolved === undefined || found.has(resolved) || !resolver.isFile(resolved)) return
      found.add(resolved)
      const entry = tree.entries.get(resolved)
      const elf = readElfFile(tree.hostPath(entry?.type === 'hardlink' ? entry.linkTarget! : resolved))
      if (!elf?.dynamic || elf.machine !== machine) return
      const origin = parentOf(resolved)
      const inherited = [...(elf.runpath.length ? elf.runpath : elf.rpath).map((dir) => expandOrigin(dir, origin)), ...loaderDirs]
      if (elf.interpreter !== undefined) visit(elf.interpreter, [])
      for (const name of elf.needed) {
        if (name.includes('/')) visit(expandOrigin(name, origin), inherited)
        else {
          const dir = [...inherited, ...systemDirs].find((d) => resolver.isFile(`${d}/${name}`))
          if (dir !== undefined) visit(`${dir}/${name}`, inherited)
        }
      }
    }
    for (const root of roots) visit(root, [])
    return [...found].sort(compareBytes)
  })
}

interface DynamicElf {
  path: string
  elf: ElfDynamicInfo
  /** Its RUNPATH (or, without one, RPATH) with $ORIGIN expanded: ld.so ignores DT_RPATH when DT_RUNPATH is present. */
  ownDirs: string[]
  /** Its own directory, what $ORIGIN stands for. */
  origin: string
}

/** The dynamically linked programs and libraries of one machine in the tree. */
function dynamicElves(tree: RootTree, machine: number, elfClass: 32 | 64): DynamicElf[] {
  const out: DynamicElf[] = []
  for (const entry of tree.entries.values()) {
    // Hardlink entries duplicate the file they link to, which is checked under its own path.
    if (entry.type !== 'file' || KERNEL_MODULE.test(entry.path)) continue
    const elf = readElfFile(tree.hostPath(entry.path))
    if (!elf || elf.machine !== machine || elf.class !== elfClass || !elf.dynamic || (elf.type !== 'exec' && elf.type !== 'dyn')) continue
    const origin = parentOf(entry.path)
    const ownDirs = (elf.runpath.length ? elf.runpath : elf.rpath).map((dir) => expandOrigin(dir, origin))
    out.push({path: entry.path, elf, ownDirs, origin})
  }
  return out
}

/** "libfoo.so.1 (needed by /usr/bin/a, /usr/bin/b)", one line per missing library, at most a few paths each. */
export function describeClosureProblems(problems: ClosureProblem[], pathsPerLine = 5): string {
  const byMissing = new Map<string, string[]>()
  for (const p of problems) {
    const what = p.kind === 'interpreter' ? `interpreter ${p.missing}` : p.missing
    const users = byMissing.get(what) ?? []
    users.push(`/${p.path}`)
    byMissing.set(what, users)
  }
  const lines = [...byMissing]
    .sort(([a], [b]) => compareBytes(a, b))
    .map(([what, users]) => {
      const more = users.length > pathsPerLine ? `, and ${users.length - pathsPerLine} more` : ''
      return `  ${what} (needed by ${users.slice(0, pathsPerLine).join(', ')}${more})`
    })
  const count = byMissing.size
  return [`${count} shared ${count === 1 ? 'library is' : 'libraries are'} needed but missing from the image:`, ...lines].join('\n')
}

/** ld.so's built-in search directories on Debian, as image paths. */
function defaultLibraryDirs(machine: number): string[] {
  if (machine === EM_X86_64) return ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'usr/lib64', 'lib', 'usr/lib']
  if (machine === EM_AARCH64) return ['lib/aarch64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'lib', 'usr/lib']
  return ['lib', 'usr/lib']
}

function expandOrigin(dir: string, origin: string): string {
  return dir.replace(/\$ORIGIN|\$\{ORIGIN\}/g, `/${origin}`)
}

/** Resolves image paths through the manifest's symlinks only (never the host's), memoising answers. */
class TreeResolver {
  private readonly fileAnswers = new Map<string, boolean>()

  constructor(private readonly tree: RootTree) {}

  /** The manifest path `path` ends at after following every symlink, or undefined (missing, dangling, loop). */
  resolve(path: string): string | undefined {
    const pending = path.split('/').reverse()
    const done: string[] = []
    let hops = 0
    while (pending.length) {
      const part = pending.pop()!
      if (part === '' || part === '.') continue
      if (part === '..') {
        done.pop()
        continue
      }
      done.push(part)
      const entry = this.tree.entries.get(done.join('/'))
      if (!entry) return undefined
      if (entry.type !== 'symlink') continue
      if (++hops > MAX_SYMLINK_HOPS || entry.linkTarget === undefined) return undefined
      done.pop()
      if (entry.linkTarget.startsWith('/')) done.length = 0
      pending.push(...entry.linkTarget.split('/').reverse())
    }
    return done.join('/')
  }

  isFile(path: string): boolean {
    let answer = this.fileAnswers.get(path)
    if (answer === undefined) {
      const resolved = this.resolve(path)
      const entry = resolved === undefined ? undefined : this.tree.entries.get(resolved)
      const target = entry?.type === 'hardlink' && entry.linkTarget !== undefined ? this.tree.entries.get(entry.linkTarget) : entry
      answer = target?.type === 'file'
      this.fileAnswers.set(path, answer)
    }
    return answer
  }

  readText(path: string): string | undefined {
    if (!this.isFile(path)) return undefined
    const resolved = this.resolve(path)!
    const entry = this.tree.entries.get(resolved)
    try {
      return readFileSync(this.tree.hostPath(entry?.type === 'hardlink' ? entry.linkTarget! : resolved), 'utf8')
    } catch {
      return undefined
    }
  }

  /** Image paths matching a glob whose wildcards are in the last component only (all ld.so.conf uses). */
  glob(pattern: string): string[] {
    const dir = parentOf(pattern)
    const base = pattern.slice(dir.length ? dir.length + 1 : 0)
    if (!/[*?[]/.test(base)) return [pattern]
    const resolvedDir = this.resolve(dir)
    if (resolvedDir === undefined) return []
    const regex = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`)
    const matches: string[] = []
    for (const key of this.tree.entries.keys()) {
      if (key !== '' && parentOf(key) === resolvedDir && regex.test(key.slice(resolvedDir.length ? resolvedDir.length + 1 : 0))) matches.push(key)
    }
    return matches.sort(compareBytes)
  }
}

/** Directories named by the tree's /etc/ld.so.conf and the files it includes (ldconfig's syntax, minus hwcap). */
function ldSoConfDirs(resolver: TreeResolver): string[] {
  const dirs: string[] = []
  const visit = (file: string, depth: number): void => {
    const text = depth <= MAX_CONF_INCLUDE_DEPTH ? resolver.readText(file) : undefined
    if (text === undefined) return
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim()
      if (line === '' || /^hwcap\s/.test(line)) continue
      const include = /^include\s+(.+)$/.exec(line)
      if (!include) {
        dirs.push(...line.split(/[\s:,=]+/).filter(Boolean).map(withoutLeadingSlash))
        continue
      }
      for (const pattern of include[1]!.split(/\s+/)) {
        // Relative include patterns are relative to the including file's directory, as in ldconfig.
        const path = pattern.startsWith('/') ? withoutLeadingSlash(pattern) : `${parentOf(file)}/${pattern}`
        for (const included of resolver.glob(path)) visit(included, depth + 1)
      }
    }
  }
  visit('etc/ld.so.conf', 0)
  return dirs
}

function withoutLeadingSlash(path: string): string {
  return path.replace(/^\/+/, '')
}

/** Reads only the bytes the ELF parser asks for; non-ELF files cost one small read. */
function readElfFile(hostPath: string): ElfDynamicInfo | undefined {
  let fd: number
  try {
    fd = openSync(hostPath, 'r')
  } catch {
    return undefined
  }
  try {
    const head = Buffer.alloc(HEAD_BYTES)
    const headLength = readSync(fd, head, 0, HEAD_BYTES, 0)
    if (headLength < 4 || head[0] !== 0x7f || head.toString('latin1', 1, 4) !== 'ELF') return undefined
    return readElfDynamic((offset, length) => {
      if (offset + length <= headLength) return head.subarray(offset, offset + length)
      const buf = Buffer.alloc(length)
      return buf.subarray(0, readSync(fd, buf, 0, length, offset))
    })
  } finally {
    closeSync(fd)
  }
}
