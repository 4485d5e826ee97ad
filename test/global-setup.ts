import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** CLI tests run ./bin/keel, which runs dist/: compile once before any test file starts. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.json`], {stdio: 'inherit'})
}
