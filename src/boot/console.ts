/**
 * Reading a serial console log as it grows (pure parts). The console mixes kernel messages, systemd status
 * lines with colour escapes and carriage returns; matching is done per line with those removed, and a marker
 * must be the whole line — Ignition echoes the config it applied into the log, so the marker text also
 * appears inside other lines before the unit ever prints it.
 */

/** Splits a byte stream into lines; keeps the unfinished tail for the next chunk. */
export class LineSplitter {
  private rest = ''

  push(chunk: string): string[] {
    const text = this.rest + chunk
    const parts = text.split('\n')
    this.rest = parts.pop() ?? ''
    return parts.map(cleanConsoleLine)
  }

  /** The unfinished last line (a prompt such as 'login: ' never gets its newline). */
  pending(): string {
    return cleanConsoleLine(this.rest)
  }
}

// CSI sequences (colours, cursor moves), OSC strings, and lone ESC + one char (e.g. ESC c).
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)|\u001b[@-Z\\-_]/g

export function cleanConsoleLine(line: string): string {
  return line.replace(ESCAPES, '').replace(/\r/g, '')
}

/**
 * A marker matches a line equal to it (after trimming), also when it follows a getty prompt: 'login: ' is
 * printed without a newline, so output written to the console after it shares its line. A RegExp matches
 * as written.
 */
export function lineMatches(line: string, marker: string | RegExp): boolean {
  if (typeof marker !== 'string') return marker.test(line)
  if (line.trim() === marker) return true
  const prompt = line.lastIndexOf('login: ')
  return prompt >= 0 && line.slice(prompt + 'login: '.length).trim() === marker
}

/**
 * Lines that mean this boot will not reach its marker: the initrd or the system gave up, or the kernel
 * died. Watching for them turns a minutes-long timeout into an immediate, explained failure.
 */
export const BOOT_FAILURE_PATTERNS: readonly RegExp[] = [
  /Kernel panic - not syncing/,
  /You are in emergency mode/,
  /Entering emergency mode/,
  /Press Enter for maintenance/,
  /Give root password for maintenance/,
  /Cannot open access to console, the root account is locked/,
]

export function failureIn(line: string): boolean {
  return BOOT_FAILURE_PATTERNS.some((p) => p.test(line))
}

/** The last `n` lines of a console, for error messages. */
export function consoleTail(lines: readonly string[], n = 25): string {
  return lines.slice(-n).join('\n')
}
