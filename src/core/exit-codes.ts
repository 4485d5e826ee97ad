/**
 * Stable process exit codes. This table is the single source: `--help` renders it and every error carries
 * one of these names. Never renumber an entry; add new ones at the end.
 */
export const EXIT_CODES = {
  ok: {code: 0, meaning: 'success (warnings may have been printed)'},
  internal: {code: 1, meaning: 'unexpected internal error (rerun with --verbose)'},
  usage: {code: 2, meaning: 'bad command-line usage (unknown flag, missing argument)'},
  input: {code: 3, meaning: 'invalid input file (diagnostics printed as FILE:LINE:COL)'},
  unsatisfiable: {code: 4, meaning: 'package set cannot be resolved (dependency chain printed)'},
  missingTool: {code: 5, meaning: 'a host tool is missing (the Debian package to install is named)'},
  network: {code: 6, meaning: 'a mirror or URL could not be reached'},
  integrity: {code: 7, meaning: 'a signature or checksum did not verify'},
  staleLock: {code: 8, meaning: 'the lockfile does not match the recipe (run keel lock)'},
  toolFailed: {code: 9, meaning: 'a host tool failed (command, exit code and stderr tail printed)'},
  conflict: {code: 10, meaning: 'packages conflict or overwrite each other\'s files'},
  bootFailed: {code: 11, meaning: 'the image did not boot to the expected point (console tail printed)'},
  testFailed: {code: 12, meaning: 'the image booted but at least one keel test check failed (results printed)'},
  releaseConflict: {code: 13, meaning: 'a published release would change (releases are immutable), or another publish holds the release tree'},
} as const satisfies Record<string, {code: number; meaning: string}>

export type ExitName = keyof typeof EXIT_CODES

export function exitCode(name: ExitName): number {
  return EXIT_CODES[name].code
}

/** The "EXIT CODES" help section, derived from the table. */
export function exitCodesHelp(): string {
  const rows = Object.values(EXIT_CODES).map(({code, meaning}) => `  ${String(code).padStart(2)}  ${meaning}`)
  return ['EXIT CODES', ...rows].join('\n')
}
