import { createPublicKey } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import * as pkcs11js from 'pkcs11js'
import { SecurityServerError, clientError } from '../../platform'
import { checkSignRequest, digestOf, wrapDigestInfo } from '../sign-algorithms'
import { importedKeyFacts } from '../software/software-token-driver'
import type { KeyAlgorithm, KeyAttributes, SignAlgorithm, TokenDetails, TokenDriver, TokenKey, TokenStatus } from '../token-driver'
import { fromPkcs11Error, isPkcs11Error, isSessionLost } from './pkcs11-errors'
import { acquireModule, moduleGeneration, reinitializeModule, releaseModule, type Pkcs11Library } from './pkcs11-module'

/**
 * A token on a PKCS#11 module (X-Road's HardwareTokenWorker): found by label or serial because slot ids are not
 * stable, one session per token with every call serialized (reliability-and-security.md §4.1), `*Async` calls for
 * signing and key generation so a slow device never blocks the event loop. On a lost device or session the token
 * turns unavailable, handles are dropped, and the next calls re-open and re-login with the PIN that last worked —
 * never with a PIN that failed and never when the token reports a low or final PIN try (§4.2).
 */

export interface Pkcs11TokenOptions {
  readonly modulePath: string
  readonly tokenLabel?: string
  readonly tokenSerial?: string
  /** How long a request waits for a lost token to come back before failing with `token_not_available`. */
  readonly recoveryTimeoutMs?: number
  /** Pause between attempts to re-open a lost token. */
  readonly recoveryPollMs?: number
  /** Wraps the loaded module (tests inject faults at this seam). */
  readonly wrapLibrary?: (library: Pkcs11Library) => Pkcs11Library
}

/** `CKA_EC_PARAMS` for P-256: the OID 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1). */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex')
/** SubjectPublicKeyInfo prefix of an uncompressed P-256 point (toolchain-notes.md §6). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex')

const PSS_PARAMS: Record<string, { hashAlg: number; mgf: number; saltLen: number }> = {
  sha256: { hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 },
  sha384: { hashAlg: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384, saltLen: 48 },
  sha512: { hashAlg: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512, saltLen: 64 },
}

/** Attributes the private key must have after generation (reliability-and-security.md §4.3). */
const REQUIRED_PRIVATE_ATTRIBUTES: Array<[number, string, boolean]> = [
  [pkcs11js.CKA_TOKEN, 'CKA_TOKEN', true],
  [pkcs11js.CKA_PRIVATE, 'CKA_PRIVATE', true],
  [pkcs11js.CKA_SENSITIVE, 'CKA_SENSITIVE', true],
  [pkcs11js.CKA_EXTRACTABLE, 'CKA_EXTRACTABLE', false],
  [pkcs11js.CKA_SIGN, 'CKA_SIGN', true],
  [pkcs11js.CKA_DECRYPT, 'CKA_DECRYPT', false],
  [pkcs11js.CKA_ALWAYS_SENSITIVE, 'CKA_ALWAYS_SENSITIVE', true],
  [pkcs11js.CKA_NEVER_EXTRACTABLE, 'CKA_NEVER_EXTRACTABLE', true],
  [pkcs11js.CKA_LOCAL, 'CKA_LOCAL', true],
]

/** Names of the standard mechanisms, by value (the first name pkcs11js gives a value). */
const MECHANISM_NAMES: ReadonlyMap<number, string> = (() => {
  const names = new Map<number, string>()
  // Under ESM interop the constants may sit on the CommonJS module object (`default`) rather than the namespace.
  const exported = { ...((pkcs11js as unknown as { default?: object }).default ?? {}), ...pkcs11js }
  for (const [name, value] of Object.entries(exported)) {
    if (name.startsWith('CKM_') && typeof value === 'number' && !names.has(value)) names.set(value, name)
  }
  // PKCS#11 v2.11 renamed CKM_ECDSA_KEY_PAIR_GEN to CKM_EC_KEY_PAIR_GEN (same value); report the current name.
  names.set(pkcs11js.CKM_EC_KEY_PAIR_GEN, 'CKM_EC_KEY_PAIR_GEN')
  return names
})()

