import {readFileSync, readdirSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import {fileURLToPath} from 'node:url'
import type {Diagnostic} from '../../src/core/diagnostics.js'
import type {IgnitionConfig} from '../../src/ignition/index.js'
import {run} from '../../src/exec/run.js'

export const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))

/** A cloud-config document from its body. */
export const cc = (body: string): string => `#cloud-config\n${body}`

/** Corpus fixtures keep their provenance line first; the original bytes follow it. */
export function corpusFiles(): Array<{name: string; text: string}> {
  const dir = `${fixtures}cloud-config/`
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const raw = readFileSync(dir + name, 'utf8')
      if (!raw.startsWith('# corpus-source:')) throw new Error(`${name}: provenance line missing`)
      return {name, text: raw.slice(raw.indexOf('\n') + 1)}
    })
}

export function ignitionExamples(): Array<{name: string; text: string}> {
  const dir = `${fixtures}ignition/`
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ign'))
    .sort()
    .map((name) => ({name, text: readFileSync(dir + name, 'utf8')}))
}

/** Decode a file's data URL independently of the code under test (RFC 2397 + optional gzip). */
export function fileText(config: IgnitionConfig | undefined, path: string): string | undefined {
  const f = config?.storage?.files?.find((x) => x.path === path)
  if (!f) return undefined
  const m = /^data:([^,]*),(.*)$/s.exec(f.contents.source)!
  let bytes = m[1]!.endsWith(';base64') ? Buffer.from(m[2]!, 'base64') : Buffer.from(decodeURIComponent(m[2]!), 'utf8')
  if (f.contents.compression === 'gzip') bytes = gunzipSync(bytes)
  return bytes.toString('utf8')
}

export function file(config: IgnitionConfig | undefined, path: string) {
  return config?.storage?.files?.find((x) => x.path === path)
}

export function unit(config: IgnitionConfig | undefined, name: string) {
  return config?.systemd?.units.find((u) => u.name === name)
}

export function dropin(config: IgnitionConfig | undefined, unitName: string, name: string): string | undefined {
  return unit(config, unitName)?.dropins?.find((d) => d.name === name)?.contents
}

/** `line:severity: message` triples, for compact assertions. */
export function brief(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.location?.line ?? 0}:${d.severity}: ${d.message}`)
}

/** Run Debian's ignition-validate on a config; its verdict and anything it printed. */
export async function ignitionValidate(config: unknown): Promise<{exitCode: number; output: string}> {
  const r = await run('ignition-validate', ['-'], {input: JSON.stringify(config), okExitCodes: [1]})
  return {exitCode: r.exitCode, output: (r.stdout + r.stderr).trim()}
}
