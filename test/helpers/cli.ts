import {spawnSync, type SpawnSyncOptions} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
export const keelBin = `${repoRoot}/bin/keel`

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Run ./bin/keel as a user would (a separate process), optionally as another uid. */
export function keel(args: string[], opts: SpawnSyncOptions & {asUid?: number} = {}): CliResult {
  const {asUid, ...spawnOpts} = opts
  const argv = asUid === undefined ? [keelBin, ...args] : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', keelBin, ...args]
  const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', maxBuffer: 1 << 26, cwd: repoRoot, ...spawnOpts})
  return {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)}
}
