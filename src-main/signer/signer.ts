import { randomBytes, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { decodeIdentifier, encodeIdentifier, type ClientId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import {
  DatabaseDerivedCache, type DerivedCacheScope, SecurityServerError, clientError, inTransaction, migrate, silentLogger, systemClock, type Clock, type Logger, type SqlWriter,
} from '../platform'
import { certificateProfileFor, type SubjectOptions } from '../signature'
import {
  chainToApprovedCa, certificateId, certificatePublicKey, checkCertificateUsage, isSelfSigned, parseOwnCertificate, readCertificateBytes,
  readCertificateChain,
} from './certificates'
import { buildCsr, csrToPem, subjectText, type CsrFormat } from './csr-builder'
import {
  deleteCertificateRow, deleteCsrRow, deleteKeyRow, findCertificateRow, findKeyRow, insertCertificate, insertChainCertificates, listAllCsrRows,
  listChainCertificates, insertCsr, insertKey, insertToken, listCertificateRows, listKeyRows, listTokenRows, updateCertificateStatus,
  type CertificateRow, type KeyRow, type StoredCertificateStatus, type TokenRow,
} from './key-conf-repository'
import { BatchSigner, type BatchSignerOptions, type BatchSignerStats, type MessagePartToSign, type SignedMessage } from './batch-signer'
import { signerMigrations } from './migrations'
import type { OcspClient } from './ocsp-client'
import { OcspStatusService, type OcspSources, type OcspStatus } from './ocsp-status'
import { Pkcs11TokenDriver, type Pkcs11TokenOptions } from './pkcs11/pkcs11-token-driver'
import { defaultSignAlgorithm } from './sign-algorithms'
import { SoftwareTokenDriver, type PinPolicy } from './software/software-token-driver'
import type { KeyAlgorithm, KeyUsage, SignAlgorithm, TokenDriver, TokenStatus } from './token-driver'

/**
 * The signer facade (X-Road's signer process, in-process here): tokens from the key configuration, their drivers,
 * keys, CSRs, certificates and the signing context the proxy asks for.
 */

/** X-Road's software token id. */
export const SOFTWARE_TOKEN_ID = '0'

export interface SignerOptions {
  readonly db: SqlWriter
  readonly dataDir: string
  readonly clock?: Clock
  readonly logger?: Logger
  /** PKCS#11 module paths an administrator allowed; a token on any other module is refused (reliability-and-security.md §4.1). */
  readonly modules?: readonly string[]
  /** Wrong software-token PINs before it locks. */
  readonly softwareMaxPinAttempts?: number
  /** Options for every PKCS#11 driver (recovery timing; a library wrapper in tests). */
  readonly pkcs11?: Pick<Pkcs11TokenOptions, 'recoveryTimeoutMs' | 'recoveryPollMs' | 'wrapLibrary'>
  /** OCSP for own certificates; without it no responses are fetched and signing does not ask for one. */
  readonly ocsp?: SignerOcspOptions
  /** Batch signing of messages (`signMessage`): the largest batch. */
  readonly batch?: BatchSignerOptions
  /**
   * Wraps each token driver the signer creates, for a device that behaves unlike the ones here (the benchmark's token
   * limited to 10 signatures/s). Production passes none.
   */
  readonly wrapDriver?: (driver: TokenDriver) => TokenDriver
}

export interface SignerOcspOptions {
  /** Trust data of an own certificate's CA, from global configuration (approved CA, responders, intervals). */
  readonly sources: OcspSources
  /**
   * Changes whenever `sources` may answer differently (the global configuration in force): what the signer derived
   * from them (signing contexts, usable OCSP responses) is derived again then. Constant when absent.
   */
  readonly sourcesVersion?: () => unknown
  readonly client?: OcspClient
  /** Refresh in the background (default true). */
  readonly autoRefresh?: boolean
  /** Delay before retrying after a failed fetch (default 60 s, X-Road `ocsp-retry-delay`). */
  readonly retryDelaySeconds?: number
  /**
   * Sign only with a certificate whose OCSP status is good (default true), as X-Road's
   * `GetMemberSigningInfoReqHandler` does (reliability-and-security.md §1.3).
   */
  readonly requireGoodStatus?: boolean
}

export interface TokenInfo extends TokenStatus {
  readonly id: string
  readonly modulePath?: string
}

export interface KeyInfo {
  readonly id: string
  readonly tokenId: string
  readonly label: string
  readonly usage: KeyUsage
  readonly algorithm: KeyAlgorithm
  readonly publicKeyDer: Buffer
  readonly createdAt: string
}

export type CertificateState = StoredCertificateStatus | 'expired'

export interface CertificateInfo {
  readonly id: string
  readonly keyId: string
  readonly memberId?: ClientId
  readonly subject: string
  readonly issuer: string
  readonly serialNumber: string
  readonly notBefore: string
  readonly notAfter: string
  /** The stored state, or `expired` once notAfter has passed. */
  readonly state: CertificateState
  readonly storedState: StoredCertificateStatus
  readonly certDer: Buffer
}

/** A certificate request made here and kept in the key configuration until it is deleted (or its key is). */
export interface CsrInfo {
  readonly id: string
  readonly keyId: string
  /** The member (sign key) or security server (auth key) the request names. */
  readonly subjectOf?: MemberId | SecurityServerId
  readonly subject: string
  readonly createdAt: string
}

export interface GenerateCsrRequest {
  readonly keyId: string
  /** The member for a sign key; the security server for an auth key. */
  readonly subjectOf: MemberId | SecurityServerId
  /** Java class of the approved CA's certificate profile (global conf `certificateProfileInfo`). */
  readonly certificateProfile: string
  readonly subjectOptions?: SubjectOptions
  readonly format?: CsrFormat
}

export interface GeneratedCsr {
  readonly id: string
  readonly subject: string
  readonly der: Buffer
  /** The request as the CA asked for it (PEM text or DER bytes). */
  readonly encoded: Buffer
}

export interface SigningContext {
  /** Signing certificate first, then intermediates that chain to an approved CA (when known). */
  readonly certChain: Buffer[]
  readonly keyId: string
  readonly algorithm: SignAlgorithm
  /** DER OCSP responses for the signing certificate (empty while none is usable). */
  readonly ocspResponses: Buffer[]
  /** Signs a digest computed with the algorithm's hash; ECDSA results are raw r‖s. */
  /** Signs `digest`; `data` (what the digest was computed over) lets a software token sign natively. */
  sign(digest: Uint8Array, data?: Uint8Array): Promise<Buffer>
}

export interface AuthKey {
  readonly certDer: Buffer
  readonly keyId: string
  /** The private key for Node TLS (software token only). */
  readonly privateKey: KeyObject
}

export interface Signer {
  listTokens(): Promise<TokenInfo[]>
  initSoftwareToken(pin: string, options?: { label?: string; pinPolicy?: PinPolicy }): Promise<TokenInfo>
  addPkcs11Token(modulePath: string, match: { label?: string; serial?: string }): Promise<TokenInfo>
  login(tokenId: string, pin: string): Promise<void>
  logout(tokenId: string): Promise<void>
  changePin(tokenId: string, oldPin: string, newPin: string): Promise<void>
  generateKey(request: { tokenId: string; usage: KeyUsage; algorithm: KeyAlgorithm; label: string }): Promise<KeyInfo>
  /**
   * Stores a private key made elsewhere (PKCS#8 DER) on a token, with its usage, under `keyId` (hex): migration from
   * another security server. The token must be logged in. @throws token_not_found, token_not_active, unsupported, conflict
   */
  importKey(request: { tokenId: string; usage: KeyUsage; label: string; pkcs8: Uint8Array; keyId: string }): Promise<KeyInfo>
  listKeys(): KeyInfo[]
  /**
   * Deletes a key from its token and the configuration, with its certificates and CSRs.
   * @throws key_not_found, conflict (detail `activeCertificate`: a certificate of the key is active or registered)
   */
  deleteKey(keyId: string): Promise<void>
  generateCsr(request: GenerateCsrRequest): Promise<GeneratedCsr>
  listCsrs(): CsrInfo[]
  /** @throws csr_not_found */
  deleteCsr(csrId: string): void
  importCertificate(bytes: Uint8Array, options?: { memberId?: ClientId; approvedCaCertificates?: readonly Uint8Array[] }): Promise<CertificateInfo>
  listCertificates(): CertificateInfo[]
  activateCertificate(certId: string): void
  disableCertificate(certId: string): void
  /** Deletes a certificate (the key stays). @throws cert_not_found, conflict (detail `activeCertificate`: disable it first) */
  deleteCertificate(certId: string): void
  setCertificateState(certId: string, state: StoredCertificateStatus): void
  /** `scope`: the message this lookup is for, if any (platform/db/derived-cache.ts: the key configuration's change probe once per message). */
  getSigningContext(member: ClientId, scope?: DerivedCacheScope): Promise<SigningContext>
  getAuthKey(): Promise<AuthKey>
  /**
   * Signs a message's parts with `member`'s signing key (xroad-protocols.md §4.4–4.6), coalescing concurrent
   * requests for the same key into one token signature over a hash chain (§4.5). The proxy's `MessageSigner`.
   */
  signMessage(member: ClientId, parts: readonly MessagePartToSign[], scope?: DerivedCacheScope): Promise<SignedMessage>
  /** Token signatures and messages signed through `signMessage`. */
  batchStats(): BatchSignerStats
  /** The stored OCSP response (DER) for one of our certificates while it is usable (not stale). */
  ocspResponses(certDer: Uint8Array, scope?: DerivedCacheScope): Buffer[]
  /** OCSP status of an own certificate from the stored response (no network). */
  ocspStatus(certId: string): OcspStatus
  /** Fetches fresh OCSP responses now (all own certificates in use, or the given ones). */
  refreshOcsp(certIds?: readonly string[]): Promise<OcspStatus[]>
  /**
   * The OCSP sources changed (a new global configuration): a shorter fetch interval takes effect from the last
   * refresh rather than after the interval that was in force.
   */
  ocspSourcesChanged(): void
  /** The driver of a token (for the batch signer and diagnostics). */
  driver(tokenId: string): TokenDriver
  /**
   * Called after every change to tokens, keys, certificates or their OCSP status made through this facade (login,
   * logout, import, activation…), so the running server can re-derive what depends on them; returns an unsubscribe.
   */
  onChange(listener: (change: SignerChange) => void): () => void
  close(): Promise<void>
}

interface ResolvedContext {
  readonly context: SigningContext
  readonly validFromMs: number
  readonly validUntilMs: number
}

/** A signing context as the derived cache holds it: resolved (or failing) under one version of the OCSP sources. */
interface DerivedContext {
  readonly sources: unknown
  readonly resolved: Promise<ResolvedContext>
}

/** What changed in the signer: the facade method that made the change. */
export interface SignerChange {
  readonly method: string
}

/** Facade methods that change tokens, keys, certificates or OCSP state. */
const CHANGING_METHODS = [
  'initSoftwareToken', 'addPkcs11Token', 'login', 'logout', 'generateKey', 'importKey', 'deleteKey', 'importCertificate',
  'activateCertificate', 'disableCertificate', 'deleteCertificate', 'setCertificateState', 'refreshOcsp',
] as const satisfies ReadonlyArray<keyof Signer>

export function createSigner(options: SignerOptions): Signer {
  const { db } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger()
  migrate(db, [signerMigrations])
  const drivers = new Map<string, TokenDriver>()
  const ocsp = new OcspStatusService({
    db, clock, logger, sources: options.ocsp?.sources ?? (() => undefined), client: options.ocsp?.client,
    retryDelaySeconds: options.ocsp?.retryDelaySeconds,
  })
  if (options.ocsp !== undefined && options.ocsp.autoRefresh !== false) ocsp.start()
  const requireOcsp = options.ocsp !== undefined && options.ocsp.requireGoodStatus !== false
  const batchSigner = new BatchSigner(options.batch)
  const changeListeners = new Set<(change: SignerChange) => void>()
  /**
   * Issue 15 §2, nothing looked up twice: signing contexts by member and usable OCSP responses by certificate, kept
   * while the key configuration (its database: certificates, states, OCSP rows), the tokens' sessions (every change
   * through this facade) and the OCSP sources are unchanged, and while the time windows they were derived in last
   * (certificate validity, OCSP freshness and nextUpdate). A failed signature drops its context too.
   */
  const derived = new DatabaseDerivedCache(db)
  const sourcesVersion = options.ocsp?.sourcesVersion ?? (() => undefined)
  changeListeners.add(() => derived.clear())
  const certIds = new WeakMap<Uint8Array, string>()

  const tokenRow = (tokenId: string): TokenRow => {
    const row = listTokenRows(db).find((t) => t.id === tokenId)
    if (row === undefined) throw clientError('token_not_found', `Token ${tokenId} is not configured`)
    return row
  }

  const wrap = (driver: TokenDriver): TokenDriver => options.wrapDriver?.(driver) ?? driver
  const driverOf = (tokenId: string): TokenDriver => {
    const existing = drivers.get(tokenId)
    if (existing !== undefined) return existing
    const row = tokenRow(tokenId)
    let driver: TokenDriver
    if (row.kind === 'software') {
      driver = new SoftwareTokenDriver({ dir: join(options.dataDir, 'tokens', 'software'), maxPinAttempts: options.softwareMaxPinAttempts })
    } else {
      const modulePath = row.modulePath ?? ''
      if (options.modules !== undefined && !options.modules.includes(modulePath)) {
        throw new SecurityServerError('token_not_available', `PKCS#11 module ${modulePath} is not among the allowed modules`)
      }
      driver = new Pkcs11TokenDriver({ ...options.pkcs11, modulePath, tokenLabel: row.tokenLabel ?? undefined, tokenSerial: row.tokenSerial ?? undefined })
    }
    driver = wrap(driver)
    drivers.set(tokenId, driver)
    return driver
  }

  const tokenInfo = async (row: TokenRow): Promise<TokenInfo> => {
    const status = await driverOf(row.id).status()
    return { ...status, id: row.id, ...(row.modulePath === null ? {} : { modulePath: row.modulePath }) }
  }

  const keyInfo = (row: KeyRow): KeyInfo => ({ ...row, publicKeyDer: Buffer.from(row.publicKey) })

  const keyRow = (keyId: string): KeyRow => {
    const row = findKeyRow(db, keyId)
    if (row === undefined) throw clientError('key_not_found', `Key ${keyId} is not in the key configuration`)
    return row
  }

  const certificateInfo = (row: CertificateRow): CertificateInfo => ({
    id: row.id, keyId: row.keyId, subject: row.subject, issuer: row.issuer, serialNumber: row.serialNumber,
    notBefore: row.notBefore, notAfter: row.notAfter, storedState: row.status, certDer: Buffer.from(row.certDer),
    state: row.status !== 'revoked' && new Date(row.notAfter) < clock.now() ? 'expired' : row.status,
    ...(row.memberId === null ? {} : { memberId: decodeIdentifier(row.memberId) as ClientId }),
  })

  const certRow = (certId: string): CertificateRow => {
    const row = findCertificateRow(db, certId)
    if (row === undefined) throw clientError('cert_not_found', `Certificate ${certId} is not in the key configuration`)
    return row
  }

  // A certificate in use (signing, TLS, or registered at the central server) is never deleted by accident: it is
  // disabled first, which stops its use, and only then may it or its key be deleted.
  const inUse = (c: CertificateInfo): boolean => c.state === 'active' || c.state === 'registered'
  const refuseInUse = (what: string, certificates: readonly CertificateInfo[]): void => {
    const used = certificates.filter(inUse)
    if (used.length === 0) return
    throw clientError('conflict', `${what} has ${used.length === 1 ? 'a certificate' : 'certificates'} in use (${used.map((c) => `${c.subject}: ${c.state}`).join('; ')}); disable ${used.length === 1 ? 'it' : 'them'} first`, {
      detail: 'activeCertificate',
    })
  }

  /** The first usable signing certificate of `wanted` with its chain, OCSP and key, and the window it stays usable in. */
  const resolveSigningContext = async (wanted: string, cacheKey: string): Promise<ResolvedContext> => {
    const now = clock.now()
    const candidates = listCertificateRows(db).filter((c) => c.status === 'active' && c.memberId === wanted && new Date(c.notAfter) >= now && new Date(c.notBefore) <= now)
    let withoutOcsp = 0
    for (const cert of candidates) {
      if (requireOcsp && ocsp.status(cert.id).status !== 'good') {
        withoutOcsp++
        continue
      }
      const key = findKeyRow(db, cert.keyId)
      if (key === undefined || key.usage !== 'sign') continue
      const driver = driverOf(key.tokenId)
      if (!(await driver.status()).loggedIn) continue
      const algorithm = defaultSignAlgorithm(key.algorithm)
      const context: SigningContext = {
        certChain: [Buffer.from(cert.certDer), ...listChainCertificates(db, cert.id)], keyId: key.id, algorithm,
        ocspResponses: ocsp.responses(cert.id),
        sign: async (digest: Uint8Array, data?: Uint8Array) => {
          try {
            return Buffer.from(await driver.sign(key.id, algorithm, digest, data))
          } catch (error) {
            // A token gone (logged out on the device, removed): the next message looks again.
            derived.delete(cacheKey)
            throw error
          }
        },
      }
      // Usable while the certificate is valid (notAfter inclusive, as above) and its OCSP response keeps its status.
      const validUntilMs = Math.min(new Date(cert.notAfter).getTime() + 1, ocsp.unchangedUntil(cert.id))
      return { context, validFromMs: new Date(cert.notBefore).getTime(), validUntilMs }
    }
    throw new SecurityServerError('cannot_sign', withoutOcsp > 0
      ? `No signing certificate of ${wanted} has a fresh good OCSP response`
      : `No active signing certificate on a logged-in token for ${wanted}`)
  }

  const facade: Signer = {
    async listTokens() {
      return Promise.all(listTokenRows(db).map(tokenInfo))
    },

    async initSoftwareToken(pin, init = {}) {
      if (listTokenRows(db).some((t) => t.id === SOFTWARE_TOKEN_ID)) {
        throw clientError('already_initialized', 'The software token is already initialized')
      }
      const driver = await SoftwareTokenDriver.initialize({
        dir: join(options.dataDir, 'tokens', 'software'), pin, label: init.label, pinPolicy: init.pinPolicy, maxPinAttempts: options.softwareMaxPinAttempts,
      })
      inTransaction(db, () => insertToken(db, { id: SOFTWARE_TOKEN_ID, kind: 'software', modulePath: null, tokenLabel: null, tokenSerial: null, createdAt: clock.now().toISOString() }))
      drivers.set(SOFTWARE_TOKEN_ID, wrap(driver))
      logger.info({ tokenId: SOFTWARE_TOKEN_ID }, 'software token initialized')
      return tokenInfo(tokenRow(SOFTWARE_TOKEN_ID))
    },

    async addPkcs11Token(modulePath, match) {
      if (match.label === undefined && match.serial === undefined) throw clientError('validation_failed', 'Give the token label or serial number')
      if (options.modules !== undefined && !options.modules.includes(modulePath)) {
        throw clientError('validation_failed', `PKCS#11 module ${modulePath} is not among the allowed modules`)
      }
      const id = `pkcs11-${randomBytes(4).toString('hex')}`
      const row: TokenRow = { id, kind: 'pkcs11', modulePath, tokenLabel: match.label ?? null, tokenSerial: match.serial ?? null, createdAt: clock.now().toISOString() }
      const info = await (async () => {
        const probe = new Pkcs11TokenDriver({ ...options.pkcs11, modulePath, tokenLabel: match.label, tokenSerial: match.serial })
        drivers.set(id, wrap(probe))
        return { ...(await probe.status()), id, modulePath }
      })()
      if (!info.available) {
        await drivers.get(id)?.close()
        drivers.delete(id)
        throw clientError('token_not_available', `No token ${match.label ?? match.serial} on ${modulePath}`)
      }
      inTransaction(db, () => insertToken(db, row))
      return info
    },

    async login(tokenId, pin) {
      await driverOf(tokenId).login(pin)
      logger.info({ tokenId }, 'token logged in')
    },

    async logout(tokenId) {
      await driverOf(tokenId).logout()
    },

    async changePin(tokenId, oldPin, newPin) {
      await driverOf(tokenId).changePin(oldPin, newPin)
      logger.info({ tokenId }, 'token PIN changed')
    },

    async generateKey({ tokenId, usage, algorithm, label }) {
      tokenRow(tokenId)
      const key = await driverOf(tokenId).generateKey(algorithm, label)
      const row: KeyRow = { id: key.keyId, tokenId, label, usage, algorithm, publicKey: Buffer.from(key.publicKeyDer), createdAt: clock.now().toISOString() }
      inTransaction(db, () => insertKey(db, row))
      logger.info({ tokenId, keyId: key.keyId, usage, algorithm }, 'key generated')
      return keyInfo(row)
    },

    async importKey({ tokenId, usage, label, pkcs8, keyId }) {
      tokenRow(tokenId)
      const id = keyId.toLowerCase()
      if (findKeyRow(db, id) !== undefined) throw clientError('conflict', `Key ${id} is in the key configuration already`)
      const key = await driverOf(tokenId).importKey(pkcs8, label, id)
      const row: KeyRow = { id: key.keyId, tokenId, label, usage, algorithm: key.algorithm, publicKey: Buffer.from(key.publicKeyDer), createdAt: clock.now().toISOString() }
      inTransaction(db, () => insertKey(db, row))
      logger.info({ tokenId, keyId: key.keyId, usage, algorithm: key.algorithm }, 'key imported')
      return keyInfo(row)
    },

    listKeys() {
      return listKeyRows(db).map(keyInfo)
    },

    async deleteKey(keyId) {
      const row = keyRow(keyId)
      refuseInUse(`Key ${row.label}`, listCertificateRows(db).filter((c) => c.keyId === keyId).map(certificateInfo))
      try {
        await driverOf(row.tokenId).deleteKey(keyId)
      } catch (error) {
        // A key already gone from the device is still removed from the configuration.
        if (!(error instanceof SecurityServerError && error.code === 'key_not_found')) throw error
      }
      inTransaction(db, () => deleteKeyRow(db, keyId))
    },

    async generateCsr(request) {
      const key = keyRow(request.keyId)
      const profile = certificateProfileFor(request.certificateProfile)
      const subject = key.usage === 'sign'
        ? (request.subjectOf.objectType === 'MEMBER' ? profile.signSubject(request.subjectOf, request.subjectOptions) : undefined)
        : (request.subjectOf.objectType === 'SERVER' ? profile.authSubject(request.subjectOf, request.subjectOptions) : undefined)
      if (subject === undefined) {
        throw clientError('validation_failed', key.usage === 'sign' ? 'A signing CSR is for a member' : 'An authentication CSR is for a security server')
      }
      const driver = driverOf(key.tokenId)
      const der = await buildCsr({
        subject, publicKeyDer: key.publicKey, keyAlgorithm: key.algorithm, usage: key.usage,
        sign: (algorithm, digest) => driver.sign(key.id, algorithm, digest),
      })
      const id = randomBytes(10).toString('hex')
      inTransaction(db, () => insertCsr(db, {
        id, keyId: key.id, memberId: encodeIdentifier(request.subjectOf), subject: subjectText(subject), csrDer: der, createdAt: clock.now().toISOString(),
      }))
      const encoded = (request.format ?? 'pem') === 'pem' ? Buffer.from(csrToPem(der)) : der
      return { id, subject: subjectText(subject), der, encoded }
    },

    listCsrs() {
      return listAllCsrRows(db).map((r) => ({
        id: r.id, keyId: r.keyId, subject: r.subject, createdAt: r.createdAt,
        ...(r.memberId === null ? {} : { subjectOf: decodeIdentifier(r.memberId) as MemberId | SecurityServerId }),
      }))
    },

    deleteCsr(csrId) {
      if (!inTransaction(db, () => deleteCsrRow(db, csrId))) throw clientError('csr_not_found', `Certificate request ${csrId} is not in the key configuration`)
    },

    async importCertificate(bytes, importOptions = {}) {
      const [der = readCertificateBytes(bytes), ...bundled] = readCertificateChain(bytes)
      const cert = parseOwnCertificate(der)
      const spki = certificatePublicKey(cert)
      const key = listKeyRows(db).find((k) => Buffer.from(k.publicKey).equals(spki))
      if (key === undefined) throw clientError('key_not_found', 'No key in the key configuration matches the certificate\'s public key')
      checkCertificateUsage(der, key.usage)
      // Intermediates for the signature's CertificateValues (xroad-protocols.md §4.6): the path to an approved CA
      // when the CA certificates are given, else the CA certificates bundled after the leaf; never the top CA.
      const path = importOptions.approvedCaCertificates !== undefined
        ? chainToApprovedCa(cert, [...importOptions.approvedCaCertificates, ...bundled.filter((b) => !isSelfSigned(parseOwnCertificate(b)))], clock.now())
        : [cert, ...bundled.map((b) => parseOwnCertificate(b))]
      const intermediates = path.slice(1).filter((c) => !isSelfSigned(c)).map((c) => c.raw)
      const id = certificateId(der)
      if (findCertificateRow(db, id) !== undefined) throw clientError('cert_exists', 'The certificate is already imported')
      const row: CertificateRow = {
        id, keyId: key.id, memberId: importOptions.memberId === undefined ? null : encodeIdentifier(importOptions.memberId), certDer: der,
        subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), serialNumber: cert.serialNumber,
        notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString(),
        status: 'saved', createdAt: clock.now().toISOString(),
      }
      inTransaction(db, () => {
        insertCertificate(db, row)
        insertChainCertificates(db, id, intermediates)
      })
      return certificateInfo(row)
    },

    listCertificates() {
      return listCertificateRows(db).map(certificateInfo)
    },

    activateCertificate(certId) {
      const row = certRow(certId)
      if (row.status === 'revoked') throw clientError('cert_validation', 'A revoked certificate cannot be activated')
      inTransaction(db, () => updateCertificateStatus(db, certId, 'active'))
      // A newly active certificate gets its OCSP response now rather than at the next interval.
      if (options.ocsp !== undefined && options.ocsp.autoRefresh !== false && ocsp.status(certId).status === 'none') void ocsp.refresh([certId])
    },

    disableCertificate(certId) {
      certRow(certId)
      inTransaction(db, () => updateCertificateStatus(db, certId, 'disabled'))
    },

    deleteCertificate(certId) {
      const info = certificateInfo(certRow(certId))
      refuseInUse('This certificate', [info])
      inTransaction(db, () => deleteCertificateRow(db, certId))
      logger.info({ certId }, 'certificate deleted')
    },

    setCertificateState(certId, state) {
      certRow(certId)
      inTransaction(db, () => updateCertificateStatus(db, certId, state))
    },

    async getSigningContext(member, scope) {
      const wanted = encodeIdentifier(member.objectType === 'SUBSYSTEM'
        ? { objectType: 'MEMBER', xRoadInstance: member.xRoadInstance, memberClass: member.memberClass, memberCode: member.memberCode }
        : member)
      const key = `sign:${wanted}`
      for (let attempt = 0; ; attempt++) {
        const version = sourcesVersion()
        const entry = derived.get(key, (): DerivedContext => ({ sources: version, resolved: resolveSigningContext(wanted, key) }), scope)
        if (entry.sources !== version) {
          derived.delete(key, entry)
          continue
        }
        let resolved: ResolvedContext
        try {
          resolved = await entry.resolved
        } catch (error) {
          derived.delete(key, entry)
          throw error
        }
        const now = clock.now().getTime()
        if ((now >= resolved.validFromMs && now < resolved.validUntilMs) || attempt > 0) return resolved.context
        derived.delete(key, entry)
      }
    },

    async getAuthKey() {
      const now = clock.now()
      for (const cert of listCertificateRows(db).filter((c) => c.status === 'active' || c.status === 'registered')) {
        const key = findKeyRow(db, cert.keyId)
        if (key === undefined || key.usage !== 'auth' || new Date(cert.notAfter) < now) continue
        const driver = driverOf(key.tokenId)
        if (!(driver instanceof SoftwareTokenDriver)) {
          throw new SecurityServerError('unsupported', 'Authentication keys on PKCS#11 tokens are served through the OpenSSL PKCS#11 engine, not yet wired in')
        }
        return { certDer: Buffer.from(cert.certDer), keyId: key.id, privateKey: driver.exportPrivateKeyForTls(key.id) }
      }
      throw new SecurityServerError('key_not_found', 'No active authentication certificate with a key on a logged-in software token')
    },

    async signMessage(member, parts, scope) {
      return batchSigner.sign(await facade.getSigningContext(member, scope), parts)
    },

    batchStats() {
      return batchSigner.stats
    },

    ocspResponses(certDer, scope) {
      let certId = certIds.get(certDer)
      if (certId === undefined) certIds.set(certDer, (certId = certificateId(readCertificateBytes(certDer))))
      const id = certId
      const key = `ocsp:${id}`
      const version = sourcesVersion()
      const make = () => ({ sources: version, responses: ocsp.responses(id), untilMs: ocsp.unchangedUntil(id) })
      let entry = derived.get(key, make, scope)
      if (entry.sources !== version || clock.now().getTime() >= entry.untilMs) {
        derived.delete(key, entry)
        entry = derived.get(key, make, scope)
      }
      return entry.responses
    },

    ocspStatus(certId) {
      certRow(certId)
      return ocsp.status(certId)
    },

    refreshOcsp(certIds) {
      for (const id of certIds ?? []) certRow(id)
      return ocsp.refresh(certIds)
    },

    ocspSourcesChanged() {
      ocsp.reschedule()
    },

    driver: driverOf,

    onChange(listener) {
      changeListeners.add(listener)
      return () => changeListeners.delete(listener)
    },

    async close() {
      changeListeners.clear()
      ocsp.stop()
      await ocsp.idle()
      for (const driver of drivers.values()) await driver.close()
      drivers.clear()
    },
  }
  notifyAfterChanges(facade, changeListeners, logger)
  return facade
}

/** Wraps the changing facade methods so each successful call (sync or async) tells the listeners afterwards. */
function notifyAfterChanges(facade: Signer, listeners: ReadonlySet<(change: SignerChange) => void>, logger: Logger): void {
  const notify = (method: string): void => {
    for (const listener of listeners) {
      try {
        listener({ method })
      } catch (error) {
        logger.error({ err: error, method }, 'a signer change listener failed')
      }
    }
  }
  const methods = facade as unknown as Record<string, (...args: unknown[]) => unknown>
  for (const method of CHANGING_METHODS) {
    const original = methods[method] as (...args: unknown[]) => unknown
    methods[method] = (...args: unknown[]) => {
      const result = original(...args)
      if (result instanceof Promise) return result.then((value: unknown) => (notify(method), value))
      notify(method)
      return result
    }
  }
}
