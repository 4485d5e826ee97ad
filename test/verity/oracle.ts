import {writeFile} from 'node:fs/promises'
import {run} from '../../src/exec/run.js'
import {pseudoRandomBytes} from '../helpers/bytes.js'

export {pseudoRandomBytes}

export async function writePseudoRandomFile(path: string, size: number, seed = 'keel'): Promise<void> {
  await writeFile(path, pseudoRandomBytes(size, seed))
}

/** veritysetup's flags for the same options keel takes. */
export interface OracleFlags {
  salt?: string
  uuid?: string
  dataBlockSize?: number
  hashBlockSize?: number
  hashOffset?: number
  dataBlocks?: number
  noSuperblock?: boolean
}

export function veritysetupFlags(f: OracleFlags): string[] {
  const args: string[] = []
  if (f.salt !== undefined) args.push(`--salt=${f.salt}`)
  if (f.uuid !== undefined) args.push(`--uuid=${f.uuid}`)
  if (f.dataBlockSize !== undefined) args.push(`--data-block-size=${f.dataBlockSize}`)
  if (f.hashBlockSize !== undefined) args.push(`--hash-block-size=${f.hashBlockSize}`)
  if (f.hashOffset !== undefined) args.push(`--hash-offset=${f.hashOffset}`)
  if (f.dataBlocks !== undefined) args.push(`--data-blocks=${f.dataBlocks}`)
  if (f.noSuperblock) args.push('--no-superblock')
  return args
}

/** `veritysetup format`, returning the root hash it printed. */
export async function veritysetupFormat(data: string, hash: string, f: OracleFlags): Promise<string> {
  const r = await run('veritysetup', ['format', data, hash, ...veritysetupFlags(f)])
  const m = /^Root hash:\s+([0-9a-f]{64})$/m.exec(r.stdout)
  if (!m) throw new Error(`no root hash in veritysetup output:\n${r.stdout}`)
  return m[1]!
}

/** `veritysetup verify`: true when it accepts the tree, false when it reports a mismatch (exit 2, -EPERM). */
export async function veritysetupVerify(data: string, hash: string, rootHash: string, f: OracleFlags = {}): Promise<boolean> {
  const r = await run('veritysetup', ['verify', data, hash, rootHash, ...veritysetupFlags(f)], {okExitCodes: [2]})
  if (r.exitCode === 2 && !/Verification (failed|of (data area|root hash) failed)/.test(r.stderr)) {
    throw new Error(`veritysetup verify exited 2 without reporting a mismatch:\n${r.stderr}`)
  }
  return r.exitCode === 0
}
