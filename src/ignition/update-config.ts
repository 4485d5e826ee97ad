/**
 * The update configuration file of a keel image, defined once here (see README.md): the update agent reads
 * the image defaults from DEFAULTS_PATH, then this file on /etc, key by key, so a file that sets only some
 * keys overrides only those (what coreos-cloudinit's merge into /etc/coreos/update.conf achieved).
 *
 * Format: `KEY=VALUE` lines, no quoting, `#` comments. Keys: REBOOT_STRATEGY (etcd-lock | reboot | off),
 * GROUP (release channel or group id), SERVER (update server URL).
 */
export const UPDATE_CONF_PATH = '/etc/keel/update.conf'
export const UPDATE_CONF_DEFAULTS_PATH = '/usr/share/keel/update.conf'

/** The unit that coordinates reboots after an update; `reboot-strategy: off` masks it. */
export const REBOOT_MANAGER_UNIT = 'locksmithd.service'

export interface UpdateSettings {
  rebootStrategy?: string
  group?: string
  server?: string
}

/** The file's text, keys in a fixed order; empty when nothing is set. */
export function updateConfText(s: UpdateSettings): string {
  const lines: string[] = []
  if (s.rebootStrategy) lines.push(`REBOOT_STRATEGY=${s.rebootStrategy}`)
  if (s.group) lines.push(`GROUP=${s.group}`)
  if (s.server) lines.push(`SERVER=${s.server}`)
  return lines.length ? `${lines.join('\n')}\n` : ''
}

/** Parse the file back (for tests and the future update agent); later lines win. */
export function parseUpdateConf(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line)
    if (m) out[m[1]!] = m[2]!.trim()
  }
  return out
}
