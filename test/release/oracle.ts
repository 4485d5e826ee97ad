import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {run} from '../../src/exec/run.js'

/** gpg in a private GNUPGHOME, trusting exactly one public key: the oracle for every signature keel writes. */
export class GpgOracle {
  readonly home = mkdtempSync(join(tmpdir(), 'keel-gnupg-'))

  static async withKey(publicKeyArmored: string): Promise<GpgOracle> {
    const gpg = new GpgOracle()
    const file = join(gpg.home, 'key.asc')
    writeFileSync(file, publicKeyArmored)
    await run('gpg', ['--batch', '--quiet', '--import', file], {env: {GNUPGHOME: gpg.home}})
    return gpg
  }

  /** `gpg --verify SIG FILE`; resolves to the fingerprint of a valid signature, or undefined when gpg rejects it. */
  async verify(signature: string, file: string): Promise<string | undefined> {
    const r = await run('gpg', ['--batch', '--status-fd', '1', '--verify', signature, file], {env: {GNUPGHOME: this.home}, okExitCodes: [1, 2]})
    if (r.exitCode !== 0) return undefined
    return /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40}) /m.exec(r.stdout)?.[1]
  }
}

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}
