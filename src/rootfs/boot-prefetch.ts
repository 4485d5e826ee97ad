import {closeSync, openSync, readSync, statSync} from 'node:fs'
import {libraryClosures} from './closure.js'
import {elfMachineFor} from './elf.js'
import {listTreeDir, readTreeText, resolveInTree} from './fixups/util.js'
import type {RootTree} from './tree.js'

/**
 * The /usr files a keel image reads in its first seconds in ROOT, for keel's initrd to read ahead (paths
 * relative to /usr, one per line, in the order they are wanted). Under emulation a cold read from /usr costs
 * CPU — dm-verity hashes each block, erofs decompresses it — and ROOT's start keeps both CPUs busy, while the
 * initrd leaves one idle during Ignition: reading ahead there moves that work off ROOT's critical path (the
 * initrd stops it at switch_root; measurements in src/initramfs/README.md).
 * systemd-readahead did this from a recorded trace until systemd 217; this list is derived from the image
 * instead: systemd's units reachable from sysinit.target, basic.target and the default target, the programs
 * their Exec lines run, systemd itself, its generators, and ld.so's closure of all of them.
 */
export const BOOT_PREFETCH_LIST = 'usr/lib/keel/boot-prefetch'

const SYSTEM_UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system'] as const
/** The targets in the order a boot reaches them; units are listed in the order first met from these. */
const BOOT_TARGETS = ['sysinit.target', 'basic.target', 'default.target'] as const
const EXEC_SEARCH_PATH = ['usr/local/sbin', 'usr/local/bin', 'usr/sbin', 'usr/bin'] as const
/** Units systemd's generators add at boot (invisible in the tree): fstab-generator's remount of the root. */
const GENERATED_WANTS: Readonly<Record<string, readonly string[]>> = {'local-fs.target': ['systemd-remount-fs.service']}
const DEPENDENCY_KEYS = /^(Wants|Requires|Requisite|BindsTo|Upholds)=(.*)$/
const EXEC_KEYS = /^Exec(Condition|StartPre|Start|StartPost)=(.*)$/
/** What systemd reads while loading units and what early services read; unit files come first. */
const BOOT_CONFIG_DIRS = ['usr/lib/systemd/system', 'usr/lib/systemd/system-preset', 'usr/lib/systemd/network', 'usr/lib/tmpfiles.d', 'usr/lib/sysctl.d', 'usr/lib/udev/rules.d', 'usr/lib/modprobe.d'] as const
/** kmod's indexes, read by every modprobe. */
const MODULE_INDEX = /^usr\/lib\/modules\/[^/]+\/modules\.[a-z.]+\.bin$/
/**
 * The list stops once this much is listed: what the initrd's idle CPU gets through before ROOT needs it.
 * A large program far down the list (containerd: 48 MiB) would otherwise be read while ROOT competes for the
 * CPUs, for a service the boot does not wait for.
 */
export const BOOT_PREFETCH_BUDGET_BYTES = 40 * 2 ** 20

/** Units the boot starts, breadth-first from BOOT_TARGETS through Wants=/Requires= and .wants/.requires links. */
export function bootUnits(tree: RootTree): string[] {
  const seen = new Set<string>()
  const queue: string[] = []
  const add = (name: string): void => {
    if (!seen.has(name)) {
      seen.add(name)
      queue.push(name)
    }
  }
  for (const target of BOOT_TARGETS) {
    add(unitName(tree, target))
    while (queue.length) {
      const unit = queue.shift()!
      const template = unit.replace(/@[^.]+\./, '@.')
      for (const dir of SYSTEM_UNIT_DIRS) {
        for (const suffix of ['wants', 'requires']) {
          for (const name of [...listTreeDir(tree, `${dir}/${unit}.${suffix}`), ...(template !== unit ? listTreeDir(tree, `${dir}/${template}.${suffix}`) : [])]) add(name)
        }
      }
      for (const name of GENERATED_WANTS[unit] ?? []) add(name)
      for (const line of unitLines(tree, unit)) {
        const dep = DEPENDENCY_KEYS.exec(line)
        if (dep) for (const name of dep[2]!.split(/\s+/).filter(Boolean)) add(name.replace('%i', instanceOf(unit)))
      }
    }
  }
  return [...seen]
}

