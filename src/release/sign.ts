import {open} from 'node:fs/promises'
import {ReadableStream} from 'node:stream/web'
import * as openpgp from 'openpgp'
import {KeelError} from '../core/errors.js'
import type {SigningIdentity} from './plan.js'

/**
 * OpenPGP through openpgp.js: detached binary signatures that `gpg --verify` accepts. Artifacts are hundreds of
 * MiB, so data is streamed: openpgp.sign({detached}) would buffer the whole input, hence the object-format
 * call below with the message drained alongside.
 */

export interface SigningKey extends SigningIdentity {
  key: openpgp.PrivateKey
}

const CHUNK = 1 << 20

/** A pull-based web stream over a file (Readable.toWeb does not wait for the reader in Node 20). */
export function fileWebStream(path: string): ReadableStream<Uint8Array> {
  let fh: Awaited<ReturnType<typeof open>> | undefined
  return new ReadableStream<Uint8Array>(
    {
      async start() {
        fh = await open(path, 'r')
      },
      async pull(controller) {
        const buf = Buffer.allocUnsafe(CHUNK)
        const {bytesRead} = await fh!.read(buf, 0, CHUNK, null)
        if (bytesRead === 0) {
          await fh!.close()
          controller.close()
          return
        }
        controller.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, bytesRead))
      },
      async cancel() {
        await fh?.close()
      },
    },
    {highWaterMark: 0},
  )
}

type AnyStream<T> = T | ReadableStream<T> | globalThis.ReadableStream<T>

async function collect(data: AnyStream<Uint8Array>): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data
  const reader = (data as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  for (;;) {
    const {done, value} = await reader.read()
    if (done) return Buffer.concat(chunks)
    chunks.push(value)
  }
}

async function drain(data: unknown): Promise<void> {
  if (!data || data instanceof Uint8Array || typeof data === 'string') return
  const reader = (data as ReadableStream<unknown>).getReader()
  for (;;) if ((await reader.read()).done) return
}

/** Read an armored private key and check it can sign now: not a public key, not expired, not revoked. */
export async function loadSigningKey(armored: string, what: string, passphrase?: string): Promise<SigningKey> {
  let key: openpgp.PrivateKey
  try {
    key = await openpgp.readPrivateKey({armoredKey: armored})
  } catch (err) {
    const isPublic = await openpgp.readKey({armoredKey: armored}).then(() => true, () => false)
    if (isPublic) throw new KeelError(`${what} is a public key; signing needs the private key`, 'input', 'make one with: keel release keygen')
    throw new KeelError(`${what} is not an OpenPGP private key: ${(err as Error).message}`, 'input')
  }
  const fingerprint = key.getFingerprint().toUpperCase()
  if (!key.isDecrypted()) {
    if (!passphrase) throw new KeelError(`${what} (${fingerprint}) is protected by a passphrase`, 'input', 'set KEEL_SIGN_PASSPHRASE')
    try {
      key = await openpgp.decryptKey({privateKey: key, passphrase})
    } catch {
      throw new KeelError(`the passphrase does not unlock ${what} (${fingerprint})`, 'input')
    }
  }
  await checkKeyUsable(key, what)
  return {key, fingerprint, publicKeyArmored: key.toPublic().armor()}
}

async function checkKeyUsable(key: openpgp.Key, what: string): Promise<void> {
  const fingerprint = key.getFingerprint().toUpperCase()
  if (await key.isRevoked()) throw new KeelError(`${what} (${fingerprint}) is revoked`, 'input')
  const expires = await key.getExpirationTime()
  if (expires instanceof Date && expires.getTime() <= Date.now()) {
    throw new KeelError(`${what} (${fingerprint}) expired on ${expires.toISOString()}`, 'input', 'extend its expiry, or make a new key with keel release keygen')
  }
  try {
    await key.getSigningKey()
  } catch (err) {
    throw new KeelError(`${what} (${fingerprint}) has no usable signing key: ${(err as Error).message}`, 'input')
  }
}

/** Read an armored public key (or take the public half of a private one) for verification. */
export async function loadVerificationKey(armored: string, what: string): Promise<openpgp.Key> {
  try {
    const key = await openpgp.readKey({armoredKey: armored})
    return key.isPrivate() ? key.toPublic() : key
  } catch (err) {
    throw new KeelError(`${what} is not an OpenPGP key: ${(err as Error).message}`, 'input')
  }
}

export async function generateSigningKey(opts: {name: string; email: string; expiresInSeconds?: number; date?: Date}): Promise<{privateKey: string; publicKey: string; fingerprint: string}> {
  const {privateKey, publicKey} = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{name: opts.name, email: opts.email}],
    keyExpirationTime: opts.expiresInSeconds ?? 0,
    format: 'armored',
    ...(opts.date ? {date: opts.date} : {}),
  })
  const key = await openpgp.readKey({armoredKey: publicKey})
  return {privateKey, publicKey, fingerprint: key.getFingerprint().toUpperCase()}
}

/** A detached binary signature over a file, streamed. */
export async function signFile(key: SigningKey, path: string): Promise<Uint8Array> {
  const message = await openpgp.createMessage({binary: fileWebStream(path) as never})
  const signature = await openpgp.sign({message, signingKeys: key.key, detached: true, format: 'object'})
  const [, bytes] = await Promise.all([drain(message.packets.write()), collect(signature.write() as AnyStream<Uint8Array>)])
  return bytes
}

export async function signFileTo(key: SigningKey, path: string, signaturePath: string): Promise<void> {
  const fh = await open(signaturePath, 'w', 0o644)
  try {
    await fh.writeFile(await signFile(key, path))
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Verify a detached signature over a stream of data; returns the signer's key id, or throws integrity. */
export async function verifyDetached(data: AnyStream<Uint8Array>, signatureBytes: Uint8Array, key: openpgp.Key, what: string): Promise<string> {
  let signature: openpgp.Signature
  try {
    signature = await openpgp.readSignature({binarySignature: signatureBytes})
  } catch (err) {
    throw new KeelError(`${what}: the signature is not OpenPGP data: ${(err as Error).message}`, 'integrity')
  }
  const message = await openpgp.createMessage({binary: data as never})
  const result = await openpgp.verify({message, signature, verificationKeys: key, format: 'binary'})
  await drain(result.data)
  const [first] = result.signatures
  if (!first) throw new KeelError(`${what}: no signature`, 'integrity')
  try {
    await first.verified
  } catch (err) {
    throw new KeelError(`${what}: bad signature (${(err as Error).message.replace(/^Error verifying signature: /, '')})`, 'integrity')
  }
  return first.keyID.toHex().toUpperCase()
}
