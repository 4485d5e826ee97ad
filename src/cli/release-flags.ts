import {Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'
import {KeelError} from '../core/errors.js'
import {type SigningKey, loadSigningKey} from '../release/sign.js'
import {CHANNEL_NAMES} from '../release/version.js'

/** Flags shared by the release commands. */
export const signKeyFlag = Flags.string({description: 'armored OpenPGP private key that signs the tree (or $KEEL_SIGN_KEY; passphrase in $KEEL_SIGN_PASSPHRASE)', helpValue: 'FILE', env: 'KEEL_SIGN_KEY'})
export const archFlag = Flags.string({description: 'architecture (Debian name)', default: 'amd64'})
export const waitFlag = Flags.integer({description: 'seconds to wait for another publish holding the tree lock', default: 600, min: 0})
export const channelFlag = (description: string, required = true) => Flags.string({description, options: CHANNEL_NAMES, required})

export async function signingKeyFrom(path: string | undefined): Promise<SigningKey> {
  if (!path) throw new KeelError('a signing key is needed: --sign-key FILE or $KEEL_SIGN_KEY', 'usage', 'make one with: keel release keygen -o DIR')
  const armored = await readFile(path, 'utf8').catch(() => {
    throw new KeelError(`cannot read signing key ${path}`, 'input')
  })
  return loadSigningKey(armored, `signing key ${path}`, process.env.KEEL_SIGN_PASSPHRASE)
}
