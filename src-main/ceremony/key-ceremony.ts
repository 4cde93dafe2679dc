import { createHash, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { basename, join } from 'node:path'
import type QRCode from 'qrcode'
import type { MemberId, SecurityServerId } from '@shared/domain/identifiers'
import { SecurityServerError, closeDatabase, lazyModule, openDatabase, writeFileAtomic, type WritableDb } from '../platform'
import {
  createSigner, ecdsaRawToDer,
  type KeyAlgorithm, type KeyAttributes, type KeyInfo, type KeyUsage, type Signer, type TokenDetails, type TokenDriver,
} from '../signer'
import type { CeremonySession, SealSigner } from './ceremony-session'
import { checkOffline, describeMachine, type OfflineCheck } from './environment'
import { KEY_DUAL_CONTROL, type PresentedConfirmation } from './participants'
import { CeremonyRefusal, reasonDetails, refusal } from './refusals'
import { softwareSealSigner } from './software-seal'
import { artifactOf, sha256Hex, type Artifact, type TranscriptSeal } from './transcript'

/** The QR-code encoder, loaded at a ceremony's first QR code rather than by every server. */
const qrCodes = lazyModule<typeof QRCode>('qrcode')

/**
 * The key ceremony's steps on a PKCS#11 token (reliability-and-security.md §4.4; CA/B Forum BR §6.1.1.1): check the
 * machine is offline, identify the module and token, log in, generate the key pair with dual control and read its
 * attributes back, create the CSR (dual control: it uses the key), export it to removable media as a file and a QR
 * code, import the issued certificate and verify it against the key and the CA chain, and seal the transcript with
 * a key on the token. Each step is recorded with the SHA-256 of every artifact it produced or consumed. The
 * ceremony's own signer key configuration (`keyconf.sqlite`) and `ceremony-state.json` live in the session folder,
 * so each step can run in its own process (the CLI).
 */

export const CEREMONY_STATE_FILE = 'ceremony-state.json'
/** A PEM CSR up to this size goes into a QR code (byte mode, error correction M: at most 2331 bytes). */
export const QR_MAX_BYTES = 2000

/** The attribute values a ceremony key must have; anything else is refused (reliability-and-security.md §4.3). */
export const REQUIRED_KEY_ATTRIBUTES: KeyAttributes = {
  CKA_TOKEN: true, CKA_PRIVATE: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: false, CKA_NEVER_EXTRACTABLE: true,
  CKA_ALWAYS_SENSITIVE: true, CKA_LOCAL: true, CKA_SIGN: true, CKA_DECRYPT: false,
}

export interface CeremonyKeyState {
  keyId: string
  label: string
  algorithm: KeyAlgorithm
  usage: KeyUsage
  publicKeySha256: string
  attributes: KeyAttributes
}

export interface KeyCeremonyState {
  token?: { tokenId: string; modulePath: string; label: string; serialNumber: string }
  key?: CeremonyKeyState
  csr?: { file: string; sha256: string; qrFile?: string }
  certificate?: { file: string; sha256: string; subject: string; issuer: string; serialNumber: string }
}

export interface CsrExport {
  file: string
  der: Buffer
  pem: string
  sha256: string
  qrFile?: string
  qrSha256?: string
}

export interface CertificateImport {
  subject: string
  issuer: string
  serialNumber: string
  sha256: string
  chain: Array<{ subject: string; sha256: string }>
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

function readState(dir: string): KeyCeremonyState {
  const file = join(dir, CEREMONY_STATE_FILE)
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KeyCeremonyState) : {}
}

/** A token key that signs data for the seal (SHA-256 on the host, ECDSA or PKCS#1 on the token). */
export function tokenSealSigner(driver: TokenDriver, key: { keyId: string; algorithm: KeyAlgorithm; publicKeyDer: Uint8Array }, location: string): SealSigner {
  const ec = key.algorithm === 'ec-p256'
  return {
    algorithm: ec ? 'ECDSA-SHA256' : 'RSA-SHA256',
    publicKeySpki: key.publicKeyDer,
    keyLocation: location,
    async sign(data) {
      const digest = createHash('sha256').update(data).digest()
      const signature = await driver.sign(key.keyId, ec ? 'ecdsa-sha256' : 'rsa-pkcs1-sha256', digest)
      return ec ? ecdsaRawToDer(signature) : signature
    },
  }
}

export class KeyCeremony {
  private loggedIn = false

  private constructor(
    readonly session: CeremonySession,
    readonly signer: Signer,
    private readonly db: WritableDb,
    private current: KeyCeremonyState,
  ) {}

  /** Opens the ceremony's signer (its own key configuration in the session folder). */
  static open(session: CeremonySession): KeyCeremony {
    const db = openDatabase(join(session.dir, 'keyconf.sqlite'))
    const signer = createSigner({ db, dataDir: join(session.dir, 'signer') })
    return new KeyCeremony(session, signer, db, readState(session.dir))
  }

  get state(): Readonly<KeyCeremonyState> {
    return this.current
  }

  private update(change: Partial<KeyCeremonyState>): void {
    this.current = { ...this.current, ...change }
    writeFileAtomic(join(this.session.dir, CEREMONY_STATE_FILE), `${JSON.stringify(this.current, null, 2)}\n`, 0o600)
  }

  private requireToken(): NonNullable<KeyCeremonyState['token']> {
    if (this.current.token === undefined) throw refusal('token-not-identified', {}, 'Identify the token first (identify-token)')
    return this.current.token
  }

  driver(): TokenDriver {
    return this.signer.driver(this.requireToken().tokenId)
  }

  /** Step: is the machine offline? Interfaces that are up make the step a recorded warning, not a stop. */
  checkOffline(actor: string, interfaces: Parameters<typeof checkOffline>[0] = networkInterfaces()): OfflineCheck {
    this.session.participant(actor)
    const check = checkOffline(interfaces)
    this.session.record({
      step: 'check-offline',
      title: check.offline ? 'Check the machine is offline' : 'Check the machine is offline: network interfaces are up',
      actor,
      outcome: check.offline ? 'done' : 'warning',
      details: { offline: check.offline, interfacesUp: check.interfacesUp, machine: describeMachine() },
    })
    return check
  }

  /** Step: load the PKCS#11 module, find the token by label and record what it says about itself. */
  async identifyToken(actor: string, input: { modulePath: string; tokenLabel: string }): Promise<TokenDetails> {
    this.session.participant(actor)
    if (this.current.token !== undefined) throw refusal('token-already-identified', { token: this.current.token.label }, `The token ${this.current.token.label} is already identified`)
    let details: TokenDetails
    let tokenId: string
    try {
      const info = await this.signer.addPkcs11Token(input.modulePath, { label: input.tokenLabel })
      tokenId = info.id
      const driver = this.signer.driver(info.id)
      if (driver.details === undefined) throw new SecurityServerError('unsupported', 'The token driver cannot describe its token')
      details = await driver.details()
    } catch (error) {
      this.session.record({
        step: 'identify-token', title: 'Identify the PKCS#11 module and token', actor, outcome: 'refused',
        details: { module: input.modulePath, token: input.tokenLabel, ...reasonDetails(error) },
      })
      throw error
    }
    const moduleBytes = readFileSync(input.modulePath)
    this.session.record({
      step: 'identify-token', title: 'Identify the PKCS#11 module and token', actor,
      details: { modulePath: input.modulePath, ...details },
      artifacts: [artifactOf(basename(input.modulePath), moduleBytes)],
    })
    this.update({ token: { tokenId, modulePath: input.modulePath, label: details.label, serialNumber: details.serialNumber } })
    return details
  }

  /** Step: log in to the token. The PIN goes to the device only; the transcript records that a login happened. */
  async login(actor: string, pin: string): Promise<void> {
    this.session.participant(actor)
    const token = this.requireToken()
    try {
      await this.signer.login(token.tokenId, pin)
    } catch (error) {
      this.session.record({ step: 'login', title: 'Log in to the token', actor, outcome: 'refused', details: { token: token.label, ...reasonDetails(error) } })
      throw error
    }
    this.loggedIn = true
    this.session.record({ step: 'login', title: 'Log in to the token', actor, details: { token: token.label, serialNumber: token.serialNumber } })
  }

  private requireLogin(): void {
    if (!this.loggedIn) throw refusal('login-first', {}, 'Log in to the token first', 'token_not_active')
  }

  /** Reads the key's attributes back from the device and refuses (deleting the key) when they are not as required. */
  private async checkedAttributes(driver: TokenDriver, keyId: string, deleteKey: () => Promise<void>): Promise<KeyAttributes> {
    if (driver.keyAttributes === undefined) throw new SecurityServerError('unsupported', 'The token driver cannot read key attributes')
    const attributes = await driver.keyAttributes(keyId)
    const wrong = Object.entries(REQUIRED_KEY_ATTRIBUTES).filter(([name, value]) => attributes[name as keyof KeyAttributes] !== value)
    if (wrong.length > 0) {
      await deleteKey()
      const attributes = wrong.map(([n, v]) => `${n}=${String(v)}`).join(', ')
      throw refusal('key-attributes-wrong', { attributes }, `The token did not honour ${attributes}; the key was deleted`, 'failed_to_generate_private_key')
    }
    return attributes
  }

  /** Step (dual control): generate the key pair on the token; the attributes read back are recorded. */
  async generateKey(
    actor: string,
    input: { label: string; algorithm?: KeyAlgorithm; usage?: KeyUsage },
    confirmations: PresentedConfirmation[],
  ): Promise<KeyInfo & { attributes: KeyAttributes }> {
    const token = this.requireToken()
    const algorithm = input.algorithm ?? 'ec-p256'
    const usage = input.usage ?? 'sign'
    const { result } = await this.session.controlled(
      {
        step: 'generate-key', title: `Generate the ${usage} key pair on the token`, actor, rule: KEY_DUAL_CONTROL, confirmations,
        details: { token: token.label, serialNumber: token.serialNumber, label: input.label, algorithm, usage },
      },
      async () => {
        this.requireLogin()
        if (this.current.key !== undefined) throw refusal('key-already-generated', { key: this.current.key.label }, `This ceremony already generated key ${this.current.key.label}`)
        const key = await this.signer.generateKey({ tokenId: token.tokenId, usage, algorithm, label: input.label })
        const attributes = await this.checkedAttributes(this.driver(), key.id, () => this.signer.deleteKey(key.id))
        const publicKeySha256 = sha256Of(key.publicKeyDer)
        this.update({ key: { keyId: key.id, label: input.label, algorithm, usage, publicKeySha256, attributes } })
        return {
          result: { ...key, attributes },
          details: { keyId: key.id, attributes, publicKeySha256 },
          artifacts: [artifactOf(`${input.label}.spki.der`, key.publicKeyDer)],
        }
      },
    )
    return result
  }

  /** Step (dual control): sign the CSR with the key and write it to the chosen folder, with a QR code when small. */
  async createCsr(
    actor: string,
    input: { subjectOf: MemberId | SecurityServerId; certificateProfile: string; outDir: string; fileName?: string },
    confirmations: PresentedConfirmation[],
  ): Promise<CsrExport> {
    const key = this.current.key
    const { result } = await this.session.controlled(
      {
        step: 'create-csr', title: 'Create the certificate request and export it to removable media', actor, rule: KEY_DUAL_CONTROL, confirmations,
        details: { keyId: key?.keyId, profile: input.certificateProfile, outDir: input.outDir },
      },
      async () => {
        this.requireLogin()
        if (key === undefined) throw refusal('key-missing', {}, 'Generate the key first')
        const csr = await this.signer.generateCsr({ keyId: key.keyId, subjectOf: input.subjectOf, certificateProfile: input.certificateProfile, format: 'pem' })
        mkdirSync(input.outDir, { recursive: true })
        const name = input.fileName ?? `${key.label}.csr.pem`
        const file = join(input.outDir, name)
        const pem = csr.encoded.toString('utf8')
        writeFileAtomic(file, pem, 0o644)
        const artifacts: Artifact[] = [artifactOf(name, csr.encoded), artifactOf(`${key.label}.csr.der`, csr.der)]
        const out: CsrExport = { file, der: csr.der, pem, sha256: sha256Of(csr.encoded) }
        let qrNote = `the CSR (${csr.encoded.length} bytes) is larger than ${QR_MAX_BYTES} bytes: no QR code`
        if (csr.encoded.length <= QR_MAX_BYTES) {
          const png = await qrCodes().toBuffer(pem, { type: 'png', errorCorrectionLevel: 'M', margin: 4 })
          const qrName = `${name}.qr.png`
          writeFileAtomic(join(input.outDir, qrName), png, 0o644)
          artifacts.push(artifactOf(qrName, png))
          out.qrFile = join(input.outDir, qrName)
          out.qrSha256 = sha256Of(png)
          qrNote = 'QR code of the PEM text written'
        }
        this.update({ csr: { file, sha256: out.sha256, ...(out.qrFile === undefined ? {} : { qrFile: out.qrFile }) } })
        return { result: out, details: { subject: csr.subject, file, qr: qrNote }, artifacts }
      },
    )
    return result
  }

  /**
   * Step: import the issued certificate from a file, checking it carries the ceremony key's public key and chains
   * to the given CA certificates (signature, issuer name, validity, CA basic constraints), then storing it.
   */
  async importCertificate(actor: string, input: { certificate: Uint8Array; certificateName: string; caCertificates: Array<{ name: string; bytes: Uint8Array }> }): Promise<CertificateImport> {
    this.session.participant(actor)
    const key = this.current.key
    const artifacts = [artifactOf(input.certificateName, input.certificate), ...input.caCertificates.map((c) => artifactOf(c.name, c.bytes))]
    const step = { step: 'import-certificate', title: 'Import the issued certificate and verify it against the key and the CA chain', actor }
    try {
      if (key === undefined) throw refusal('key-missing', {}, 'This ceremony has no key to import a certificate for')
      const result = verifyCertificate(input.certificate, input.caCertificates.map((c) => c.bytes), key)
      await this.signer.importCertificate(input.certificate, { approvedCaCertificates: input.caCertificates.map((c) => c.bytes) })
      this.session.record({
        ...step, artifacts,
        details: { keyId: key.keyId, subject: result.subject, issuer: result.issuer, serialNumber: result.serialNumber, publicKeyMatches: true, chain: result.chain },
      })
      this.update({ certificate: { file: input.certificateName, sha256: result.sha256, subject: result.subject, issuer: result.issuer, serialNumber: result.serialNumber } })
      return result
    } catch (error) {
      this.session.record({ ...step, outcome: 'refused', artifacts, details: reasonDetails(error) })
      throw error
    }
  }

  /**
   * Final step (dual control): a P-256 seal key generated on the token (its attributes checked like the ceremony
   * key's), then the seal. Without a token, a logged-in session or EC support, a software key seals, recorded as such.
   */
  async seal(actor: string, confirmations: PresentedConfirmation[]): Promise<TranscriptSeal> {
    const token = this.current.token
    const { result: signer } = await this.session.controlled(
      { step: 'prepare-seal', title: 'Generate the key that seals this transcript', actor, rule: KEY_DUAL_CONTROL, confirmations },
      async () => {
        const unavailable = token === undefined ? { reasonCode: 'seal-no-token', reason: 'no token was identified' }
          : !this.loggedIn ? { reasonCode: 'seal-token-logged-out', reason: 'the token is not logged in' }
            : undefined
        const driver = token === undefined ? undefined : this.driver()
        const mechanisms = driver?.details === undefined ? [] : (await driver.details()).mechanisms
        const why = unavailable ?? (mechanisms.includes('CKM_EC_KEY_PAIR_GEN') && mechanisms.includes('CKM_ECDSA') ? undefined
          : { reasonCode: 'seal-no-ec', reason: 'the token has no EC P-256 signing' })
        if (why !== undefined || token === undefined || driver === undefined) {
          const software = softwareSealSigner()
          return {
            result: software as SealSigner,
            outcome: 'warning' as const,
            details: { location: software.keyLocation, reason: why?.reason, reasonCode: why?.reasonCode, publicKeySha256: sha256Hex(software.publicKeySpki) },
          }
        }
        const label = `ceremony-seal-${this.session.transcript.ceremony.id.slice(0, 8)}`
        const key = await driver.generateKey('ec-p256', label)
        const attributes = await this.checkedAttributes(driver, key.keyId, () => driver.deleteKey(key.keyId))
        const location = `PKCS#11 token ${token.label} (serial ${token.serialNumber}), key ${key.keyId}`
        return {
          result: tokenSealSigner(driver, key, location),
          details: { location, keyId: key.keyId, label, attributes, publicKeySha256: sha256Hex(key.publicKeyDer) },
          artifacts: [artifactOf(`${label}.spki.der`, key.publicKeyDer)],
        }
      },
    )
    return this.session.seal(signer)
  }

  async close(): Promise<void> {
    await this.signer.close()
    closeDatabase(this.db)
  }
}

/** Checks an issued certificate against the ceremony key and a CA chain, with Node's X.509 (no network). */
export function verifyCertificate(certificate: Uint8Array, caCertificates: readonly Uint8Array[], key: { publicKeySha256: string }, at = new Date()): CertificateImport {
  /** `ca`: the position of a CA certificate among those given (1, 2…), 0 for the issued certificate. */
  const parse = (bytes: Uint8Array, ca: number): X509Certificate => {
    try {
      return new X509Certificate(Buffer.from(bytes))
    } catch (cause) {
      const what = ca === 0 ? 'certificate' : `CA certificate ${ca}`
      throw new CeremonyRefusal('incorrect_certificate', 'certificate-unreadable', { ca }, `The ${what} is not a PEM or DER certificate`, { cause })
    }
  }
  const leaf = parse(certificate, 0)
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' })
  if (sha256Of(spki) !== key.publicKeySha256) {
    throw refusal('certificate-wrong-key', {}, 'The certificate does not carry the public key generated in this ceremony', 'incorrect_certificate')
  }
  const cas = caCertificates.map((c, i) => parse(c, i + 1))
  if (cas.length === 0) throw refusal('ca-certificate-missing', {}, 'Give the CA certificate to verify the chain against', 'validation_failed')
  const chain: Array<{ subject: string; sha256: string }> = []
  const within = (c: X509Certificate): boolean => new Date(c.validFrom) <= at && at <= new Date(c.validTo)
  if (!within(leaf)) {
    throw refusal('certificate-not-valid-now', { validFromAt: new Date(leaf.validFrom).toISOString(), validToAt: new Date(leaf.validTo).toISOString() },
      `The certificate is not valid now (${leaf.validFrom} – ${leaf.validTo})`, 'cert_validation')
  }
  let current = leaf
  // RFC 5280 §6.1: each certificate is issued by the next (name and signature), every issuer is a CA, all are valid now.
  for (let depth = 0; depth <= cas.length; depth++) {
    const issuer = cas.find((c) => current.checkIssued(c) && current.verify(c.publicKey))
    const subject = current.subject.replace(/\n/g, ', ')
    if (issuer === undefined) throw refusal('certificate-issuer-missing', { subject }, `No given CA certificate issued ${subject} (signature or issuer name)`, 'cert_validation')
    const issuerSubject = issuer.subject.replace(/\n/g, ', ')
    if (!issuer.ca) throw refusal('issuer-not-ca', { subject: issuerSubject }, `${issuerSubject} is not a CA certificate`, 'cert_validation')
    if (!within(issuer)) throw refusal('ca-not-valid-now', { subject: issuerSubject }, `The CA certificate ${issuerSubject} is not valid now`, 'cert_validation')
    chain.push({ subject: issuer.subject.replace(/\n/g, ', '), sha256: sha256Of(issuer.raw) })
    if (issuer.checkIssued(issuer) && issuer.verify(issuer.publicKey)) {
      return {
        subject: leaf.subject.replace(/\n/g, ', '), issuer: leaf.issuer.replace(/\n/g, ', '), serialNumber: leaf.serialNumber,
        sha256: sha256Of(leaf.raw), chain,
      }
    }
    current = issuer
  }
  throw refusal('chain-incomplete', {}, 'The chain does not end at a self-signed CA certificate among those given', 'cert_validation')
}
