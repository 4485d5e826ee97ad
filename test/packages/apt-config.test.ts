import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {hostProxyConfig, parseAptConf, proxyForUrl} from '../../src/packages/apt-config.js'

describe('apt.conf and proxies', () => {
  it('parses apt.conf syntax: scopes, comments, lists', () => {
    const conf = parseAptConf(`// comment
Acquire::http::Proxy "http://proxy:3128";  # trailing
/* block
   comment */
Acquire {
  https { Proxy "http://sproxy:3128"; Proxy::internal.example "DIRECT"; };
  Check-Valid-Until "false";
};
APT::Architectures { "amd64"; "arm64"; };
`)
    expect(Object.fromEntries(conf)).toEqual({
      'acquire::http::proxy': 'http://proxy:3128',
      'acquire::https::proxy': 'http://sproxy:3128',
      'acquire::https::proxy::internal.example': 'DIRECT',
      'acquire::check-valid-until': 'false',
      'apt::architectures::0': 'amd64',
      'apt::architectures::1': 'arm64',
    })
  })

  it('chooses apt settings first (per host, DIRECT), then the environment minus no_proxy', () => {
    const apt = parseAptConf('Acquire::http::Proxy "http://aptproxy:3142"; Acquire::http::Proxy::local.example "DIRECT";')
    const config = {apt, env: {httpProxy: 'http://envproxy:8080', httpsProxy: 'http://envsproxy:8080', noProxy: 'localhost,.corp.example,mirror.example:8080'}}
    expect(proxyForUrl('http://deb.example/debian', config)).toBe('http://aptproxy:3142')
    expect(proxyForUrl('http://local.example/debian', config)).toBeUndefined()
    expect(proxyForUrl('https://deb.example/debian', config)).toBe('http://envsproxy:8080')
    const envOnly = {apt: new Map<string, string>(), env: config.env}
    expect(proxyForUrl('http://deb.example/x', envOnly)).toBe('http://envproxy:8080')
    expect(proxyForUrl('http://a.corp.example/x', envOnly)).toBeUndefined()
    expect(proxyForUrl('http://localhost/x', envOnly)).toBeUndefined()
    expect(proxyForUrl('http://mirror.example:8080/x', envOnly)).toBeUndefined()
    expect(proxyForUrl('http://mirror.example/x', envOnly)).toBe('http://envproxy:8080')
    expect(proxyForUrl('http://x/y', {apt: new Map(), env: {}})).toBeUndefined()
  })

  it('reads apt.conf.d with apt\'s file-name rules and the proxy environment', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keel-aptconf-'))
    try {
      mkdirSync(join(root, 'etc/apt/apt.conf.d'), {recursive: true})
      writeFileSync(join(root, 'etc/apt/apt.conf.d/01proxy'), 'Acquire::http::Proxy "http://p:1";\n')
      writeFileSync(join(root, 'etc/apt/apt.conf.d/02other.conf'), 'Acquire::Check-Date "false";\n')
      writeFileSync(join(root, 'etc/apt/apt.conf.d/03ignored.bak'), 'Acquire::http::Proxy "http://ignored:1";\n')
      const config = await hostProxyConfig(root, {https_proxy: 'http://s:2', NO_PROXY: 'x'})
      expect(config.apt.get('acquire::http::proxy')).toBe('http://p:1')
      expect(config.apt.get('acquire::check-date')).toBe('false')
      expect(config.env).toEqual({httpProxy: undefined, httpsProxy: 'http://s:2', noProxy: 'x'})
    } finally {
      rmSync(root, {recursive: true, force: true})
    }
  })
})
