import {mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {run} from '../../exec/run.js'
import {compareBytes, type RootTree} from '../tree.js'
import type {Fixup, FixupResult} from './types.js'
import {readTreeText, resolveInTree, ResultBuilder} from './util.js'

/**
 * update-ca-certificates, run by ca-certificates' postinst, offline. Selection: the certificates
 * /etc/ca-certificates.conf lists (a '!' line deselects), or every .crt under /usr/share/ca-certificates
 * when the file lists none; plus every .crt under /usr/local/share/ca-certificates. Bundle order is the
 * conf's order (or bytewise path order); each PEM ends with a newline. Without a conf, keel writes one
 * listing every certificate sorted, as the postinst's debconf default does.
 * Hash links (<subject hash>.N) come from `openssl rehash` run on a scratch copy of the links, renumbered
 * per hash in link-name order so ties are deterministic.
 */
const SHARE = 'usr/share/ca-certificates'
const LOCAL = 'usr/local/share/ca-certificates'
const CERTS = 'etc/ssl/certs'
export const BUNDLE = `${CERTS}/ca-certificates.crt`
const OWNER = 'keel:ca-certificates'

export interface ConfSelection {
  selected: string[]
  deselected: string[]
}

export function parseCaConf(text: string): ConfSelection {
  const out: ConfSelection = {selected: [], deselected: []}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (line.startsWith('!')) out.deselected.push(line.slice(1))
    else out.selected.push(line)
  }
  return out
}

/**
 * Which certificates (relative to /usr/share/ca-certificates) go in, in bundle order: the conf's order when
 * it lists any (update-ca-certificates reads it line by line; the postinst writes it sorted), else every
 * available one in bytewise order (`find | sort` under LC_ALL=C). A listed certificate that is not available
 * is dropped, as update-ca-certificates warns and skips it.
 */
export function selectCertificates(available: string[], conf: ConfSelection | undefined): string[] {
  const have = new Set(available)
  if (conf && conf.selected.length > 0) return [...new Set(conf.selected.filter((c) => have.has(c)))]
  return available.filter((c) => !conf?.deselected.includes(c)).sort(compareBytes)
}

/** The bundle text: each PEM as is, newline-terminated, in the given order. */
export function bundleText(pems: string[]): string {
  return pems.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('')
}

/**
 * The link name update-ca-certificates gives a certificate in /etc/ssl/certs: basename without .crt, spaces
 * and commas to '_', parentheses to '=', plus .pem.
 */
export function pemLinkName(certPath: string): string {
  return `${basename(certPath).replace(/\.crt$/, '').replace(/[ ,]/g, '_').replace(/[()]/g, '=')}.pem`
}

/** Given `<hash>.<n>` → link-name pairs from openssl, renumber each hash's links in sorted link-name order. */
export function renumberHashLinks(links: Array<{hashName: string; target: string}>): Array<{name: string; target: string}> {
  const byHash = new Map<string, string[]>()
  for (const {hashName, target} of links) {
    const hash = hashName.replace(/\.\d+$/, '')
    byHash.set(hash, [...(byHash.get(hash) ?? []), target])
  }
  const out: Array<{name: string; target: string}> = []
  for (const hash of [...byHash.keys()].sort()) {
    byHash.get(hash)!.sort(compareBytes).forEach((target, i) => out.push({name: `${hash}.${i}`, target}))
  }
  return out
}

function crtFilesUnder(tree: RootTree, root: string): string[] {
  const prefix = `${resolveInTree(tree, root)}/`
  return [...tree.entries.values()]
    .filter((e) => e.path.startsWith(prefix) && e.path.endsWith('.crt') && (e.type === 'file' || e.type === 'symlink'))
    .map((e) => e.path.slice(prefix.length))
    .sort(compareBytes)
}

async function hashLinks(tree: RootTree, links: Array<{name: string; imagePath: string}>): Promise<Array<{name: string; target: string}>> {
  const scratch = mkdtempSync(join(tmpdir(), 'keel-rehash-'))
  try {
    for (const l of links) symlinkSync(tree.hostPath(resolveInTree(tree, l.imagePath)), join(scratch, l.name))
    await run('openssl', ['rehash', scratch])
    const found: Array<{hashName: string; target: string}> = []
    for (const name of readdirSync(scratch)) {
      if (/^[0-9a-f]{8}\.\d+$/.test(name)) found.push({hashName: name, target: readlinkSync(join(scratch, name))})
    }
    return renumberHashLinks(found)
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}

export const caCertificatesFixup: Fixup = {
  name: 'ca-certificates',
  replaces: 'ca-certificates postinst (update-ca-certificates)',
  async run(ctx): Promise<FixupResult> {
    const {tree} = ctx
    const result = new ResultBuilder()
    const available = crtFilesUnder(tree, SHARE)
    if (available.length === 0) return result.result()
    // The postinst makes the local certificate directory with /usr/local's mode and group.
    const usrLocal = tree.get('usr/local')
    if (!tree.get(LOCAL) && usrLocal?.type === 'dir') {
      tree.mkdirp(LOCAL, {mode: usrLocal.mode, gid: usrLocal.gid, owner: OWNER})
      result.wrote(LOCAL)
    }
    const confText = readTreeText(tree, 'etc/ca-certificates.conf')
    const selected = selectCertificates(available, confText === undefined ? undefined : parseCaConf(confText))
    if (confText === undefined) {
      const header = '# Certificates from /usr/share/ca-certificates; a line starting with ! deselects one.\n'
      tree.writeFile('etc/ca-certificates.conf', header + selected.map((c) => `${c}\n`).join(''), {mode: 0o644, owner: OWNER})
      result.wrote('etc/ca-certificates.conf')
    }
    const certs = [...selected.map((c) => `${SHARE}/${c}`), ...crtFilesUnder(tree, LOCAL).map((c) => `${LOCAL}/${c}`)]
    const links: Array<{name: string; imagePath: string}> = []
    const pems: string[] = []
    for (const cert of certs) {
      const name = pemLinkName(cert)
      tree.symlink(`${CERTS}/${name}`, `/${cert}`, {owner: OWNER})
      result.wrote(`${CERTS}/${name}`)
      links.push({name, imagePath: cert})
      pems.push(readFileSync(tree.hostPath(resolveInTree(tree, cert)), 'utf8'))
    }
    tree.writeFile(BUNDLE, bundleText(pems), {mode: 0o644, owner: OWNER})
    result.wrote(BUNDLE)
    for (const {name, target} of await hashLinks(tree, links)) {
      tree.symlink(`${CERTS}/${name}`, basename(target), {owner: OWNER})
      result.wrote(`${CERTS}/${name}`)
    }
    result.fact('certificates', ...certs.map((c) => `/${c}`))
    return result.result()
  },
}
