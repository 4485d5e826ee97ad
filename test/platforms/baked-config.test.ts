import {describe, expect, it} from 'vitest'
import {gunzipSync} from 'node:zlib'
import {bakedConfigCpio, bakedConfigNewc, prepareBuildConfig, USER_IGN_PATH} from '../../src/platforms/baked-config.js'

describe('prepareBuildConfig', () => {
  it('translates a cloud-config into Ignition JSON', () => {
    const r = prepareBuildConfig('#cloud-config\nhostname: node1\n', 'user-data.yaml')
    expect(r.config?.kind).toBe('cloud-config')
    const ign = JSON.parse(r.config!.json) as {ignition: {version: string}; storage: {files: Array<{path: string}>}}
    expect(ign.ignition.version).toMatch(/^3\./)
    expect(ign.storage.files.map((f) => f.path)).toContain('/etc/hostname')
  })

  it('passes an Ignition config through and reports located errors without a config', () => {
    expect(prepareBuildConfig('{"ignition":{"version":"3.3.0"}}', 'c.ign').config?.kind).toBe('ignition')
    const bad = prepareBuildConfig('#!/bin/sh\necho hi\n', 'bad.yaml')
    expect(bad.config).toBeUndefined()
    expect(bad.diagnostics.some((d) => d.severity === 'error' && d.location?.file === 'bad.yaml')).toBe(true)
  })
})

describe('bakedConfigNewc', () => {
  it('is a newc archive: the directories, then user.ign (mode 0600), then the trailer', () => {
    const cpio = bakedConfigNewc('{"ignition":{"version":"3.3.0"}}\n', 1_700_000_000)
    const text = cpio.toString('latin1')
    const names = [...text.matchAll(/070701[0-9a-f]{88}([0-9a-f]{8})[0-9a-f]{8}([^\0]*)\0/g)].map((m) => m[2])
    expect(names).toEqual(['usr', 'usr/lib', 'usr/lib/ignition', USER_IGN_PATH, 'TRAILER!!!'])
    const header = text.slice(text.indexOf(`${USER_IGN_PATH}\0`) - 110)
    expect(header.slice(14, 22)).toBe('00008180') // mode: regular file 0600
    expect(header.slice(46, 54)).toBe((1_700_000_000).toString(16).padStart(8, '0')) // mtime
    expect(cpio.length % 4).toBe(0)
  })
})

describe('bakedConfigCpio', () => {
  it('is that archive gzip-compressed (found by the kernel at any offset after the main initrd), the same bytes each time', () => {
    const json = '{"ignition":{"version":"3.3.0"}}\n'
    const gz = bakedConfigCpio(json, 1_700_000_000)
    expect(gz.subarray(0, 2).toString('hex')).toBe('1f8b')
    expect(gz.readUInt32LE(4)).toBe(0) // no mtime in the gzip header
    expect(gunzipSync(gz)).toEqual(bakedConfigNewc(json, 1_700_000_000))
    expect(bakedConfigCpio(json, 1_700_000_000)).toEqual(gz)
  })
})
