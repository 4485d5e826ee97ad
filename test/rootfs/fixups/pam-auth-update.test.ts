import {describe, expect, it} from 'vitest'
import {enabledProfiles, parsePamProfile, renderCommonFile, renderModuleLine} from '../../../src/rootfs/fixups/pam-auth-update.js'

const UNIX = `Name: Unix authentication
Default: yes
Priority: 256
Auth-Type: Primary
Auth:
\t[success=end default=ignore]\tpam_unix.so nullok try_first_pass
Auth-Initial:
\t[success=end default=ignore]\tpam_unix.so nullok
Session-Type: Additional
Session:
\trequired\tpam_unix.so
`
const SYSTEMD = `Name: Register user sessions in the systemd control group hierarchy
Default: yes
Priority: 0
Session-Interactive-Only: yes
Session-Type: Additional
Session-Final:
\toptional\t\t\tpam_systemd.so
`
const AUTH_TEMPLATE = `# header
# here are the per-package modules (the "Primary" block)
$auth_primary
# here's the fallback if no module succeeds
auth\trequisite\t\t\tpam_deny.so
# and here are more per-package modules (the "Additional" block)
$auth_additional
# end of pam-auth-update config
`

describe('pam profiles', () => {
  it('parses multi-line fields, -Final names and interactive-only sessions', () => {
    const unix = parsePamProfile('unix', UNIX)
    expect(unix.fields.get('Auth')).toBe('[success=end default=ignore]\tpam_unix.so nullok try_first_pass')
    expect(unix.fields.get('Session-noninteractive')).toBe('required\tpam_unix.so')
    const systemd = parsePamProfile('systemd', SYSTEMD)
    expect(systemd.fields.get('Session')).toBe('optional\t\t\tpam_systemd.so')
    expect(systemd.fields.has('Session-noninteractive-Type')).toBe(false)
    expect(parsePamProfile('t', 'Name: x\nDefault: yes\nAuth:\n\trequired pam_tally.so\n').disabled).toBe(true)
  })

  it('enables Default: yes profiles by priority, dropping conflicts', () => {
    const a = parsePamProfile('a', 'Default: yes\nPriority: 10\nConflicts: b, c\n')
    const b = parsePamProfile('b', 'Default: yes\nPriority: 5\n')
    const c = parsePamProfile('c', 'Default: no\nPriority: 50\n')
    const d = parsePamProfile('d', 'Default: yes\nPriority: 10\n')
    expect(enabledProfiles([b, a, c, d]).map((p) => p.name)).toEqual(['d', 'a'])
  })
})

describe('rendering common-* files', () => {
  it('turns end into the jump count and normalises option spacing', () => {
    expect(renderModuleLine('[success=end default=ignore]\tpam_unix.so  a   b', 2)).toBe('[success=2 default=ignore]\tpam_unix.so a b\n')
    expect(renderModuleLine('required\tpam_unix.so', 0)).toBe('required\tpam_unix.so \n')
  })

  it('fills the Primary block (first module from -Initial) and keeps the rest of the template', () => {
    const extra = parsePamProfile('extra', 'Default: yes\nPriority: 300\nAuth-Type: Primary\nAuth:\n\t[success=end default=ignore]\tpam_extra.so\nAuth-Initial:\n\t[success=end default=ignore]\tpam_extra.so first\n')
    const enabled = enabledProfiles([parsePamProfile('unix', UNIX), extra])
    expect(renderCommonFile(AUTH_TEMPLATE, 'auth', enabled)).toBe(
      '# header\n# here are the per-package modules (the "Primary" block)\n' +
        'auth\t[success=2 default=ignore]\tpam_extra.so first\n' +
        'auth\t[success=1 default=ignore]\tpam_unix.so nullok try_first_pass\n' +
        "# here's the fallback if no module succeeds\nauth\trequisite\t\t\tpam_deny.so\n" +
        '# and here are more per-package modules (the "Additional" block)\n# end of pam-auth-update config\n',
    )
  })

  it('writes a pam_permit jump when no Primary module exists, and rejects a template without markers', () => {
    const text = renderCommonFile(AUTH_TEMPLATE.replace(/^auth\t/gm, 'session\t'), 'session-noninteractive', enabledProfiles([parsePamProfile('systemd', SYSTEMD)]))
    expect(text).toContain('# here are the per-package modules (the "Primary" block)\nsession\t[default=1]\t\t\tpam_permit.so\n')
    expect(text).not.toContain('pam_systemd')
    expect(renderCommonFile('no markers\n', 'auth', [])).toBeUndefined()
  })
})
