import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {BuildManifest} from '../../src/build/manifest.js'

/**
 * A small keel build directory: a few artifact files and a manifest.json with their true sizes and sha256s
 * (computed here, independently of keel). Publish/promote/verify only read these fields, so small fake bytes
 * exercise the same paths as a real build's hundreds of MiB.
 */
export function makeFakeBuild(dir: string, opts: {seed?: string; sourceDateEpoch?: number; withUpdate?: boolean} = {}): BuildManifest {
  const seed = opts.seed ?? 'one'
  mkdirSync(dir, {recursive: true})
  const files: Array<{path: string; platform: string; format: string; content: Buffer}> = [
    {path: 'keel-0.1.0-qemu.qcow2', platform: 'qemu', format: 'qcow2', content: Buffer.from(`qcow2 image ${seed}\n`.repeat(300))},
    {path: 'keel-0.1.0-metal.img', platform: 'metal', format: 'raw', content: Buffer.from(`raw disk ${seed}\n`.repeat(500))},
  ]
  if (opts.withUpdate !== false) files.push({path: 'keel-0.1.0-usr.zst', platform: 'update', format: 'usr.zst', content: Buffer.from(`usr payload ${seed}\n`.repeat(200))})
  for (const f of files) writeFileSync(join(dir, f.path), f.content)
  const manifest = {
    manifestVersion: 1,
    image: {id: 'keel', name: 'keel', version: '0.1.0', channel: 'alpha'},
    recipe: {file: 'recipes/base.yaml', digest: 'd'.repeat(64), lockInputsDigest: 'e'.repeat(64)},
    sourceDateEpoch: opts.sourceDateEpoch ?? 1_763_769_600, // 2025-11-22
    platforms: ['qemu', 'metal'],
    artifacts: files.map((f) => ({
      path: f.path, format: f.format, platform: f.platform, size: f.content.length, sha256: createHash('sha256').update(f.content).digest('hex'),
      // As keel build records it for compressed artifacts (the fake bytes are not really compressed).
      ...(f.platform === 'update' ? {uncompressed: {sha256: 'c'.repeat(64), size: 40960 + 4096}} : {}),
    })),
    slots: {A: {rootHash: 'a'.repeat(64), filesystem: 'erofs', dataSize: 4096 * 10, hashSize: 4096}},
    kernel: {version: '6.1.0-test', cmdline: 'console=ttyS0'},
    initrd: {sha256: 'f'.repeat(64), size: 1, packages: 1, modules: []},
    packages: [
      {name: 'systemd', version: '252.30-1~deb12u2', architecture: 'amd64'},
      {name: 'bash', version: '5.2.15-2+b7', architecture: 'amd64'},
    ],
    tools: {},
    timings: {},
  } as unknown as BuildManifest
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  return manifest
}