const version = (v: { major: number; minor: number } | undefined): string => (v === undefined ? '' : `${v.major}.${v.minor}`)

/**
 * Return values that may mean the module itself is gone rather than a fault of the call: after one of them the
 * session is probed, and a session that no longer answers counts as lost.
 */
const MAYBE_MODULE_LOST = [
  pkcs11js.CKR_GENERAL_ERROR, pkcs11js.CKR_FUNCTION_FAILED, pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11js.CKR_OBJECT_HANDLE_INVALID, pkcs11js.CKR_KEY_HANDLE_INVALID,
]

const PIN_WARNING_FLAGS = pkcs11js.CKF_USER_PIN_COUNT_LOW | pkcs11js.CKF_USER_PIN_FINAL_TRY | pkcs11js.CKF_USER_PIN_LOCKED

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())
const trim = (s: string): string => s.replace(/[\s\0]+$/, '')

/**
 * reliability-and-security.md §4.3: what every private key this driver makes or imports is, set explicitly, never left
 * to the device's defaults — private, sensitive, never extractable, for signing only.
 */
const PROTECTED_PRIVATE_KEY = [
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_SIGN, value: true },
  { type: pkcs11js.CKA_DECRYPT, value: false },
  { type: pkcs11js.CKA_UNWRAP, value: false },
  { type: pkcs11js.CKA_DERIVE, value: false },
]

export class Pkcs11TokenDriver implements TokenDriver {
  readonly kind = 'pkcs11' as const
  private readonly library: Pkcs11Library
  private slot: Buffer | undefined
  private session: Buffer | undefined
  /** The module generation the session was opened in (see `moduleGeneration`). */
  private sessionGeneration = 0
  private readonly keyHandles = new Map<string, Buffer>()
  /** The PIN of the last successful login, kept in memory only for re-login after recovery. */
  private pin: string | undefined
  private wantLoggedIn = false
  private unavailableReason: string | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly recoveryTimeoutMs: number
  private readonly recoveryPollMs: number

  constructor(private readonly options: Pkcs11TokenOptions) {
    if (options.tokenLabel === undefined && options.tokenSerial === undefined) {
      throw clientError('invalid_config', 'A PKCS#11 token is found by label or serial number; give one')
    }
    const library = acquireModule(options.modulePath)
    this.library = options.wrapLibrary ? options.wrapLibrary(library) : library
    this.recoveryTimeoutMs = options.recoveryTimeoutMs ?? 10_000
    this.recoveryPollMs = options.recoveryPollMs ?? 200
  }

  private get name(): string {
    return this.options.tokenLabel ?? `serial ${this.options.tokenSerial}`
  }

