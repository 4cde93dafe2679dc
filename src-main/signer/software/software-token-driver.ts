import {
  constants, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPair, privateEncrypt, randomBytes, scrypt,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SecurityServerError, clientError, hashOf, writeFileAtomic } from '../../platform'
import { checkSignRequest, digestOf, ecdsaP256SignDigest, emsaPssEncode, wrapDigestInfo } from '../sign-algorithms'
import type { KeyAlgorithm, SignAlgorithm, TokenDriver, TokenKey, TokenStatus } from '../token-driver'

/**
 * The software token (X-Road's softtoken, UG-SS §8): keys as PKCS#8 DER, each encrypted at rest with AES-256-GCM under
 * a key derived from the PIN with scrypt (RFC 7914), all in one file rewritten atomically, so a PIN change
 * re-encrypts every key in one step. Wrong PINs are counted in the file and lock the token after `maxPinAttempts`.
 */

const generateKeyPairAsync = promisify(generateKeyPair) as (
  type: 'rsa' | 'ec',
  options: { modulusLength?: number; namedCurve?: string },
) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>

/** X-Road `enforce-token-pin-policy`: ≥ 10 ASCII characters from ≥ 3 classes (reliability-and-security.md §4.2). */
export interface PinPolicy {
  readonly minLength: number
  readonly minCharacterClasses: number
}

export const XROAD_PIN_POLICY: PinPolicy = { minLength: 10, minCharacterClasses: 3 }
const DEFAULT_PIN_POLICY: PinPolicy = { minLength: 4, minCharacterClasses: 1 }
const VERIFIER_PLAINTEXT = Buffer.from('gatehouse-software-token-v1')

interface ScryptParams {
  salt: string
  N: number
  r: number
  p: number
}

interface Sealed {
  iv: string
  tag: string
  data: string
}

interface StoredKey {
  keyId: string
  label: string
  algorithm: KeyAlgorithm
  publicKeyDer: string
  privateKey: Sealed
}

interface TokenFile {
  version: 1
  label: string
  serialNumber: string
  kdf: ScryptParams
  verifier: Sealed
  failedPinAttempts: number
  pinPolicy: PinPolicy
  keys: StoredKey[]
}

export interface SoftwareTokenOptions {
  /** Folder holding `token.json` (the signer uses DATA_DIR/tokens/software-ID). */
  readonly dir: string
  /** Wrong PINs in a row before the token locks; default 5. */
  readonly maxPinAttempts?: number
}

function scryptKey(pin: string, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin, Buffer.from(params.salt, 'base64'), 32, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r * params.p },
      (error, key) => (error ? reject(error) : resolve(key)))
  })
}

function seal(key: Buffer, plaintext: Uint8Array, aad: string): Sealed {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(aad))
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') }
}

/** AES-GCM open; `undefined` when the tag does not verify (wrong key or tampered file). */
function open(key: Buffer, sealed: Sealed, aad: string): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'))
    decipher.setAAD(Buffer.from(aad))
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()])
  } catch {
    return undefined
  }
}

/** Checks a PIN against the policy; `token_pin_policy_failure` says what is missing. */
export function checkPinPolicy(pin: string, policy: PinPolicy): void {
  // reliability-and-security.md §4.2: ASCII only, length, character classes.
  if (!/^[\x20-\x7e]*$/.test(pin)) throw clientError('token_pin_policy_failure', 'The PIN may contain printable ASCII characters only')
  if (pin.length < policy.minLength) throw clientError('token_pin_policy_failure', `The PIN must have at least ${policy.minLength} characters`)
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(pin)).length
  if (classes < policy.minCharacterClasses) {
    throw clientError('token_pin_policy_failure', `The PIN must mix at least ${policy.minCharacterClasses} of: lower case, upper case, digits, other characters`)
  }
}

export class SoftwareTokenDriver implements TokenDriver {
  readonly kind = 'software' as const
  private readonly file: string
  private readonly maxPinAttempts: number
  private sessionKey: Buffer | undefined
  private readonly unlocked = new Map<string, { key: KeyObject; algorithm: KeyAlgorithm }>()

  constructor(private readonly options: SoftwareTokenOptions) {
    this.file = join(options.dir, 'token.json')
    this.maxPinAttempts = options.maxPinAttempts ?? 5
  }

  /** Creates the token (X-Road "initialize software token"); refuses to overwrite an existing one. */
  static async initialize(options: SoftwareTokenOptions & { pin: string; label?: string; pinPolicy?: PinPolicy }): Promise<SoftwareTokenDriver> {
    const driver = new SoftwareTokenDriver(options)
    if (existsSync(driver.file)) throw clientError('already_initialized', `A software token already exists in ${options.dir}`)
    const pinPolicy = options.pinPolicy ?? DEFAULT_PIN_POLICY
    checkPinPolicy(options.pin, pinPolicy)
    const kdf: ScryptParams = { salt: randomBytes(16).toString('base64'), N: 2 ** 15, r: 8, p: 1 }
    const key = await scryptKey(options.pin, kdf)
    driver.write({
      version: 1, label: options.label ?? 'softToken', serialNumber: randomBytes(8).toString('hex'), kdf,
      verifier: seal(key, VERIFIER_PLAINTEXT, 'verifier'), failedPinAttempts: 0, pinPolicy, keys: [],
    })
    return driver
  }

