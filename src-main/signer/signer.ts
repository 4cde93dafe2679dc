import { randomBytes, type KeyObject } from 'node:crypto'
import { join } from 'node:path'
import { decodeIdentifier, encodeIdentifier, type ClientId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import {
  SecurityServerError, clientError, inTransaction, migrate, silentLogger, systemClock, type Clock, type Logger, type WritableDb,
} from '../platform'
import { certificateProfileFor, type SubjectOptions } from '../signature'
import { chainToApprovedCa, certificateId, certificatePublicKey, checkCertificateUsage, parseOwnCertificate, readCertificateBytes } from './certificates'
import { buildCsr, csrToPem, subjectText, type CsrFormat } from './csr-builder'
import {
  deleteKeyRow, findCertificateRow, findKeyRow, findOcspRow, insertCertificate, insertCsr, insertKey, insertToken, listCertificateRows,
  listKeyRows, listTokenRows, updateCertificateStatus, type CertificateRow, type KeyRow, type StoredCertificateStatus, type TokenRow,
} from './key-conf-repository'
import { signerMigrations } from './migrations'
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
  readonly db: WritableDb
  readonly dataDir: string
  readonly clock?: Clock
  readonly logger?: Logger
  /** PKCS#11 module paths an administrator allowed; a token on any other module is refused (reliability-and-security.md §4.1). */
  readonly modules?: readonly string[]
  /** Wrong software-token PINs before it locks. */
  readonly softwareMaxPinAttempts?: number
  /** Options for every PKCS#11 driver (recovery timing; a library wrapper in tests). */
  readonly pkcs11?: Pick<Pkcs11TokenOptions, 'recoveryTimeoutMs' | 'recoveryPollMs' | 'wrapLibrary'>
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
  /** Signs a digest computed with the algorithm's hash; ECDSA results are raw r‖s. */
  sign(digest: Uint8Array): Promise<Buffer>
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
  listKeys(): KeyInfo[]
  deleteKey(keyId: string): Promise<void>
  generateCsr(request: GenerateCsrRequest): Promise<GeneratedCsr>
  importCertificate(bytes: Uint8Array, options?: { memberId?: ClientId; approvedCaCertificates?: readonly Uint8Array[] }): Promise<CertificateInfo>
  listCertificates(): CertificateInfo[]
  activateCertificate(certId: string): void
  disableCertificate(certId: string): void
  setCertificateState(certId: string, state: StoredCertificateStatus): void
  getSigningContext(member: ClientId): Promise<SigningContext>
  getAuthKey(): Promise<AuthKey>
  /** The stored OCSP response (DER) for one of our certificates, if any. */
  ocspResponses(certDer: Uint8Array): Buffer[]
  /** The driver of a token (for the batch signer and diagnostics). */
  driver(tokenId: string): TokenDriver
  close(): Promise<void>
}

export function createSigner(options: SignerOptions): Signer {
  const { db } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger()
  migrate(db, [signerMigrations])
  const drivers = new Map<string, TokenDriver>()

  const tokenRow = (tokenId: string): TokenRow => {
    const row = listTokenRows(db).find((t) => t.id === tokenId)
    if (row === undefined) throw clientError('token_not_found', `Token ${tokenId} is not configured`)
    return row
  }

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

  return {
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
      drivers.set(SOFTWARE_TOKEN_ID, driver)
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
        drivers.set(id, probe)
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

    listKeys() {
      return listKeyRows(db).map(keyInfo)
    },

    async deleteKey(keyId) {
      const row = keyRow(keyId)
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

    async importCertificate(bytes, importOptions = {}) {
      const der = readCertificateBytes(bytes)
      const cert = parseOwnCertificate(der)
      const spki = certificatePublicKey(cert)
      const key = listKeyRows(db).find((k) => Buffer.from(k.publicKey).equals(spki))
      if (key === undefined) throw clientError('key_not_found', 'No key in the key configuration matches the certificate\'s public key')
      checkCertificateUsage(der, key.usage)
      if (importOptions.approvedCaCertificates !== undefined) chainToApprovedCa(cert, importOptions.approvedCaCertificates, clock.now())
      const id = certificateId(der)
      if (findCertificateRow(db, id) !== undefined) throw clientError('cert_exists', 'The certificate is already imported')
      const row: CertificateRow = {
        id, keyId: key.id, memberId: importOptions.memberId === undefined ? null : encodeIdentifier(importOptions.memberId), certDer: der,
        subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), serialNumber: cert.serialNumber,
        notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString(),
        status: 'saved', createdAt: clock.now().toISOString(),
      }
      inTransaction(db, () => insertCertificate(db, row))
      return certificateInfo(row)
    },

    listCertificates() {
      return listCertificateRows(db).map(certificateInfo)
    },

    activateCertificate(certId) {
      const row = certRow(certId)
      if (row.status === 'revoked') throw clientError('cert_validation', 'A revoked certificate cannot be activated')
      inTransaction(db, () => updateCertificateStatus(db, certId, 'active'))
    },

    disableCertificate(certId) {
      certRow(certId)
      inTransaction(db, () => updateCertificateStatus(db, certId, 'disabled'))
    },

    setCertificateState(certId, state) {
      certRow(certId)
      inTransaction(db, () => updateCertificateStatus(db, certId, state))
    },

    async getSigningContext(member) {
      const wanted = encodeIdentifier(member.objectType === 'SUBSYSTEM'
        ? { objectType: 'MEMBER', xRoadInstance: member.xRoadInstance, memberClass: member.memberClass, memberCode: member.memberCode }
        : member)
      const now = clock.now()
      const candidates = listCertificateRows(db).filter((c) => c.status === 'active' && c.memberId === wanted && new Date(c.notAfter) >= now && new Date(c.notBefore) <= now)
      for (const cert of candidates) {
        const key = findKeyRow(db, cert.keyId)
        if (key === undefined || key.usage !== 'sign') continue
        const driver = driverOf(key.tokenId)
        if (!(await driver.status()).loggedIn) continue
        const algorithm = defaultSignAlgorithm(key.algorithm)
        return {
          certChain: [Buffer.from(cert.certDer)], keyId: key.id, algorithm,
          sign: async (digest: Uint8Array) => Buffer.from(await driver.sign(key.id, algorithm, digest)),
        }
      }
      throw new SecurityServerError('cannot_sign', `No active signing certificate on a logged-in token for ${wanted}`)
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

    ocspResponses(certDer) {
      const row = findOcspRow(db, certificateId(readCertificateBytes(certDer)))
      return row === undefined ? [] : [Buffer.from(row.responseDer)]
    },

    driver: driverOf,

    async close() {
      for (const driver of drivers.values()) await driver.close()
      drivers.clear()
    },
  }
}
