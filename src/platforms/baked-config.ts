import {type Diagnostic, hasErrors} from '../core/diagnostics.js'
import {encodeNewcHeader, pad4, trailer} from '../initramfs/cpio.js'
import {translate} from '../ignition/index.js'
import {gzipSync} from 'node:zlib'

/**
 * `keel build --config FILE`: a cloud-config (translated) or an Ignition config (checked), baked into the
 * images of platforms with no metadata source. Ignition reads `/usr/lib/ignition/user.ign` from the initramfs
 * on every platform — after a config named on the kernel command line and before the platform's provider
 * (coreos/ignition internal/exec/engine.go fetchProviderConfig: cmdline, then system, then the platform) —
 * so the config travels as a small newc cpio appended as a second initrd: the kernel unpacks concatenated
 * archives in order, adding the file to the initramfs without rebuilding it.
 */

export const USER_IGN_PATH = 'usr/lib/ignition/user.ign'

export interface BuildConfig {
  /** The file as named on the command line. */
  file: string
  kind: string
  /** The Ignition config, serialized as it is baked. */
  json: string
}

/** Translate or check the --config file (pure): the config, or none when there are errors; every diagnostic. */
export function prepareBuildConfig(text: string, file: string): {config?: BuildConfig; diagnostics: Diagnostic[]} {
  // No platform variables: a baked config goes to platforms that have no metadata to read them from.
  const r = translate(text, file, {platform: 'metal'})
  if (!r.config || hasErrors(r.diagnostics)) return {diagnostics: r.diagnostics}
  return {config: {file, kind: r.kind, json: `${JSON.stringify(r.config)}\n`}, diagnostics: r.diagnostics}
}

/**
 * The archive (pure): a newc cpio of the directories down to /usr/lib/ignition (modes as the initramfs
 * already has them) and user.ign readable by root only — it may hold secrets — every mtime the build's
 * epoch, gzip-compressed. Compressed because the kernel accepts an uncompressed cpio after another archive
 * only when it starts on a 4-byte boundary of the concatenation, and a boot loader need not pad between
 * initrds (systemd-boot 252 does not: the kernel stopped with "invalid magic at start of compressed
 * archive"); a compressed member is found at any offset. gzip's header here has no name and no time.
 */
export function bakedConfigCpio(json: string, epoch: number): Buffer {
  return gzipSync(bakedConfigNewc(json, epoch), {level: 9})
}

/** The uncompressed newc archive inside bakedConfigCpio (pure). */
export function bakedConfigNewc(json: string, epoch: number): Buffer {
  const data = Buffer.from(json, 'utf8')
  const parts: Buffer[] = []
  let ino = 1
  const common = {uid: 0, gid: 0, mtime: epoch, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0}
  for (const dir of ['usr', 'usr/lib', 'usr/lib/ignition']) {
    parts.push(encodeNewcHeader({...common, ino: ino++, mode: 0o040755, nlink: 2, fileSize: 0, name: dir}))
  }
  parts.push(encodeNewcHeader({...common, ino: ino++, mode: 0o100600, nlink: 1, fileSize: data.length, name: USER_IGN_PATH}))
  parts.push(data, Buffer.alloc(pad4(data.length)), trailer())
  return Buffer.concat(parts)
}