  /** Runs `work` alone on the token's session (one operation at a time per session, PKCS#11 v3 §5.6). */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work)
    this.queue = run.catch(() => undefined)
    return run
  }

  /**
   * Runs an operation on a live session. When the device or session is lost, the token becomes unavailable and —
   * for idempotent operations — the call waits for it to come back (bounded by `recoveryTimeoutMs` from when it
   * was requested), so no signature request is lost to a transient removal.
   */
  private withSession<T>(what: string, retry: boolean, work: (session: Buffer) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.recoveryTimeoutMs
    return this.serialized(async () => {
      for (;;) {
        if (this.closed) throw new SecurityServerError('token_not_available', `Token ${this.name} is closed`)
        try {
          return await work(this.openSession())
        } catch (error) {
          const lost = isSessionLost(error) || (error instanceof SecurityServerError && error.code === 'token_not_available') ||
            (isPkcs11Error(error, ...MAYBE_MODULE_LOST) && !this.deviceAnswers())
          if (!lost) throw fromPkcs11Error(error, `${what} on token ${this.name}`)
          this.dropSession(error)
          if (!retry || Date.now() + this.recoveryPollMs > deadline) {
            if (error instanceof SecurityServerError) throw error
            const cause = fromPkcs11Error(error, `${what} on token ${this.name}`)
            throw new SecurityServerError('token_not_available', `${cause.message} (token unavailable)`, { cause: error })
          }
          await sleep(this.recoveryPollMs)
        }
      }
    })
  }

  private dropSession(error: unknown): void {
    this.unavailableReason = error instanceof Error ? error.message : String(error)
    const session = this.session
    this.session = undefined
    this.slot = undefined
    this.keyHandles.clear()
    if (session !== undefined) {
      try {
        this.library.C_CloseSession(session)
      } catch {
        // The session is already gone with the device; nothing to close.
      }
    }
  }

  /**
   * Whether the session and its token still answer (C_GetSessionInfo, C_GetTokenInfo): a device gone takes its
   * sessions with it, though some modules (SoftHSM2) keep answering for the session and fail only for the token.
   */
  private deviceAnswers(): boolean {
    if (this.session === undefined || this.slot === undefined) return false
    try {
      this.library.C_GetSessionInfo(this.session)
      this.library.C_GetTokenInfo(this.slot)
      return true
    } catch {
      return false
    }
  }

  /**
   * The token's slot. A module that cannot even list its slots or describe their tokens was left unusable by a lost
   * device: it is initialized again (every token on it loses its sessions) and asked once more.
   */
  private findSlot(): Buffer {
    try {
      return this.scanSlots()
    } catch (error) {
      if (!isPkcs11Error(error, ...MAYBE_MODULE_LOST)) throw error
      reinitializeModule(this.options.modulePath, this.library)
      try {
        return this.scanSlots()
      } catch (again) {
        if (!isPkcs11Error(again)) throw again
        throw new SecurityServerError('token_not_available', `Token ${this.name} cannot be reached on ${this.options.modulePath}: ${again.message}`, { cause: again })
      }
    }
  }

  private scanSlots(): Buffer {
    for (const slot of this.library.C_GetSlotList(true)) {
      const info = this.library.C_GetTokenInfo(slot)
      if (this.options.tokenLabel !== undefined && trim(info.label) === this.options.tokenLabel) return slot
      if (this.options.tokenSerial !== undefined && trim(info.serialNumber) === this.options.tokenSerial) return slot
    }
    throw new SecurityServerError('token_not_available', `Token ${this.name} is not present on ${this.options.modulePath}`)
  }

  /** The session, opened (and logged in again if the user had logged in) when there is none. */
  private openSession(): Buffer {
    if (this.session !== undefined && this.sessionGeneration === moduleGeneration(this.options.modulePath)) return this.session
    if (this.session !== undefined) {
      // The module was initialized again (for another token on it, or a request of this one): the session is gone.
      this.session = undefined
      this.slot = undefined
      this.keyHandles.clear()
    }
    const slot = this.findSlot()
    const generation = moduleGeneration(this.options.modulePath)
    const session = this.library.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION)
    this.slot = slot
    this.session = session
    this.sessionGeneration = generation
    if (this.wantLoggedIn && this.pin !== undefined) {
      const flags = this.library.C_GetTokenInfo(slot).flags
      if ((flags & PIN_WARNING_FLAGS) !== 0) {
        // reliability-and-security.md §4.2: never log in automatically when the token warns about PIN tries.
        this.pin = undefined
        this.wantLoggedIn = false
        throw clientError('login_failed', `Token ${this.name} reports a low, final or locked PIN count; log in manually`)
      }
      this.loginSession(session, this.pin)
    }
    this.unavailableReason = undefined
    return session
  }

  private loginSession(session: Buffer, pin: string): void {
    try {
      this.library.C_Login(session, pkcs11js.CKU_USER, pin)
    } catch (error) {
      // reliability-and-security.md §4.1: CKR_USER_ALREADY_LOGGED_IN is success (login state is per application).
      if (isPkcs11Error(error, pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) return
      if (!isSessionLost(error)) {
        this.pin = undefined
        this.wantLoggedIn = false
      }
      throw error
    }
  }

  async status(): Promise<TokenStatus> {
    return this.serialized(async () => {
      let info: pkcs11js.TokenInfo
      try {
        info = this.library.C_GetTokenInfo(this.slot ?? this.findSlot())
      } catch {
        // The slot may be gone with a device that is back now under a new slot: look it up again (which also
        // initializes an unusable module again) before calling the token unavailable.
        try {
          info = this.library.C_GetTokenInfo(this.findSlot())
        } catch {
          return {
            kind: 'pkcs11', label: this.options.tokenLabel ?? '', serialNumber: this.options.tokenSerial ?? '', available: false,
            loggedIn: false, initialized: false, pinCountLow: false, pinFinalTry: false, pinLocked: false,
          }
        }
      }
      const flags = info.flags
      return {
        kind: 'pkcs11', label: trim(info.label), serialNumber: trim(info.serialNumber),
        available: this.unavailableReason === undefined,
        loggedIn: this.wantLoggedIn && this.session !== undefined,
        initialized: (flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0,
        pinCountLow: (flags & pkcs11js.CKF_USER_PIN_COUNT_LOW) !== 0,
        pinFinalTry: (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) !== 0,
        pinLocked: (flags & pkcs11js.CKF_USER_PIN_LOCKED) !== 0,
        manufacturer: trim(info.manufacturerID), model: trim(info.model), flags,
      }
    })
  }

  async login(pin: string): Promise<void> {
    await this.withSession('C_Login', false, async (session) => {
      if (this.wantLoggedIn) {
        // Log out first so the PIN is really checked: C_Login on a logged-in token answers CKR_USER_ALREADY_LOGGED_IN
        // whatever the PIN, and a wrong PIN must never become the one used for re-login (reliability-and-security.md §4.2).
        this.wantLoggedIn = false
        this.pin = undefined
        try {
          this.library.C_Logout(session)
        } catch (error) {
          if (!isPkcs11Error(error, pkcs11js.CKR_USER_NOT_LOGGED_IN)) throw error
        }
      }
      this.loginSession(session, pin)
      this.keyHandles.clear()
      this.pin = pin
      this.wantLoggedIn = true
    })
  }

  async logout(): Promise<void> {
    this.pin = undefined
    this.wantLoggedIn = false
    this.keyHandles.clear()
    await this.withSession('C_Logout', false, async (session) => {
      try {
        this.library.C_Logout(session)
      } catch (error) {
        if (!isPkcs11Error(error, pkcs11js.CKR_USER_NOT_LOGGED_IN)) throw error
      }
    })
  }

  async changePin(oldPin: string, newPin: string): Promise<void> {
    await this.withSession('C_SetPIN', false, async (session) => {
      this.library.C_SetPIN(session, oldPin, newPin)
      if (this.pin !== undefined) this.pin = newPin
    })
  }

  private readBool(session: Buffer, handle: Buffer, type: number): boolean {
    const [attr] = this.library.C_GetAttributeValue(session, handle, [{ type }])
    const value = attr?.value
    return Buffer.isBuffer(value) ? value[0] === 1 : Boolean(value)
  }

  private publicKeyDer(session: Buffer, publicHandle: Buffer, algorithm: KeyAlgorithm): Buffer {
    if (algorithm === 'ec-p256') {
      const [point] = this.library.C_GetAttributeValue(session, publicHandle, [{ type: pkcs11js.CKA_EC_POINT }])
      const der = point?.value as Buffer
      // CKA_EC_POINT is a DER OCTET STRING `04 41 04‖X‖Y` (toolchain-notes.md §6).
      const raw = der[0] === 0x04 && der[1] === 0x41 ? der.subarray(2) : der
      return Buffer.concat([P256_SPKI_PREFIX, raw])
    }
    const [modulus, exponent] = this.library.C_GetAttributeValue(session, publicHandle, [
      { type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT },
    ])
    return createPublicKey({
      key: { kty: 'RSA', n: (modulus?.value as Buffer).toString('base64url'), e: (exponent?.value as Buffer).toString('base64url') },
      format: 'jwk',
    }).export({ type: 'spki', format: 'der' })
  }

  async generateKey(algorithm: KeyAlgorithm, label: string): Promise<TokenKey> {
    return this.withSession('C_GenerateKeyPair', false, async (session) => {
      const id = randomBytes(20)
      const common = [{ type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_ID, value: id }, { type: pkcs11js.CKA_LABEL, value: label }]
      const ec = algorithm === 'ec-p256'
      const publicTemplate = [
        ...common,
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        ...(ec
          ? [{ type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }]
          : [{ type: pkcs11js.CKA_MODULUS_BITS, value: Number(algorithm.slice(4)) }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) }]),
      ]
      // reliability-and-security.md §4.3: set every attribute explicitly, never rely on the device's defaults.
      const privateTemplate = [
        ...common,
        ...PROTECTED_PRIVATE_KEY,
      ]
      const mechanism = { mechanism: ec ? pkcs11js.CKM_EC_KEY_PAIR_GEN : pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN }
      const pair = await this.library.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate)
      // §4.3: read the attributes back and refuse a key the device did not make as asked.
      const wrong = REQUIRED_PRIVATE_ATTRIBUTES.filter(([type, , expected]) => this.readBool(session, pair.privateKey, type) !== expected)
      if (wrong.length > 0) {
        this.library.C_DestroyObject(session, pair.privateKey)
        this.library.C_DestroyObject(session, pair.publicKey)
        throw new SecurityServerError('failed_to_generate_private_key',
          `Token ${this.name} did not honour ${wrong.map(([, name, v]) => `${name}=${v}`).join(', ')}; the key was deleted`)
      }
      const keyId = id.toString('hex')
      this.keyHandles.set(keyId, pair.privateKey)
      return { keyId, label, algorithm, publicKeyDer: this.publicKeyDer(session, pair.publicKey, algorithm) }
    })
  }

  async importKey(pkcs8: Uint8Array, label: string, keyId: string): Promise<TokenKey> {
    const { algorithm, publicKeyDer, key } = importedKeyFacts(pkcs8)
    const jwk = key.export({ format: 'jwk' })
    const b = (v: string | undefined): Buffer => Buffer.from(v ?? '', 'base64url')
    return this.withSession('C_CreateObject', false, async (session) => {
      const id = Buffer.from(keyId, 'hex')
      if (id.length === 0 || id.toString('hex') !== keyId.toLowerCase()) throw clientError('invalid_request', `Key id ${keyId.slice(0, 60)} is not hex`)
      if (this.findObjects(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_ID, value: id }]).length > 0) {
        throw clientError('conflict', `Key ${keyId} is on token ${this.name} already`)
      }
      const common = [{ type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_ID, value: id }, { type: pkcs11js.CKA_LABEL, value: label }]
      const ec = algorithm === 'ec-p256'
      const rawPoint = ec ? publicKeyDer.subarray(P256_SPKI_PREFIX.length) : undefined
      const publicTemplate = [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: ec ? pkcs11js.CKK_EC : pkcs11js.CKK_RSA },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        ...(ec
          ? [{ type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }, { type: pkcs11js.CKA_EC_POINT, value: Buffer.concat([Buffer.from([0x04, 0x41]), rawPoint as Buffer]) }]
          : [{ type: pkcs11js.CKA_MODULUS, value: b(jwk.n) }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b(jwk.e) }]),
      ]
      // reliability-and-security.md §4.3: every attribute explicit; the key cannot be read out again.
      const privateTemplate = [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: ec ? pkcs11js.CKK_EC : pkcs11js.CKK_RSA },
        ...PROTECTED_PRIVATE_KEY,
        ...(ec
          ? [{ type: pkcs11js.CKA_EC_PARAMS, value: P256_PARAMS }, { type: pkcs11js.CKA_VALUE, value: b(jwk.d) }]
          : [
            { type: pkcs11js.CKA_MODULUS, value: b(jwk.n) }, { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b(jwk.e) },
            { type: pkcs11js.CKA_PRIVATE_EXPONENT, value: b(jwk.d) }, { type: pkcs11js.CKA_PRIME_1, value: b(jwk.p) },
            { type: pkcs11js.CKA_PRIME_2, value: b(jwk.q) }, { type: pkcs11js.CKA_EXPONENT_1, value: b(jwk.dp) },
            { type: pkcs11js.CKA_EXPONENT_2, value: b(jwk.dq) }, { type: pkcs11js.CKA_COEFFICIENT, value: b(jwk.qi) },
          ]),
      ]
      const publicHandle = this.library.C_CreateObject(session, publicTemplate)
      let privateHandle: Buffer
      try {
        privateHandle = this.library.C_CreateObject(session, privateTemplate)
      } catch (error) {
        this.library.C_DestroyObject(session, publicHandle)
        throw error
      }
      const imported = REQUIRED_PRIVATE_ATTRIBUTES.filter(([type]) => type !== pkcs11js.CKA_ALWAYS_SENSITIVE && type !== pkcs11js.CKA_NEVER_EXTRACTABLE && type !== pkcs11js.CKA_LOCAL)
      const wrong = imported.filter(([type, , expected]) => this.readBool(session, privateHandle, type) !== expected)
      if (wrong.length > 0) {
        this.library.C_DestroyObject(session, privateHandle)
        this.library.C_DestroyObject(session, publicHandle)
        throw new SecurityServerError('failed_to_generate_private_key',
          `Token ${this.name} did not honour ${wrong.map(([, name, v]) => `${name}=${v}`).join(', ')}; the imported key was deleted`)
      }
      const stored = id.toString('hex')
      this.keyHandles.set(stored, privateHandle)
      return { keyId: stored, label, algorithm, publicKeyDer }
    })
  }

  private findObjects(session: Buffer, template: pkcs11js.Template): Buffer[] {
    this.library.C_FindObjectsInit(session, template)
    try {
      const found: Buffer[] = []
      for (;;) {
        const batch = this.library.C_FindObjects(session, 64)
        found.push(...batch)
        if (batch.length < 64) return found
      }
    } finally {
      this.library.C_FindObjectsFinal(session)
    }
  }

  private keyAlgorithmOf(session: Buffer, privateHandle: Buffer): KeyAlgorithm | undefined {
    const [type] = this.library.C_GetAttributeValue(session, privateHandle, [{ type: pkcs11js.CKA_KEY_TYPE }])
    const keyType = Buffer.isBuffer(type?.value) ? type.value.readUIntLE(0, type.value.length > 6 ? 6 : type.value.length) : Number(type?.value)
    if (keyType === pkcs11js.CKK_EC) return 'ec-p256'
    if (keyType !== pkcs11js.CKK_RSA) return undefined
    const [modulus] = this.library.C_GetAttributeValue(session, privateHandle, [{ type: pkcs11js.CKA_MODULUS }])
    const bits = (modulus?.value as Buffer).length * 8
    return bits === 2048 || bits === 3072 || bits === 4096 ? (`rsa-${bits}` as KeyAlgorithm) : undefined
  }

  async listKeys(): Promise<TokenKey[]> {
    return this.withSession('list keys', true, async (session) => {
      const keys: TokenKey[] = []
      for (const handle of this.findObjects(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }])) {
        const [id, label] = this.library.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }, { type: pkcs11js.CKA_LABEL }])
        const algorithm = this.keyAlgorithmOf(session, handle)
        const idBytes = id?.value as Buffer
        if (algorithm === undefined || idBytes === undefined || idBytes.length === 0) continue
        const [publicHandle] = this.findObjects(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_ID, value: idBytes }])
        if (publicHandle === undefined) continue
        keys.push({ keyId: idBytes.toString('hex'), label: (label?.value as Buffer).toString('utf8'), algorithm, publicKeyDer: this.publicKeyDer(session, publicHandle, algorithm) })
      }
      return keys
    })
  }

  private privateHandle(session: Buffer, keyId: string): Buffer {
    const cached = this.keyHandles.get(keyId)
    if (cached !== undefined) return cached
    const [handle] = this.findObjects(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_ID, value: Buffer.from(keyId, 'hex') }])
    if (handle === undefined) throw clientError('key_not_found', `Key ${keyId} is not on token ${this.name} (or the token is not logged in)`)
    this.keyHandles.set(keyId, handle)
    return handle
  }

  async sign(keyId: string, algorithm: SignAlgorithm, digest: Uint8Array): Promise<Uint8Array> {
    return this.withSession('C_Sign', true, async (session) => {
      if (!this.wantLoggedIn) throw clientError('token_not_active', `Token ${this.name} is not logged in`)
      const handle = this.privateHandle(session, keyId)
      const keyAlgorithm = this.keyAlgorithmOf(session, handle)
      if (keyAlgorithm === undefined) throw clientError('unsupported_sign_algorithm', `Key ${keyId} has an unsupported type`)
      checkSignRequest(keyAlgorithm, algorithm, digest)
      const hash = digestOf(algorithm)
      let mechanism: pkcs11js.Mechanism
      let input: Buffer
      if (algorithm.startsWith('rsa-pkcs1-')) {
        // xroad-protocols.md §4.6: for CKM_RSA_PKCS the signer wraps the digest into a DigestInfo itself.
        mechanism = { mechanism: pkcs11js.CKM_RSA_PKCS }
        input = wrapDigestInfo(hash, digest)
      } else if (algorithm.startsWith('rsa-pss-')) {
        mechanism = { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter: { type: pkcs11js.CK_PARAMS_RSA_PSS, ...PSS_PARAMS[hash] } as pkcs11js.IParams }
        input = Buffer.from(digest)
      } else {
        // toolchain-notes.md §6: SoftHSM has no CKM_ECDSA_SHA256 — the host hashes, CKM_ECDSA signs; output is raw r‖s.
        mechanism = { mechanism: pkcs11js.CKM_ECDSA }
        input = Buffer.from(digest)
      }
      this.library.C_SignInit(session, mechanism, handle)
      return this.library.C_SignAsync(session, input, Buffer.alloc(1024))
    })
  }

  async deleteKey(keyId: string): Promise<void> {
    await this.withSession('C_DestroyObject', false, async (session) => {
      const objects = this.findObjects(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(keyId, 'hex') }])
      if (objects.length === 0) throw clientError('key_not_found', `Key ${keyId} is not on token ${this.name}`)
      for (const handle of objects) this.library.C_DestroyObject(session, handle)
      this.keyHandles.delete(keyId)
    })
  }

  async details(): Promise<TokenDetails> {
    return this.withSession('C_GetTokenInfo', true, async () => {
      const slot = this.slot ?? this.findSlot()
      const info = this.library.C_GetInfo()
      const slotInfo = this.library.C_GetSlotInfo(slot)
      const token = this.library.C_GetTokenInfo(slot)
      const mechanisms = this.library.C_GetMechanismList(slot)
        .map((m) => MECHANISM_NAMES.get(m) ?? `0x${m.toString(16).padStart(8, '0')}`)
        .sort()
      return {
        module: {
          manufacturer: trim(info.manufacturerID), description: trim(info.libraryDescription),
          libraryVersion: version(info.libraryVersion), cryptokiVersion: version(info.cryptokiVersion),
        },
        slotDescription: trim(slotInfo.slotDescription),
        label: trim(token.label), manufacturer: trim(token.manufacturerID), model: trim(token.model), serialNumber: trim(token.serialNumber),
        hardwareVersion: version(token.hardwareVersion), firmwareVersion: version(token.firmwareVersion), mechanisms,
      }
    })
  }

  async keyAttributes(keyId: string): Promise<KeyAttributes> {
    return this.withSession('C_GetAttributeValue', true, async (session) => {
      if (!this.wantLoggedIn) throw clientError('token_not_active', `Token ${this.name} is not logged in`)
      const handle = this.privateHandle(session, keyId)
      const attributes: Record<string, boolean> = {}
      for (const [type, name] of REQUIRED_PRIVATE_ATTRIBUTES) attributes[name] = this.readBool(session, handle, type)
      return attributes as KeyAttributes
    })
  }

  async close(): Promise<void> {
    await this.serialized(async () => {
      if (this.closed) return
      this.closed = true
      this.pin = undefined
      this.dropSession('closed')
      releaseModule(this.options.modulePath)
    })
  }
}