  /** The parsed token file, reused while the file is unchanged (a write is an atomic rename: a new inode). */
  private cached: { ino: number; mtimeMs: number; size: number; token: TokenFile } | undefined

  /** A private copy of the token file, for use cases that change it and write it back. */
  private read(): TokenFile {
    return structuredClone(this.readShared())
  }

  /** The cached token file for the hot read-only paths (status, key lookup on every signature); never mutate it. */
  private readShared(): TokenFile {
    let stat
    try {
      stat = statSync(this.file)
    } catch {
      this.cached = undefined
      throw new SecurityServerError('token_not_initialized', `No software token in ${this.options.dir}`)
    }
    const cached = this.cached
    if (cached !== undefined && cached.ino === stat.ino && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.token
    try {
      const token = JSON.parse(readFileSync(this.file, 'utf8')) as TokenFile
      this.cached = { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, token }
      return token
    } catch (cause) {
      throw new SecurityServerError('token_not_available', `Software token file ${this.file} is unreadable`, { cause })
    }
  }

  private write(token: TokenFile): void {
    writeFileAtomic(this.file, JSON.stringify(token, null, 1), 0o600)
  }

  async status(): Promise<TokenStatus> {
    if (!existsSync(this.file)) {
      return { kind: 'software', label: '', serialNumber: '', available: true, loggedIn: false, initialized: false, pinCountLow: false, pinFinalTry: false, pinLocked: false }
    }
    const token = this.readShared()
    const left = this.maxPinAttempts - token.failedPinAttempts
    return {
      kind: 'software', label: token.label, serialNumber: token.serialNumber, available: true,
      loggedIn: this.sessionKey !== undefined, initialized: true,
      pinCountLow: token.failedPinAttempts > 0 && left > 1, pinFinalTry: left === 1, pinLocked: left <= 0,
    }
  }

  /** Verifies the PIN and counts failures (persisted): returns the derived key. */
  private async unlock(pin: string): Promise<{ token: TokenFile; key: Buffer }> {
    const token = this.read()
    if (token.failedPinAttempts >= this.maxPinAttempts) {
      throw clientError('token_locked', `Software token ${token.label} is locked after ${token.failedPinAttempts} wrong PINs`)
    }
    const key = await scryptKey(pin, token.kdf)
    if (open(key, token.verifier, 'verifier') === undefined) {
      token.failedPinAttempts += 1
      this.write(token)
      const left = this.maxPinAttempts - token.failedPinAttempts
      if (left <= 0) throw clientError('token_locked', `Wrong PIN; software token ${token.label} is now locked`)
      throw clientError('pin_incorrect', `Wrong PIN for software token ${token.label} (${left} tries left)`)
    }
    if (token.failedPinAttempts !== 0) {
      token.failedPinAttempts = 0
      this.write(token)
    }
    return { token, key }
  }

  async login(pin: string): Promise<void> {
    const { key } = await this.unlock(pin)
    this.sessionKey = key
  }

  async logout(): Promise<void> {
    this.sessionKey?.fill(0)
    this.sessionKey = undefined
    this.unlocked.clear()
  }

  async changePin(oldPin: string, newPin: string): Promise<void> {
    const { token, key } = await this.unlock(oldPin)
    checkPinPolicy(newPin, token.pinPolicy)
    const kdf: ScryptParams = { ...token.kdf, salt: randomBytes(16).toString('base64') }
    const newKey = await scryptKey(newPin, kdf)
    const keys = token.keys.map((stored) => {
      const plain = open(key, stored.privateKey, stored.keyId)
      if (plain === undefined) throw new SecurityServerError('token_not_available', `Key ${stored.keyId} cannot be decrypted`)
      return { ...stored, privateKey: seal(newKey, plain, stored.keyId) }
    })
    this.write({ ...token, kdf, verifier: seal(newKey, VERIFIER_PLAINTEXT, 'verifier'), keys })
    if (this.sessionKey !== undefined) this.sessionKey = newKey
  }

  private requireLogin(): Buffer {
    if (this.sessionKey === undefined) throw clientError('token_not_active', 'The software token is not logged in')
    return this.sessionKey
  }

  async generateKey(algorithm: KeyAlgorithm, label: string): Promise<TokenKey> {
    const sessionKey = this.requireLogin()
    const pair = algorithm === 'ec-p256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : await generateKeyPairAsync('rsa', { modulusLength: Number(algorithm.slice(4)) })
    const keyId = randomBytes(20).toString('hex')
    const publicKeyDer = pair.publicKey.export({ type: 'spki', format: 'der' })
    const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' })
    const token = this.read()
    token.keys.push({ keyId, label, algorithm, publicKeyDer: publicKeyDer.toString('base64'), privateKey: seal(sessionKey, pkcs8, keyId) })
    this.write(token)
    pkcs8.fill(0)
    return { keyId, label, algorithm, publicKeyDer }
  }

  async importKey(pkcs8: Uint8Array, label: string, keyId: string): Promise<TokenKey> {
    const sessionKey = this.requireLogin()
    const { algorithm, publicKeyDer } = importedKeyFacts(pkcs8)
    const token = this.read()
    if (token.keys.some((k) => k.keyId === keyId)) throw clientError('conflict', `Key ${keyId} is on the software token already`)
    token.keys.push({ keyId, label, algorithm, publicKeyDer: publicKeyDer.toString('base64'), privateKey: seal(sessionKey, Buffer.from(pkcs8), keyId) })
    this.write(token)
    return { keyId, label, algorithm, publicKeyDer }
  }

  async listKeys(): Promise<TokenKey[]> {
    if (!existsSync(this.file)) return []
    return this.readShared().keys.map((k) => ({ keyId: k.keyId, label: k.label, algorithm: k.algorithm, publicKeyDer: Buffer.from(k.publicKeyDer, 'base64') }))
  }

  private privateKey(keyId: string): { key: KeyObject; algorithm: KeyAlgorithm } {
    const sessionKey = this.requireLogin()
    // A key unlocked in this session is used without reading the token file again (issue 15 §2: no file stat per
    // signature); logout and deleting the key drop it.
    const unlocked = this.unlocked.get(keyId)
    if (unlocked !== undefined) return unlocked
    const stored = this.readShared().keys.find((k) => k.keyId === keyId)
    if (stored === undefined) throw clientError('key_not_found', `Key ${keyId} is not on the software token`)
    const plain = open(sessionKey, stored.privateKey, keyId)
    if (plain === undefined) throw new SecurityServerError('token_not_available', `Key ${keyId} cannot be decrypted`)
    const key = createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' })
    plain.fill(0)
    const entry = { key, algorithm: stored.algorithm }
    this.unlocked.set(keyId, entry)
    return entry
  }

  async sign(keyId: string, algorithm: SignAlgorithm, digest: Uint8Array, data?: Uint8Array): Promise<Uint8Array> {
    const { key, algorithm: keyAlgorithm } = this.privateKey(keyId)
    checkSignRequest(keyAlgorithm, algorithm, digest)
    const hash = digestOf(algorithm)
    if (algorithm.startsWith('ecdsa-') && data !== undefined) {
      // OpenSSL's constant-time ECDSA over the data; only when the data really is what the digest says.
      if (!hashOf(hash, data).equals(digest)) {
        throw new SecurityServerError('cannot_sign', 'The data to sign does not match its digest')
      }
      return cryptoSign(hash, data, { key, dsaEncoding: 'ieee-p1363' })
    }
    if (algorithm.startsWith('rsa-pkcs1-')) {
      return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, wrapDigestInfo(hash, digest))
    }
    if (algorithm.startsWith('rsa-pss-')) {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? Number(keyAlgorithm.slice(4))
      return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, emsaPssEncode(hash, digest, bits))
    }
    const d = Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url')
    try {
      return ecdsaP256SignDigest(d, digest)
    } finally {
      d.fill(0)
    }
  }

  async deleteKey(keyId: string): Promise<void> {
    this.requireLogin()
    const token = this.read()
    const keys = token.keys.filter((k) => k.keyId !== keyId)
    if (keys.length === token.keys.length) throw clientError('key_not_found', `Key ${keyId} is not on the software token`)
    this.write({ ...token, keys })
    this.unlocked.delete(keyId)
  }

  /** PKCS#8 PEM of a key for Node TLS (authentication keys only; the caller checks the usage). */
  exportPrivateKeyForTls(keyId: string): KeyObject {
    return this.privateKey(keyId).key
  }

  async close(): Promise<void> {
    await this.logout()
  }
}

/** The key type and public key of a PKCS#8 private key; only the types the signer generates are accepted. */
export function importedKeyFacts(pkcs8: Uint8Array): { algorithm: KeyAlgorithm; publicKeyDer: Buffer; key: KeyObject } {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })
  } catch (cause) {
    throw clientError('invalid_request', 'The private key is not PKCS#8 DER', { cause })
  }
  const details = key.asymmetricKeyDetails
  let algorithm: KeyAlgorithm | undefined
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength === 2048 || details?.modulusLength === 3072 || details?.modulusLength === 4096)) {
    algorithm = `rsa-${details.modulusLength}` as KeyAlgorithm
  }
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') algorithm = 'ec-p256'
  if (algorithm === undefined) {
    throw clientError('unsupported', `Key type ${key.asymmetricKeyType ?? '?'} ${details?.modulusLength ?? details?.namedCurve ?? ''} is not one the signer uses (RSA 2048–4096, EC P-256)`)
  }
  return { algorithm, publicKeyDer: createPublicKey(key).export({ type: 'spki', format: 'der' }), key }
}