/** The programs a unit's Exec lines run (prefixes -@:+! stripped), and mount(8) for mount units. */
export function unitPrograms(tree: RootTree, unit: string): string[] {
  if (unit.endsWith('.mount')) return ['usr/bin/mount']
  const programs: string[] = []
  for (const line of unitLines(tree, unit)) {
    const exec = EXEC_KEYS.exec(line)
    const program = exec?.[2]!.trim().replace(/^[-@:+!]+/, '').split(/\s+/)[0]
    if (program?.startsWith('/')) programs.push(program.slice(1))
    else if (program) {
      // systemd resolves a bare name in its fixed search path (systemd.service(5), "Command lines").
      const found = EXEC_SEARCH_PATH.map((dir) => `${dir}/${program}`).find((path) => tree.entries.has(resolveInTree(tree, path)))
      if (found !== undefined) programs.push(found)
    }
  }
  return programs
}

/** The prefetch list's paths (relative to /usr), in the order the boot wants them, within the byte budget. */
export function planBootPrefetch(tree: RootTree, machine: number, budget = BOOT_PREFETCH_BUDGET_BYTES): string[] {
  const generators = listTreeDir(tree, 'usr/lib/systemd/system-generators').map((g) => `usr/lib/systemd/system-generators/${g}`)
  const programs = [...generators, ...bootUnits(tree).flatMap((unit) => unitPrograms(tree, unit))]
  const [systemd, ...programClosures] = libraryClosures(tree, [['usr/lib/systemd/systemd'], ...programs.map((program) => [program, ...scriptInterpreter(tree, program)])], machine)
  const groups = [
    systemd!,
    ...BOOT_CONFIG_DIRS.map((dir) => regularFilesIn(tree, dir)),
    [...tree.entries.keys()].filter((path) => MODULE_INDEX.test(path)).sort(),
    ...programClosures,
  ]
  const listed = new Set<string>()
  const out: string[] = []
  let bytes = 0
  for (const path of groups.flat()) {
    const resolved = resolveInTree(tree, path)
    const entry = tree.entries.get(resolved)
    if (!resolved.startsWith('usr/') || listed.has(resolved) || (entry?.type !== 'file' && entry?.type !== 'hardlink')) continue
    const size = statSync(tree.hostPath(entry.type === 'hardlink' ? entry.linkTarget! : resolved)).size
    if (bytes + size > budget) continue
    listed.add(resolved)
    bytes += size
    out.push(resolved.slice('usr/'.length))
  }
  return out
}

/**
 * Writes the list into the tree (after keel's own units are in it, before /usr is imaged); returns how many
 * files it names. Images without systemd, or of an architecture keel has no ELF machine for, get none.
 */
export function installBootPrefetch(tree: RootTree, architecture: string): number {
  const machine = elfMachineFor(architecture)
  if (machine === undefined || !tree.entries.has('usr/lib/systemd/systemd')) return 0
  const paths = planBootPrefetch(tree, machine)
  tree.mkdirp('usr/lib/keel', {owner: 'keel:boot-prefetch'})
  tree.writeFile(BOOT_PREFETCH_LIST, paths.map((p) => `${p}\n`).join(''), {owner: 'keel:boot-prefetch', mode: 0o644})
  return paths.length
}

function unitName(tree: RootTree, name: string): string {
  for (const dir of SYSTEM_UNIT_DIRS) {
    const resolved = resolveInTree(tree, `${dir}/${name}`)
    if (tree.entries.has(resolved)) return resolved.slice(resolved.lastIndexOf('/') + 1)
  }
  return name
}

function instanceOf(unit: string): string {
  return /@([^.]+)\./.exec(unit)?.[1] ?? ''
}

/** The unit file's lines (/etc before /usr/lib; an instance falls back to its template), trimmed. */
function unitLines(tree: RootTree, unit: string): string[] {
  const template = unit.replace(/@[^.]+\./, '@.')
  for (const name of template === unit ? [unit] : [unit, template]) {
    for (const dir of SYSTEM_UNIT_DIRS) {
      const text = readTreeText(tree, `${dir}/${name}`)
      if (text !== undefined) return text.split('\n').map((l) => l.trim())
    }
  }
  return []
}

function regularFilesIn(tree: RootTree, dir: string): string[] {
  return listTreeDir(tree, dir).map((name) => `${dir}/${name}`).filter((path) => tree.entries.get(path)?.type === 'file')
}

/** A script's #! interpreter, so the shell a keel unit runs is read ahead too. Reads the first line only. */
function scriptInterpreter(tree: RootTree, program: string): string[] {
  const resolved = resolveInTree(tree, program)
  if (tree.entries.get(resolved)?.type !== 'file') return []
  const fd = openSync(tree.hostPath(resolved), 'r')
  const head = Buffer.alloc(256)
  let length: number
  try {
    length = readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  const text = head.toString('latin1', 0, length)
  const shebang = text.startsWith('#!') ? text.slice(2).split('\n')[0]!.trim().split(/\s+/)[0] : undefined
  return shebang?.startsWith('/') ? [shebang.slice(1)] : []
}
