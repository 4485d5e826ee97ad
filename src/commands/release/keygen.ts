import {Flags} from '@oclif/core'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {KeelCommand} from '../../cli/base-command.js'
import {KeelError} from '../../core/errors.js'
import {generateSigningKey} from '../../release/sign.js'

interface KeygenResult {
  fingerprint: string
  privateKey: string
  publicKey: string
}

export default class ReleaseKeygen extends KeelCommand<KeygenResult> {
  static override description = `Make an OpenPGP signing key (Ed25519) for release trees, for tests and CI

Writes DIR/release-key.asc (private, mode 0600, no passphrase: keep it in your CI secret store) and DIR/release-key.pub.asc (ship it in images and give it to keel release verify --key).`
  static override examples = ['<%= config.bin %> release keygen -o keys --name "Example releases" --email releases@example.org']
  static override flags = {
    output: Flags.string({char: 'o', description: 'directory for the two key files', helpValue: 'DIR', required: true}),
    name: Flags.string({description: 'user ID name', default: 'keel release signing'}),
    email: Flags.string({description: 'user ID email', default: 'release@keel.invalid'}),
    'expires-in-days': Flags.integer({description: 'key expiry in days (0: never)', default: 0, min: 0}),
  }

  protected async execute(): Promise<KeygenResult> {
    const {flags} = await this.parse(ReleaseKeygen)
    const key = await generateSigningKey({name: flags.name, email: flags.email, expiresInSeconds: flags['expires-in-days'] * 86400})
    await mkdir(flags.output, {recursive: true})
    const privateKey = join(flags.output, 'release-key.asc')
    const publicKey = join(flags.output, 'release-key.pub.asc')
    await writeFile(privateKey, key.privateKey, {mode: 0o600, flag: 'wx'}).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new KeelError(`${privateKey} exists; refusing to overwrite a key`, 'usage')
      throw err
    })
    await writeFile(publicKey, key.publicKey, {mode: 0o644})
    return {fingerprint: key.fingerprint, privateKey, publicKey}
  }

  protected renderText(r: KeygenResult): string {
    return `key ${r.fingerprint}\n  private: ${r.privateKey}\n  public:  ${r.publicKey}`
  }
}
