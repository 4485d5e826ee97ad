import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * The host's apt configuration (apt.conf, apt.conf.d) and proxy environment, read natively: keel never runs
 * apt, but it should reach the mirror the way apt on the same machine does.
 */

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * apt.conf syntax, natively: `A::B "v";`, scopes `A { B "v"; C::D "w"; };`, list items `"x";` inside a
 * scope, comments `//`, `/* *\/` and `#` lines (`#include`/`#clear` directives are not followed). Returns
 * lowercased full option names → value (the last assignment wins, as in apt).
 */
export function parseAptConf(text: string): Map<string, string> {
  const out = new Map<string, string>()
  const tokens: string[] = []
  const kinds: Array<'word' | 'string' | 'punct'> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === '/' && text[i + 1] === '/') {
      i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i)
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else if (c === '#') {
      i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i)
    } else if (/\s/.test(c)) {
      i++
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push(c)
      kinds.push('punct')
      i++
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1)
      const stop = end < 0 ? text.length : end
      tokens.push(text.slice(i + 1, stop))
      kinds.push('string')
      i = stop + 1
    } else {
      let j = i
      while (j < text.length && !/[\s{};"]/.test(text[j]!)) j++
      tokens.push(text.slice(i, j))
      kinds.push('word')
      i = j
    }
  }
  const scope: string[] = []
  const listIndex: number[] = [0]
  let t = 0
  while (t < tokens.length) {
    const tok = tokens[t]!
    const kind = kinds[t]!
    if (kind === 'punct') {
      if (tok === '}') {
        scope.pop()
        listIndex.pop()
      }
      t++
      continue
    }
    const nextTok = tokens[t + 1]
    const nextKind = kinds[t + 1]
    if (kind === 'word' && nextTok === '{' && nextKind === 'punct') {
      scope.push(tok)
      listIndex.push(0)
      t += 2
    } else if (kind === 'word' && nextKind === 'string') {
      out.set([...scope, tok].join('::').toLowerCase(), nextTok!)
      t += 2
    } else if (kind === 'string') {
      // A bare value inside a scope: a list item.
      const idx = listIndex[listIndex.length - 1]!
      listIndex[listIndex.length - 1] = idx + 1
      out.set([...scope, String(idx)].join('::').toLowerCase(), tok)
      t++
    } else {
      t++
    }
  }
  return out
}

export interface ProxyConfig {
  /** apt options, lowercased names (from parseAptConf). */
  apt: Map<string, string>
  env: {httpProxy?: string; httpsProxy?: string; noProxy?: string}
}

/** Read /etc/apt/apt.conf and apt.conf.d/* (apt's file-name rules) plus the proxy environment variables. */
export async function hostProxyConfig(root = '/', env: NodeJS.ProcessEnv = process.env): Promise<ProxyConfig> {
  const apt = new Map<string, string>()
  const files = [join(root, 'etc/apt/apt.conf')]
  const dir = join(root, 'etc/apt/apt.conf.d')
  try {
    for (const name of (await readdir(dir)).sort()) {
      // apt reads files whose names are only alphanumerics, '_', '-', '.' and have no extension or '.conf'.
      if (/^[A-Za-z0-9_.-]+$/.test(name) && (!name.includes('.') || name.endsWith('.conf'))) files.push(join(dir, name))
    }
  } catch {
    // no apt.conf.d
  }
  for (const file of files) {
    const text = await readText(file)
    if (text !== undefined) for (const [k, v] of parseAptConf(text)) apt.set(k, v)
  }
  return {
    apt,
    env: {
      httpProxy: env.http_proxy || env.HTTP_PROXY || undefined,
      httpsProxy: env.https_proxy || env.HTTPS_PROXY || undefined,
      noProxy: env.no_proxy || env.NO_PROXY || undefined,
    },
  }
}

function hostExcluded(host: string, port: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false
  for (const raw of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (raw === '*') return true
    const [pattern, patternPort] = raw.toLowerCase().replace(/^\*/, '').split(':')
    if (patternPort && patternPort !== port) continue
    const p = pattern!.replace(/^\./, '')
    if (host === p || host.endsWith(`.${p}`)) return true
  }
  return false
}

/**
 * The proxy for `url`, or undefined for a direct connection. apt's settings come first, as apt uses them:
 * `Acquire::<scheme>::Proxy::<host>` ("DIRECT" = none), then `Acquire::<scheme>::Proxy`; then the
 * environment's http_proxy/https_proxy, unless no_proxy excludes the host.
 */
export function proxyForUrl(url: string, config: ProxyConfig): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  const scheme = parsed.protocol.replace(/:$/, '')
  if (scheme !== 'http' && scheme !== 'https') return undefined
  const host = parsed.hostname.toLowerCase()
  const port = parsed.port || (scheme === 'https' ? '443' : '80')
  const perHost = config.apt.get(`acquire::${scheme}::proxy::${host}`)
  const aptProxy = perHost ?? config.apt.get(`acquire::${scheme}::proxy`)
  if (aptProxy !== undefined) {
    if (aptProxy.toUpperCase() === 'DIRECT' || aptProxy === '') return undefined
    return aptProxy
  }
  const envProxy = scheme === 'https' ? config.env.httpsProxy : config.env.httpProxy
  if (!envProxy || hostExcluded(host, port, config.env.noProxy)) return undefined
  return envProxy
}
