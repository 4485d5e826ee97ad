/**
 * Writes schemas/*.schema.json from the typed registry (src/ignition/specs.ts, cloud-config-schema.ts).
 * Run after changing either: `npx tsx test/ignition/write-schemas.ts`; schemas.test.ts fails until you do.
 */
import {writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {cloudConfigSchema, ignitionSchema, SPEC_VERSIONS} from '../../src/ignition/index.js'

export const schemasDir = fileURLToPath(new URL('../../schemas/', import.meta.url))

export function expectedSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {'cloud-config.schema.json': `${JSON.stringify(cloudConfigSchema(), null, 2)}\n`}
  for (const v of SPEC_VERSIONS) files[`ignition-${v}.schema.json`] = `${JSON.stringify(ignitionSchema(v), null, 2)}\n`
  return files
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, text] of Object.entries(expectedSchemaFiles())) writeFileSync(schemasDir + name, text)
}
