import 'reflect-metadata'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import * as asnX509 from '@peculiar/asn1-x509'
import * as x509 from '@peculiar/x509'
import {
  describeIdentifier,
  identifierEquals,
  encodeIdentifier,
  decodeIdentifier,
  globalGroupId,
  memberId as makeMemberId,
  memberOf,
  securityServerId as makeSecurityServerId,
  subsystemId as makeSubsystemId,
  validateIdentifierPart,
  type ClientId,
  type GlobalGroupId,
  type MemberId,
  type SecurityServerId,
} from '@shared/domain/identifiers'
import {
  SecurityServerError,
  clientError,
  closeDatabase,
  inTransaction,
  migrate,
  openDatabase,
  systemClock,
  writeFileAtomic,
  type Clock,
  type WritableDb,
} from '../platform'
import { labMigrations } from './migrations'
import * as repo from './lab-repository'
import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  FileKeySigner,
  KeyUsage,
  KeyUsagesExtension,
  LAB_KEY_ALGORITHMS,
  OID,
  buildCertificate,
  certificateFromInput,
  certificateToPem,
  generateLabKey,
  nameDer,
  ocspNoCheckExtension,
  parseCertificate,
  privateKeyFromPem,
  privateKeyToPem,
  randomSerial,
  serialHex,
  sha256,
  spkiOf,
  type CaSigner,
  type ExternalCaKey,
  type LabKeyAlgorithm,
  type SignatureAlgorithmName,
} from './lab-pki'
import type { ManagementVerificationContext, VerifiedManagementRequest } from './management-service'
import { anchorXml, fetchIntervalXml, privateParametersXml, sharedParametersXml } from './configuration-xml'
import { buildSignedDirectory } from './signed-directory'

/**
 * The lab authority: one trust domain on one machine. `initLab` creates the CA, OCSP responder, TSA and
 * configuration-signing keys plus the anchors; `openLab` gives the registry operations (members, certificates,
 * security servers, clients, global groups), each approved at once and followed by a new signed configuration.
 */
export const LAB_DB_FILE = 'lab.sqlite'
export const CONFIGURATION_VERSION = 6
export const DEFAULT_CONF_EXPIRE_SECONDS = 600
export const DEFAULT_LAB_PORTS = { conf: 18080, ocsp: 18888, tsa: 18899 } as const

/** The management service provider until the lab operator designates a management security server (its owner's MANAGEMENT then). */
export const MANAGEMENT_PROVIDER = { memberClass: 'ORG', memberCode: 'LAB', subsystemCode: 'MANAGEMENT' } as const
/** X-Road's DEFAULT_SECURITY_SERVER_OWNERS_GROUP: every server owner joins it when its first server is registered. */
export const SECURITY_SERVER_OWNERS_GROUP = 'security-server-owners'

/** Member classes of a fresh lab (descriptions as in X-Road's DEV instance). */
const DEFAULT_MEMBER_CLASSES = [
  { code: 'COM', description: 'Commercial' },
  { code: 'GOV', description: 'Governmental organisations' },
  { code: 'ORG', description: 'Non-profit organisations' },
]

export interface LabPaths {
  dir: string
  db: string
  caCert: string
  ocspCert: string
  tsaCert: string
  internalConfCert: string
  externalConfCert: string
  caKey: string
  ocspKey: string
  tsaKey: string
  internalConfKey: string
  externalConfKey: string
  anchor: string
  anchorExternal: string
  publicRoot: string
}

export function labPaths(dir: string): LabPaths {
  const keys = join(dir, 'keys')
  return {
    dir,
    db: join(dir, LAB_DB_FILE),
    caCert: join(dir, 'ca.pem'),
    ocspCert: join(dir, 'ocsp.pem'),
    tsaCert: join(dir, 'tsa.pem'),
    internalConfCert: join(dir, 'conf-internal.pem'),
    externalConfCert: join(dir, 'conf-external.pem'),
    caKey: join(keys, 'ca.key.pem'),
    ocspKey: join(keys, 'ocsp.key.pem'),
    tsaKey: join(keys, 'tsa.key.pem'),
    internalConfKey: join(keys, 'conf-internal.key.pem'),
    externalConfKey: join(keys, 'conf-external.key.pem'),
    anchor: join(dir, 'anchor.xml'),
    anchorExternal: join(dir, 'anchor-external.xml'),
    publicRoot: join(dir, 'public'),
  }
}

export interface InitLabOptions {
  instance?: string
  keyAlgorithm?: LabKeyAlgorithm
  force?: boolean
  confExpireSeconds?: number
  clock?: Clock
  /**
   * The CA key held outside the lab (on a PKCS#11 token, from an offline CA ceremony): the CA certificate is
   * self-signed with it and no CA key file is written; open the lab later with `openLab(dir, { caSigner })`.
   */
  caKey?: ExternalCaKey
}

export interface InitLabResult {
  dir: string
  instance: string
  keyAlgorithm: LabKeyAlgorithm
  caCertificate: string
  anchor: string
  anchorExternal: string
  anchorSha256: string
}

const YEAR_MS = 365 * 24 * 3600 * 1000
/** RFC 5280 §4.2.1.3 id-ce-keyUsage. */
const OID_KEY_USAGE = '2.5.29.15'

/** Creates a lab in `dir`. Refuses an existing lab unless `force`; the database is put in place last, so a lab is all or nothing. */
export async function initLab(dir: string, options: InitLabOptions = {}): Promise<InitLabResult> {
  const instance = validateIdentifierPart('xRoadInstance', options.instance ?? 'LAB')
  const keyAlgorithm = options.keyAlgorithm ?? 'ec-p256'
  if (!LAB_KEY_ALGORITHMS.includes(keyAlgorithm)) {
    throw clientError('validation_failed', `Unknown key algorithm '${String(keyAlgorithm)}' (use ${LAB_KEY_ALGORITHMS.join(' or ')})`)
  }
  const paths = labPaths(dir)
  if (existsSync(paths.db) && !options.force) {
    throw clientError('already_initialized', `${dir} already holds a lab; use --force to replace it`)
  }
  const now = (options.clock ?? systemClock).now()
  mkdirSync(dir, { recursive: true })
  if (options.force) {
    for (const f of [paths.db, `${paths.db}-wal`, `${paths.db}-shm`]) rmSync(f, { force: true })
    rmSync(paths.publicRoot, { recursive: true, force: true })
  }

  const external = options.caKey
  const [caKey, ocspKey, tsaKey, internalKey, externalKey] = await Promise.all([
    external === undefined ? generateLabKey(keyAlgorithm) : undefined,
    generateLabKey(keyAlgorithm),
    generateLabKey(keyAlgorithm),
    generateLabKey(keyAlgorithm),
    generateLabKey(keyAlgorithm),
  ])
  const caSubject = nameDer(`C=${instance}, O=Gatehouse Lab, CN=Gatehouse Lab CA ${instance}`)
  const notBefore = new Date(now.getTime() - 60_000)
  // RFC 5280 §4.2.1.9/§4.2.1.3: a CA certificate has basicConstraints CA (critical) and keyCertSign + cRLSign.
  const caDer = await buildCertificate(
    {
      subject: caSubject,
      spki: external?.spki ?? spkiOf(caKey as KeyObject),
      notBefore,
      notAfter: new Date(now.getTime() + 20 * YEAR_MS),
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsage.keyCertSign | KeyUsage.cRLSign, true),
      ],
    },
    external === undefined ? { selfSign: caKey as KeyObject } : { selfSignExternal: external },
  )
  const ca: CaSigner = external === undefined
    ? new FileKeySigner(caDer, caKey as KeyObject)
    : { certificate: caDer, keyType: external.keyType, sign: (tbs, algorithm) => external.sign(tbs, algorithm) }
  // RFC 6960 §4.2.2.2: a delegated responder carries id-kp-OCSPSigning; §4.2.2.2.1: id-pkix-ocsp-nocheck.
  const ocspDer = await buildCertificate(
    {
      subject: nameDer(`C=${instance}, O=Gatehouse Lab, CN=Gatehouse Lab OCSP ${instance}`),
      spki: spkiOf(ocspKey),
      notBefore,
      notAfter: new Date(now.getTime() + 10 * YEAR_MS),
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsage.digitalSignature, true),
        new ExtendedKeyUsageExtension([OID.ekuOcspSigning], false),
        ocspNoCheckExtension(),
      ],
    },
    ca,
  )
  // RFC 3161 §2.3: the TSA certificate has exactly one EKU, id-kp-timeStamping, marked critical.
  const tsaDer = await buildCertificate(
    {
      subject: nameDer(`C=${instance}, O=Gatehouse Lab, CN=Gatehouse Lab TSA ${instance}`),
      spki: spkiOf(tsaKey),
      notBefore,
      notAfter: new Date(now.getTime() + 10 * YEAR_MS),
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsage.digitalSignature | KeyUsage.nonRepudiation, true),
        new ExtendedKeyUsageExtension([OID.ekuTimeStamping], true),
      ],
    },
    ca,
  )
  // X-Road's CS wraps each configuration signing key in a self-signed certificate valid 1970–2038 that is
  // only a public-key container (xroad-protocols.md §5.1).
  const confCert = (key: KeyObject, cn: string): Promise<Uint8Array> =>
    buildCertificate(
      {
        subject: nameDer(`CN=${cn}`),
        spki: spkiOf(key),
        notBefore: new Date(Date.UTC(1970, 0, 1)),
        notAfter: new Date(Date.UTC(2038, 0, 1)),
        serial: Uint8Array.of(1),
        extensions: [
          new BasicConstraintsExtension(true, undefined, true),
          new KeyUsagesExtension(KeyUsage.nonRepudiation | KeyUsage.keyCertSign, true),
        ],
      },
      { selfSign: key },
    )
  const internalDer = await confCert(internalKey, 'internalSigningKey')
  const externalDer = await confCert(externalKey, 'externalSigningKey')

  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 })
  chmodSync(join(dir, 'keys'), 0o700)
  if (caKey === undefined) rmSync(paths.caKey, { force: true })
  const keyFiles: Array<[string, KeyObject]> = [
    ...(caKey === undefined ? [] : [[paths.caKey, caKey] as [string, KeyObject]]),
    [paths.ocspKey, ocspKey],
    [paths.tsaKey, tsaKey],
    [paths.internalConfKey, internalKey],
    [paths.externalConfKey, externalKey],
  ]
  for (const [path, key] of keyFiles) writeFileAtomic(path, privateKeyToPem(key), 0o600)
  const certFiles: Array<[string, Uint8Array]> = [
    [paths.caCert, caDer],
    [paths.ocspCert, ocspDer],
    [paths.tsaCert, tsaDer],
    [paths.internalConfCert, internalDer],
    [paths.externalConfCert, externalDer],
  ]
  for (const [path, der] of certFiles) writeFileAtomic(path, certificateToPem(der), 0o644)

  const tmpDb = join(dir, `.${LAB_DB_FILE}.${process.pid}.tmp`)
  for (const f of [tmpDb, `${tmpDb}-wal`, `${tmpDb}-shm`]) rmSync(f, { force: true })
  const db = openDatabase(tmpDb)
  try {
    migrate(db, [labMigrations])
    inTransaction(db, () => {
      repo.insertSettings(db, {
        instance,
        keyAlgorithm,
        createdAt: now.toISOString(),
        confExpireSeconds: options.confExpireSeconds ?? DEFAULT_CONF_EXPIRE_SECONDS,
        ocspFreshnessSeconds: 3600,
        timeStampingIntervalSeconds: 60,
        confAddress: `127.0.0.1:${DEFAULT_LAB_PORTS.conf}`,
        ocspUrl: `http://127.0.0.1:${DEFAULT_LAB_PORTS.ocsp}`,
        tsaUrl: `http://127.0.0.1:${DEFAULT_LAB_PORTS.tsa}`,
      })
      for (const c of DEFAULT_MEMBER_CLASSES) repo.insertMemberClass(db, c.code, c.description)
      const issuedAt = now.toISOString()
      for (const [usage, der] of [['ca', caDer], ['ocsp', ocspDer], ['tsa', tsaDer]] as const) {
        const cert = parseCertificate(der)
        repo.insertCertificate(db, { serial: serialHex(cert.tbsCertificate.serialNumber), usage, subject: subjectText(der), der, issuedAt })
      }
    })
  } finally {
    closeDatabase(db)
  }
  rmSync(`${tmpDb}-wal`, { force: true })
  rmSync(`${tmpDb}-shm`, { force: true })
  renameSync(tmpDb, paths.db)

  const lab = openLab(dir, { clock: options.clock, caSigner: external === undefined ? undefined : ca })
  try {
    lab.regenerateConfiguration()
    const anchor = readFileSync(paths.anchor)
    return {
      dir,
      instance,
      keyAlgorithm,
      caCertificate: paths.caCert,
      anchor: paths.anchor,
      anchorExternal: paths.anchorExternal,
      anchorSha256: sha256(anchor).toString('hex').toUpperCase(),
    }
  } finally {
    lab.close()
  }
}

function caSpki(der: Uint8Array): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(parseCertificate(der).tbsCertificate.subjectPublicKeyInfo))
}

function subjectText(der: Uint8Array): string {
  return new x509.X509Certificate(der).subject
}

export interface IssuedCertificate {
  serial: string
  subject: string
  usage: 'sign' | 'auth'
  der: Uint8Array
  pem: string
}

/** A registered member with its subsystems. */
export interface LabMember {
  id: MemberId
  name: string
  subsystems: ClientId[]
}

/** A registered security server as global configuration lists it (§5.4): owner, code, address, auth-cert hashes, clients. */
export interface LabSecurityServer {
  id: SecurityServerId
  address: string
  /** SHA-256 of each authentication certificate's DER, base64. */
  authCertHashes: string[]
  clients: ClientId[]
  /** Of `clients`, those a clientDisable turned off: in the registry, not in global configuration. */
  disabledClients: ClientId[]
}

/** A certificate the lab issued (or holds: CA, OCSP, TSA), with its status. */
export interface LabCertificate {
  serial: string
  usage: repo.CertificateUsage
  subject: string
  der: Uint8Array
  issuedAt: string
  notBefore: Date
  notAfter: Date
  revokedAt: string | null
  revocationReason: number | null
  /** SHA-256 of the DER, base64: the authCertHash global configuration lists for an authentication certificate. */
  hash: string
}

export interface LabGlobalGroup {
  id: GlobalGroupId
  description: string
  members: ClientId[]
}

/** What the lab would issue for a CSR (`inspectCsr`). */
export interface CsrInspection {
  usage: 'sign' | 'auth'
  /** Where the usage came from: the CSR's keyUsage extension, the subject's shape, or the caller's choice. */
  usageFrom: 'key-usage' | 'subject' | 'chosen'
  /** The subject the CSR asked for. */
  requestedSubject: string
  /** The subject the certificate will carry. */
  subject: string
  keyAlgorithm: string
  /** The member a signing certificate is for. */
  member?: MemberId
  /** The security server code an authentication certificate is for. */
  serverCode?: string
}

export interface GeneratedConfiguration {
  version: number
  timestamp: string
  expireDate: Date
  internalconf: string
  externalconf: string
  sharedParams: string
  privateParams: string
}

/**
 * A signed export of the lab's issued certificates and their status, for an online responder that cannot reach the
 * offline CA: `payload` is JSON text, `signature` is the CA key's signature over its UTF-8 bytes.
 */
export const CERTIFICATE_STATUS_FORMAT = 'gatehouse-lab-certificate-status/1'

export interface CertificateStatusFile {
  format: typeof CERTIFICATE_STATUS_FORMAT
  payload: string
  signatureAlgorithm: SignatureAlgorithmName
  signature: string
}

interface CertificateStatusPayload {
  instance: string
  producedAt: string
  caCertificate: string
  certificates: Array<{ serial: string; usage: repo.CertificateUsage; subject: string; der: string; issuedAt: string; revokedAt: string | null; revocationReason: number | null }>
}

/** Opens an existing lab; `caSigner` supplies a CA key held on a PKCS#11 token (`initLab` with `caKey`). */
export function openLab(dir: string, options: { clock?: Clock; caSigner?: CaSigner } = {}): LabAuthority {
  const paths = labPaths(dir)
  if (!existsSync(paths.db)) throw clientError('not_initialized', `${dir} is not a lab (run 'gatehouse lab init ${dir}' first)`)
  const db = openDatabase(paths.db)
  try {
    migrate(db, [labMigrations])
  } catch (error) {
    closeDatabase(db)
    throw error
  }
  const lab = new LabAuthority(paths, db, options.clock ?? systemClock, options.caSigner)
  if (options.caSigner !== undefined && !Buffer.from(options.caSigner.certificate).equals(Buffer.from(lab.certificateDer('ca')))) {
    lab.close()
    throw clientError('incorrect_certificate', `The CA signer's certificate is not the CA certificate of the lab in ${dir}`)
  }
  return lab
}

export class LabAuthority {
  readonly instance: string

  constructor(
    readonly paths: LabPaths,
    private readonly db: WritableDb,
    private readonly clock: Clock,
    private readonly externalCa?: CaSigner,
  ) {
    const settings = repo.findSettings(db)
    if (settings === undefined) throw new SecurityServerError('not_initialized', `Lab database ${paths.db} has no settings`)
    this.instance = settings.instance
  }

  settings(): repo.LabSettings {
    return repo.findSettings(this.db) as repo.LabSettings
  }

  close(): void {
    closeDatabase(this.db)
  }

  /** The CA's signing key. A later offline ceremony replaces this with a key on a PKCS#11 token. */
  caSigner(): CaSigner {
    if (this.externalCa !== undefined) return this.externalCa
    if (!existsSync(this.paths.caKey)) {
      throw clientError('key_not_found', 'The lab CA key is held on a PKCS#11 token; open the lab with its CA signer to issue certificates')
    }
    return new FileKeySigner(this.certificateDer('ca'), privateKeyFromPem(readFileSync(this.paths.caKey, 'utf8')))
  }

  certificateDer(which: 'ca' | 'ocsp' | 'tsa' | 'conf-internal' | 'conf-external'): Uint8Array {
    const file = {
      ca: this.paths.caCert,
      ocsp: this.paths.ocspCert,
      tsa: this.paths.tsaCert,
      'conf-internal': this.paths.internalConfCert,
      'conf-external': this.paths.externalConfCert,
    }[which]
    return certificateFromInput(readFileSync(file, 'utf8'))
  }

  privateKey(which: 'ocsp' | 'tsa' | 'conf-internal' | 'conf-external'): KeyObject {
    const file = { ocsp: this.paths.ocspKey, tsa: this.paths.tsaKey, 'conf-internal': this.paths.internalConfKey, 'conf-external': this.paths.externalConfKey }[
      which
    ]
    return privateKeyFromPem(readFileSync(file, 'utf8'))
  }

  memberClasses(): Array<{ code: string; description: string }> {
    return repo.listMemberClasses(this.db)
  }

  // ---- registrations ------------------------------------------------------------------------------

  /** Registers a member, or adds a subsystem to a registered member. */
  addMember(id: MemberId, name: string, subsystemCode?: string): { member: MemberId; subsystem?: ClientId } {
    this.checkInstance(id.xRoadInstance)
    if (name.trim() === '') throw clientError('validation_failed', 'A member needs a name (--name)')
    const subsystem = subsystemCode === undefined ? undefined : makeSubsystemId(id.xRoadInstance, id.memberClass, id.memberCode, subsystemCode)
    inTransaction(this.db, () => {
      if (!this.memberClasses().some((c) => c.code === id.memberClass)) {
        throw clientError('validation_failed', `Unknown member class '${id.memberClass}' (known: ${this.memberClasses().map((c) => c.code).join(', ')})`)
      }
      let member = repo.findMember(this.db, id.memberClass, id.memberCode)
      if (member === undefined) {
        member = { id: repo.insertMember(this.db, id.memberClass, id.memberCode, name), memberClass: id.memberClass, memberCode: id.memberCode, name }
      } else if (subsystemCode === undefined) {
        throw clientError('conflict', `Member ${describeIdentifier(id)} is already registered`)
      }
      if (subsystemCode !== undefined) {
        if (repo.findSubsystem(this.db, member.id, subsystemCode) !== undefined) {
          throw clientError('conflict', `Subsystem ${describeIdentifier(subsystem as ClientId)} is already registered`)
        }
        repo.insertSubsystem(this.db, member.id, subsystemCode)
      }
    })
    this.regenerateConfiguration()
    return subsystem === undefined ? { member: makeMemberId(id.xRoadInstance, id.memberClass, id.memberCode) } : { member: id, subsystem }
  }

  /**
   * What the lab would issue for a CSR, without issuing: the usage (from the CSR's keyUsage extension, else the
   * subject's shape: the sign profile has O = member class, the auth profile has none), the subject the profile
   * yields, and the member or server code it names. Refuses what `issueCertificate` would refuse.
   */
  async inspectCsr(csrInput: Uint8Array | string, usage?: 'sign' | 'auth'): Promise<CsrInspection> {
    const csr = parseCsr(csrInput)
    if (!(await csr.verify())) throw clientError('incorrect_certificate', 'The CSR signature does not verify (proof of possession failed)')
    checkPublicKey(csr)
    const detected = detectUsage(csr)
    const chosen = usage ?? detected.usage
    const profile = this.profileSubject(csr, chosen)
    return {
      usage: chosen,
      usageFrom: usage === undefined ? detected.from : 'chosen',
      requestedSubject: csr.subject,
      keyAlgorithm: keyAlgorithmOf(csr),
      ...profile,
    }
  }

  /**
   * The subject of the EJBCA certificate profile X-Road ships (`EjbcaSignCertificateProfileInfo`: C=instance,
   * O=member class, CN=member code; `EjbcaAuthCertificateProfileInfo`: C=instance, CN=server code), rebuilt from the
   * CSR's checked values.
   */
  private profileSubject(csr: x509.Pkcs10CertificateRequest, usage: 'sign' | 'auth'): { subject: string; member?: MemberId; serverCode?: string } {
    const fields = subjectFields(csr)
    const allowed = ['C', 'O', 'CN']
    const unexpected = [...fields.keys()].filter((k) => !allowed.includes(k))
    if (unexpected.length > 0) {
      throw clientError('validation_failed', `The CSR subject has attributes the ${usage} profile does not allow: ${unexpected.join(', ')}`)
    }
    const c = singleField(fields, 'C')
    this.checkInstance(c)
    if (usage === 'sign') {
      const memberClass = singleField(fields, 'O')
      const memberCode = singleField(fields, 'CN')
      const id = makeMemberId(c, memberClass, memberCode)
      if (repo.findMember(this.db, memberClass, memberCode) === undefined) {
        throw clientError('unknown_member', `Member ${describeIdentifier(id)} is not registered in the lab`)
      }
      return { subject: `C=${c}, O=${memberClass}, CN=${memberCode}`, member: id }
    }
    const serverCode = validateIdentifierPart('serverCode', singleField(fields, 'CN'))
    const org = fields.get('O')
    return { subject: org === undefined ? `C=${c}, CN=${serverCode}` : `C=${c}, O=${singleField(fields, 'O')}, CN=${serverCode}`, serverCode }
  }

  /**
   * Issues a certificate for a PKCS#10 request (PEM or DER) per the EJBCA certificate profile X-Road ships
   * (`EjbcaSignCertificateProfileInfo`: C=instance, O=member class, CN=member code; `EjbcaAuthCertificateProfileInfo`:
   * C=instance, CN=server code; see `profileSubject`). CSR extensions are not copied.
   */
  async issueCertificate(csrInput: Uint8Array | string, usage: 'sign' | 'auth'): Promise<IssuedCertificate> {
    if (usage !== 'sign' && usage !== 'auth') throw clientError('validation_failed', `Unknown usage '${String(usage)}' (sign or auth)`, { detail: 'usage' })
    const csr = parseCsr(csrInput)
    if (!(await csr.verify())) throw clientError('incorrect_certificate', 'The CSR signature does not verify (proof of possession failed)')
    checkPublicKey(csr)
    const { subject } = this.profileSubject(csr, usage)
    const now = this.clock.now()
    const extensions: x509.Extension[] =
      usage === 'sign'
        ? // X-Road signing certificates carry nonRepudiation (certificate profile, PR-MESS §2.3 signing key use).
          [new BasicConstraintsExtension(false, undefined, true), new KeyUsagesExtension(KeyUsage.nonRepudiation, true)]
        : // Authentication certificates are TLS client and server certificates (PR-MESSTRANSP §2.1).
          [
            new BasicConstraintsExtension(false, undefined, true),
            new KeyUsagesExtension(KeyUsage.digitalSignature | KeyUsage.keyEncipherment, true),
            new ExtendedKeyUsageExtension([OID.ekuClientAuth, OID.ekuServerAuth], false),
          ]
    const serial = randomSerial()
    const der = await buildCertificate(
      {
        subject: nameDer(subject),
        spki: new Uint8Array(csr.publicKey.rawData),
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 2 * YEAR_MS),
        extensions,
        serial,
      },
      this.caSigner(),
    )
    const issued: IssuedCertificate = { serial: serialHex(serial), subject: subjectText(der), usage, der, pem: certificateToPem(der) }
    inTransaction(this.db, () => repo.insertCertificate(this.db, { serial: issued.serial, usage, subject: issued.subject, der, issuedAt: now.toISOString() }))
    return issued
  }

  /** Revokes a certificate the lab issued (RFC 5280 §5.3.1 reason code, default unspecified). */
  revoke(certInput: Uint8Array | string, reason = 0): { serial: string; subject: string; revokedAt: string; alreadyRevoked: boolean } {
    const der = certificateFromInput(certInput)
    const row = this.findIssued(der)
    if (row.usage === 'ca') throw clientError('validation_failed', 'The lab CA certificate cannot revoke itself')
    if (row.revokedAt !== null) return { serial: row.serial, subject: row.subject, revokedAt: row.revokedAt, alreadyRevoked: true }
    const at = this.clock.now().toISOString()
    inTransaction(this.db, () => repo.markRevoked(this.db, row.serial, at, reason))
    return { serial: row.serial, subject: row.subject, revokedAt: at, alreadyRevoked: false }
  }

  /** Every certificate the lab issued, with its status, signed with the CA key (for an online responder to import). */
  async exportCertificateStatus(): Promise<CertificateStatusFile> {
    const ca = this.caSigner()
    const payload: CertificateStatusPayload = {
      instance: this.instance,
      producedAt: this.clock.now().toISOString(),
      caCertificate: Buffer.from(ca.certificate).toString('base64'),
      certificates: repo.listCertificates(this.db).map((c) => ({ ...c, der: Buffer.from(c.der).toString('base64') })),
    }
    const text = JSON.stringify(payload)
    const signatureAlgorithm: SignatureAlgorithmName = ca.keyType === 'ec' ? 'ecdsa-sha256' : 'rsa-sha256'
    const signature = await ca.sign(Buffer.from(text, 'utf8'), signatureAlgorithm)
    return { format: CERTIFICATE_STATUS_FORMAT, payload: text, signatureAlgorithm, signature: Buffer.from(signature).toString('base64') }
  }

  /**
   * Loads a status file exported by the offline CA of this lab: checks the CA signature against this lab's CA
   * certificate, adds the certificates it does not know and records revocations, so the OCSP responder answers for them.
   */
  importCertificateStatus(file: CertificateStatusFile): { added: number; revoked: number } {
    const caDer = this.certificateDer('ca')
    if (file.format !== CERTIFICATE_STATUS_FORMAT || typeof file.payload !== 'string' || typeof file.signature !== 'string') {
      throw clientError('validation_failed', 'The file is not a lab certificate status export')
    }
    const key = createPublicKey({ key: Buffer.from(caSpki(caDer)), format: 'der', type: 'spki' })
    const ok = verifySignature('sha256', Buffer.from(file.payload, 'utf8'), key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key, Buffer.from(file.signature, 'base64'))
    if (!ok || !file.signatureAlgorithm.endsWith('sha256')) throw clientError('incorrect_certificate', 'The status file is not signed by this lab\'s CA')
    const payload = JSON.parse(file.payload) as CertificateStatusPayload
    if (payload.instance !== this.instance || !Buffer.from(payload.caCertificate, 'base64').equals(Buffer.from(caDer))) {
      throw clientError('incorrect_certificate', 'The status file is for another CA')
    }
    let added = 0
    let revoked = 0
    inTransaction(this.db, () => {
      for (const c of payload.certificates) {
        const existing = repo.findCertificate(this.db, c.serial)
        if (existing === undefined) {
          repo.insertCertificate(this.db, { serial: c.serial, usage: c.usage, subject: c.subject, der: Buffer.from(c.der, 'base64'), issuedAt: c.issuedAt })
          added++
        } else if (!Buffer.from(existing.der).equals(Buffer.from(c.der, 'base64'))) {
          throw clientError('conflict', `Serial ${c.serial} is already recorded for another certificate`)
        }
        if (c.revokedAt !== null && existing?.revokedAt == null) {
          repo.markRevoked(this.db, c.serial, c.revokedAt, c.revocationReason ?? 0)
          revoked++
        }
      }
    })
    return { added, revoked }
  }

  /** The status the OCSP responder reports for a serial number (hex, upper case) of this CA. */
  certificateStatus(serial: string): { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason: number } | { status: 'unknown' } {
    const row = repo.findCertificate(this.db, serial)
    if (row === undefined) return { status: 'unknown' }
    if (row.revokedAt !== null) return { status: 'revoked', revokedAt: new Date(row.revokedAt), reason: row.revocationReason ?? 0 }
    return { status: 'good' }
  }

  private findIssued(der: Uint8Array): repo.CertificateRow {
    const cert = parseCertificate(der)
    const caSubject = parseCertificate(this.certificateDer('ca')).tbsCertificate.subject
    if (!Buffer.from(AsnConvert.serialize(cert.tbsCertificate.issuer)).equals(Buffer.from(AsnConvert.serialize(caSubject)))) {
      throw clientError('incorrect_certificate', 'The certificate was not issued by this lab CA')
    }
    const row = repo.findCertificate(this.db, serialHex(cert.tbsCertificate.serialNumber))
    if (row === undefined || !Buffer.from(row.der).equals(Buffer.from(der))) {
      throw clientError('cert_not_found', 'The lab has no record of issuing this certificate')
    }
    return row
  }

  /** Registers a security server (or another auth certificate of it); authCertHash = SHA-256 of the DER (§5.4, V3+). */
  addSecurityServer(owner: MemberId, serverCode: string, address: string, authCertInput: Uint8Array | string): { server: SecurityServerId; authCertHash: string } {
    this.checkInstance(owner.xRoadInstance)
    validateIdentifierPart('serverCode', serverCode)
    checkServerAddress(address)
    const der = certificateFromInput(authCertInput)
    const row = this.findIssued(der)
    if (row.usage !== 'auth') throw clientError('wrong_cert_usage', 'The certificate is not an authentication certificate', { detail: 'certificate' })
    if (row.revokedAt !== null) throw clientError('cert_validation', 'The authentication certificate is revoked', { detail: 'certificate' })
    const cn = new x509.X509Certificate(der).subjectName.getField('CN')[0]
    if (cn !== serverCode) {
      throw clientError('validation_failed', `The authentication certificate is for server code '${cn ?? ''}', not '${serverCode}'`, { detail: 'serverCode' })
    }
    const hash = sha256(der).toString('base64')
    inTransaction(this.db, () => {
      const member = this.requireMember(owner)
      const existing = repo.findSecurityServer(this.db, member.id, serverCode)
      if (existing !== undefined && repo.listAuthCertHashes(this.db).some((h) => h.serverId === existing.id && h.certHash === hash)) {
        throw clientError('conflict', `Security server ${serverCode} of ${describeIdentifier(owner)} is already registered with this certificate`)
      }
      const serverId = existing?.id ?? repo.insertSecurityServer(this.db, member.id, serverCode, address.trim())
      repo.insertAuthCertHash(this.db, serverId, hash)
    })
    this.regenerateConfiguration()
    return { server: { objectType: 'SERVER', xRoadInstance: owner.xRoadInstance, memberClass: owner.memberClass, memberCode: owner.memberCode, serverCode }, authCertHash: hash }
  }

  /** Registers `client` (member or subsystem) on a security server; the owner member is implicitly a client (§5.4). */
  addClient(server: SecurityServerId, client: ClientId): void {
    this.checkInstance(server.xRoadInstance)
    this.checkInstance(client.xRoadInstance)
    inTransaction(this.db, () => {
      const owner = this.requireMember(makeMemberId(server.xRoadInstance, server.memberClass, server.memberCode))
      const ss = repo.findSecurityServer(this.db, owner.id, server.serverCode)
      if (ss === undefined) throw clientError('invalid_security_server', `Security server ${describeIdentifier(server)} is not registered`)
      const member = this.requireMember(makeMemberId(client.xRoadInstance, client.memberClass, client.memberCode))
      const subsystemId = client.objectType === 'SUBSYSTEM' ? this.requireSubsystem(member.id, client).id : null
      if (subsystemId === null && member.id === owner.id) {
        throw clientError('conflict', `${describeIdentifier(client)} owns ${describeIdentifier(server)} and is its client implicitly`)
      }
      if (repo.hasServerClient(this.db, ss.id, member.id, subsystemId)) {
        throw clientError('conflict', `${describeIdentifier(client)} is already a client of ${describeIdentifier(server)}`)
      }
      repo.insertServerClient(this.db, ss.id, member.id, subsystemId)
    })
    this.regenerateConfiguration()
  }

  /** True when the member (and, for a subsystem, the subsystem) is registered in the lab. */
  isRegistered(client: ClientId): boolean {
    if (client.xRoadInstance !== this.instance) return false
    const member = repo.findMember(this.db, client.memberClass, client.memberCode)
    if (member === undefined) return false
    return client.objectType !== 'SUBSYSTEM' || repo.findSubsystem(this.db, member.id, client.subsystemCode) !== undefined
  }

  addGlobalGroup(group: GlobalGroupId, description: string): void {
    this.checkInstance(group.xRoadInstance)
    if (description.trim() === '') throw clientError('validation_failed', 'A global group needs a description')
    inTransaction(this.db, () => {
      if (repo.findGlobalGroup(this.db, group.groupCode) !== undefined) throw clientError('conflict', `Global group ${group.groupCode} already exists`)
      repo.insertGlobalGroup(this.db, group.groupCode, description)
    })
    this.regenerateConfiguration()
  }

  addGlobalGroupMember(groupCode: string, client: ClientId): void {
    this.checkInstance(client.xRoadInstance)
    inTransaction(this.db, () => {
      if (repo.findGlobalGroup(this.db, groupCode) === undefined) throw clientError('not_found', `Global group ${groupCode} does not exist`)
      const member = this.requireMember(makeMemberId(client.xRoadInstance, client.memberClass, client.memberCode))
      if (client.objectType === 'SUBSYSTEM') this.requireSubsystem(member.id, client)
      if (!repo.insertGroupMember(this.db, groupCode, encodeIdentifier(client))) {
        throw clientError('conflict', `${describeIdentifier(client)} is already in global group ${groupCode}`)
      }
    })
    this.regenerateConfiguration()
  }

  // ---- reading ---------------------------------------------------------------------------------------

  listMembers(): LabMember[] {
    const subsystems = repo.listSubsystems(this.db)
    return repo.listMembers(this.db).map((m) => ({
      id: makeMemberId(this.instance, m.memberClass, m.memberCode),
      name: m.name,
      subsystems: subsystems.filter((x) => x.memberId === m.id).map((x) => makeSubsystemId(this.instance, m.memberClass, m.memberCode, x.subsystemCode)),
    }))
  }

  listSecurityServers(): LabSecurityServer[] {
    const members = new Map(repo.listMembers(this.db).map((m) => [m.id, m]))
    const subsystems = new Map(repo.listSubsystems(this.db).map((x) => [x.id, x]))
    const hashes = repo.listAuthCertHashes(this.db)
    const clients = repo.listServerClients(this.db)
    const clientId = (memberKey: number, subsystemKey: number | null): ClientId => {
      const m = members.get(memberKey) as repo.MemberRow
      const sub = subsystemKey === null ? undefined : subsystems.get(subsystemKey)
      return sub === undefined ? makeMemberId(this.instance, m.memberClass, m.memberCode) : makeSubsystemId(this.instance, m.memberClass, m.memberCode, sub.subsystemCode)
    }
    return repo.listSecurityServers(this.db).map((ss) => {
      const owner = members.get(ss.ownerId) as repo.MemberRow
      return {
        id: makeSecurityServerId(makeMemberId(this.instance, owner.memberClass, owner.memberCode), ss.serverCode),
        address: ss.address,
        authCertHashes: hashes.filter((h) => h.serverId === ss.id).map((h) => h.certHash),
        clients: clients.filter((c) => c.serverId === ss.id).map((c) => clientId(c.memberId, c.subsystemId)),
        disabledClients: clients.filter((c) => c.serverId === ss.id && !c.enabled).map((c) => clientId(c.memberId, c.subsystemId)),
      }
    })
  }

  listCertificates(): LabCertificate[] {
    return repo.listCertificates(this.db).map(toLabCertificate)
  }

  /** One certificate by serial number (hex, as listed). @throws cert_not_found */
  certificate(serial: string): LabCertificate {
    const row = repo.findCertificate(this.db, serial.toUpperCase())
    if (row === undefined) throw clientError('cert_not_found', `The lab has issued no certificate with serial number ${serial}`, { detail: 'serial' })
    return toLabCertificate(row)
  }

  listGlobalGroups(): LabGlobalGroup[] {
    const members = repo.listGroupMembers(this.db)
    return repo.listGlobalGroups(this.db).map((g) => ({
      id: globalGroupId(this.instance, g.groupCode),
      description: g.description,
      members: members.filter((m) => m.groupCode === g.groupCode).map((m) => decodeIdentifier(m.client) as ClientId),
    }))
  }

  // ---- changes and removals -----------------------------------------------------------------------------

  /** Adds a subsystem to a registered member. */
  addSubsystem(subsystem: ClientId & { objectType: 'SUBSYSTEM' }): void {
    this.checkInstance(subsystem.xRoadInstance)
    inTransaction(this.db, () => {
      const member = this.requireMember(makeMemberId(subsystem.xRoadInstance, subsystem.memberClass, subsystem.memberCode))
      if (repo.findSubsystem(this.db, member.id, subsystem.subsystemCode) !== undefined) {
        throw clientError('conflict', `Subsystem ${describeIdentifier(subsystem)} is already registered`, { detail: 'subsystemCode' })
      }
      repo.insertSubsystem(this.db, member.id, subsystem.subsystemCode)
    })
    this.regenerateConfiguration()
  }

  /**
   * Deletes a subsystem no security server serves (X-Road's CS refuses to delete a registered subsystem); its global
   * group memberships go with it.
   */
  deleteSubsystem(subsystem: ClientId & { objectType: 'SUBSYSTEM' }): void {
    this.checkInstance(subsystem.xRoadInstance)
    inTransaction(this.db, () => {
      const member = this.requireMember(makeMemberId(subsystem.xRoadInstance, subsystem.memberClass, subsystem.memberCode))
      const row = this.requireSubsystem(member.id, subsystem)
      const servers = this.serversServing(member.id, row.id)
      if (servers.length > 0) {
        throw clientError('conflict', `Subsystem ${describeIdentifier(subsystem)} is a client of ${servers.join(', ')}; remove it from there first`)
      }
      repo.deleteGroupMemberships(this.db, encodeIdentifier(subsystem))
      repo.deleteSubsystem(this.db, row.id)
    })
    this.regenerateConfiguration()
  }

  /**
   * Deletes a member that owns no security server and is not (nor any of its subsystems) a client of one; its
   * subsystems and global group memberships go with it.
   */
  deleteMember(id: MemberId): void {
    this.checkInstance(id.xRoadInstance)
    inTransaction(this.db, () => {
      const member = this.requireMember(id)
      const owned = repo.listSecurityServers(this.db).filter((ss) => ss.ownerId === member.id).map((ss) => describeIdentifier(makeSecurityServerId(id, ss.serverCode)))
      if (owned.length > 0) throw clientError('conflict', `Member ${describeIdentifier(id)} owns ${owned.join(', ')}; delete the server first`)
      const subsystems = repo.listSubsystems(this.db).filter((x) => x.memberId === member.id)
      const serving = [...new Set([null, ...subsystems.map((x) => x.id)].flatMap((sub) => this.serversServing(member.id, sub)))]
      if (serving.length > 0) {
        throw clientError('conflict', `Member ${describeIdentifier(id)} or one of its subsystems is a client of ${serving.join(', ')}; remove it from there first`)
      }
      repo.deleteGroupMemberships(this.db, encodeIdentifier(id))
      for (const x of subsystems) repo.deleteGroupMemberships(this.db, encodeIdentifier(makeSubsystemId(id.xRoadInstance, id.memberClass, id.memberCode, x.subsystemCode)))
      repo.deleteMember(this.db, member.id)
    })
    this.regenerateConfiguration()
  }

  /** Changes the address other servers reach a security server on. */
  setSecurityServerAddress(server: SecurityServerId, address: string): void {
    checkServerAddress(address)
    inTransaction(this.db, () => repo.updateServerAddress(this.db, this.requireServer(server).id, address.trim()))
    this.regenerateConfiguration()
  }

  /** Deletes a security server with its authentication certificates and client registrations. */
  deleteSecurityServer(server: SecurityServerId): void {
    inTransaction(this.db, () => repo.deleteSecurityServer(this.db, this.requireServer(server).id))
    this.regenerateConfiguration()
  }

  /** Removes one authentication certificate (by its base64 SHA-256 hash) from a security server. */
  deleteAuthCertificate(server: SecurityServerId, hash: string): void {
    inTransaction(this.db, () => {
      if (!repo.deleteAuthCertHash(this.db, this.requireServer(server).id, hash)) {
        throw clientError('cert_not_found', `${describeIdentifier(server)} has no authentication certificate with hash ${hash}`, { detail: 'hash' })
      }
    })
    this.regenerateConfiguration()
  }

  /** Removes a client registration from a security server. */
  removeClient(server: SecurityServerId, client: ClientId): void {
    this.checkInstance(client.xRoadInstance)
    inTransaction(this.db, () => {
      const ss = this.requireServer(server)
      const member = this.requireMember(makeMemberId(client.xRoadInstance, client.memberClass, client.memberCode))
      const subsystemId = client.objectType === 'SUBSYSTEM' ? this.requireSubsystem(member.id, client).id : null
      if (!repo.deleteServerClient(this.db, ss.id, member.id, subsystemId)) {
        throw clientError('not_found', `${describeIdentifier(client)} is not a client of ${describeIdentifier(server)}`, { detail: 'client' })
      }
    })
    this.regenerateConfiguration()
  }

  deleteGlobalGroup(groupCode: string): void {
    inTransaction(this.db, () => {
      if (repo.findGlobalGroup(this.db, groupCode) === undefined) throw clientError('not_found', `Global group ${groupCode} does not exist`, { detail: 'code' })
      repo.deleteGlobalGroup(this.db, groupCode)
    })
    this.regenerateConfiguration()
  }

  removeGlobalGroupMember(groupCode: string, client: ClientId): void {
    inTransaction(this.db, () => {
      if (repo.findGlobalGroup(this.db, groupCode) === undefined) throw clientError('not_found', `Global group ${groupCode} does not exist`, { detail: 'code' })
      if (!repo.deleteGroupMember(this.db, groupCode, encodeIdentifier(client))) {
        throw clientError('not_found', `${describeIdentifier(client)} is not in global group ${groupCode}`, { detail: 'member' })
      }
    })
    this.regenerateConfiguration()
  }

  /** Revokes a certificate by serial number (see `revoke`). */
  revokeSerial(serial: string, reason = 0): { serial: string; subject: string; revokedAt: string; alreadyRevoked: boolean } {
    return this.revoke(this.certificate(serial).der, reason)
  }

  /** The security servers (described) that list member `memberKey` (or its subsystem `subsystemKey`) as a client. */
  private serversServing(memberKey: number, subsystemKey: number | null): string[] {
    const members = new Map(repo.listMembers(this.db).map((m) => [m.id, m]))
    const servers = new Map(repo.listSecurityServers(this.db).map((ss) => [ss.id, ss]))
    return repo.listServerClients(this.db)
      .filter((c) => c.memberId === memberKey && c.subsystemId === subsystemKey)
      .map((c) => {
        const ss = servers.get(c.serverId) as repo.SecurityServerRow
        const owner = members.get(ss.ownerId) as repo.MemberRow
        return describeIdentifier(makeSecurityServerId(makeMemberId(this.instance, owner.memberClass, owner.memberCode), ss.serverCode))
      })
  }

  private requireServer(server: SecurityServerId): repo.SecurityServerRow {
    this.checkInstance(server.xRoadInstance)
    const owner = this.requireMember(makeMemberId(server.xRoadInstance, server.memberClass, server.memberCode))
    const ss = repo.findSecurityServer(this.db, owner.id, server.serverCode)
    if (ss === undefined) throw clientError('invalid_security_server', `Security server ${describeIdentifier(server)} is not registered`, { detail: 'server' })
    return ss
  }

  private requireMember(id: MemberId): repo.MemberRow {
    const member = repo.findMember(this.db, id.memberClass, id.memberCode)
    if (member === undefined) throw clientError('unknown_member', `Member ${describeIdentifier(id)} is not registered in the lab`)
    return member
  }

  private requireSubsystem(memberId: number, client: ClientId & { objectType: 'SUBSYSTEM' }): repo.SubsystemRow {
    const row = repo.findSubsystem(this.db, memberId, client.subsystemCode)
    if (row === undefined) throw clientError('unknown_member', `Subsystem ${describeIdentifier(client)} is not registered in the lab`)
    return row
  }

  private checkInstance(instance: string): void {
    if (instance !== this.instance) {
      throw clientError('invalid_identifier', `Instance '${instance}' is not this lab's instance '${this.instance}'`)
    }
  }

  // ---- management requests (the central server's side of pr-mserv) --------------------------------------

  /**
   * `managementRequestServiceProviderId`: subsystem MANAGEMENT of the owner of the management security server the lab
   * operator designated (X-Road: a subsystem of the central server's owner, served by its management security server,
   * whose signing key answers for it); ORG/LAB/MANAGEMENT until one is designated.
   */
  managementServiceProvider(): ClientId {
    const stored = this.settings().managementProvider
    if (stored !== null) return decodeIdentifier(stored) as ClientId
    return makeSubsystemId(this.instance, MANAGEMENT_PROVIDER.memberClass, MANAGEMENT_PROVIDER.memberCode, MANAGEMENT_PROVIDER.subsystemCode)
  }

  /**
   * The lab operator's one bootstrap step, as on X-Road's central server ("Management services": the provider and its
   * management security server): `server` (registered, e.g. by its own authCertReg) becomes the management security
   * server, its owner's subsystem MANAGEMENT the provider (added if new, listed as the server's client), and the owner
   * joins the security server owners' group. Every other registration then arrives as a management request.
   */
  designateManagementSecurityServer(server: SecurityServerId): ClientId {
    const provider = makeSubsystemId(this.instance, server.memberClass, server.memberCode, MANAGEMENT_PROVIDER.subsystemCode) as ClientId & { objectType: 'SUBSYSTEM' }
    inTransaction(this.db, () => {
      const ss = this.requireServer(server)
      const member = this.requireMember(memberOf(server))
      const subsystemId = this.clientKeys(provider)?.subsystemId
      const key = subsystemId === undefined || subsystemId === null || subsystemId === -1 ? repo.insertSubsystem(this.db, member.id, provider.subsystemCode) : subsystemId
      if (!repo.hasServerClient(this.db, ss.id, member.id, key)) repo.insertServerClient(this.db, ss.id, member.id, key)
      if (repo.findGlobalGroup(this.db, SECURITY_SERVER_OWNERS_GROUP) === undefined) repo.insertGlobalGroup(this.db, SECURITY_SERVER_OWNERS_GROUP, 'Security server owners')
      repo.insertGroupMember(this.db, SECURITY_SERVER_OWNERS_GROUP, encodeIdentifier(memberOf(server)))
      repo.updateManagementProvider(this.db, encodeIdentifier(provider))
    })
    this.regenerateConfiguration()
    return provider
  }

  /** What the management service verifies requests against: the lab's CA, OCSP responder, freshness and provider. */
  managementVerificationContext(): ManagementVerificationContext {
    return {
      instance: this.instance,
      caCert: this.certificateDer('ca'),
      ocspCert: this.certificateDer('ocsp'),
      ocspFreshnessSeconds: this.settings().ocspFreshnessSeconds,
      provider: this.managementServiceProvider(),
      now: this.clock.now(),
    }
  }

  /**
   * The TLS key and self-signed certificate of the authentication certificate registration address (published as
   * `authCertRegServiceCert`; the security server pins it, pr-mserv §2.3). Made on first use and kept in the lab folder.
   */
  async managementTlsCredentials(): Promise<{ cert: Uint8Array; key: KeyObject }> {
    const certFile = join(this.paths.dir, 'management-tls.pem')
    const keyFile = join(this.paths.dir, 'keys', 'management-tls.key.pem')
    if (existsSync(certFile) && existsSync(keyFile)) {
      return { cert: certificateFromInput(readFileSync(certFile, 'utf8')), key: privateKeyFromPem(readFileSync(keyFile, 'utf8')) }
    }
    const key = await generateLabKey('ec-p256')
    const now = this.clock.now()
    const cert = await buildCertificate(
      {
        subject: nameDer(`C=${this.instance}, O=Gatehouse Lab, CN=127.0.0.1`),
        spki: spkiOf(key),
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 20 * YEAR_MS),
        extensions: [
          new BasicConstraintsExtension(false, undefined, true),
          new KeyUsagesExtension(KeyUsage.digitalSignature | KeyUsage.keyEncipherment, true),
          new ExtendedKeyUsageExtension([OID.ekuServerAuth], false),
          new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }]),
        ],
      },
      { selfSign: key },
    )
    writeFileAtomic(keyFile, privateKeyToPem(key), 0o600)
    writeFileAtomic(certFile, certificateToPem(cert), 0o644)
    return { cert, key }
  }

  /** Records where `lab serve` takes management requests (the authCertReg HTTPS address, the provider's service URL). */
  setManagementAddresses(values: { authCertRegUrl: string; managementServiceUrl: string }): void {
    inTransaction(this.db, () => repo.updateManagementAddresses(this.db, values))
  }

  /** X-Road's central server auto-approval options (authCertReg, clientReg, ownerChange); the other requests apply at once. */
  setAutoApproval(values: { authCertReg?: boolean; clientReg?: boolean; ownerChange?: boolean }): void {
    inTransaction(this.db, () => {
      const s = this.settings()
      repo.updateAutoApproval(this.db, {
        autoApproveAuthCertReg: values.authCertReg ?? s.autoApproveAuthCertReg,
        autoApproveClientReg: values.clientReg ?? s.autoApproveClientReg,
        autoApproveOwnerChange: values.ownerChange ?? s.autoApproveOwnerChange,
      })
    })
  }

  listManagementRequests(limit = 500): repo.ManagementRequestRow[] {
    return repo.listManagementRequests(this.db, limit)
  }

  managementRequestCounts(): { total: number; approved: number; waiting: number; declined: number } {
    return repo.countManagementRequests(this.db)
  }

  /**
   * Records a verified management request as X-Road's central server does (`ManagementRequestServiceImpl.add`): the
   * refusals of its request handlers (a duplicate, an unknown member or server, a certificate registered already), then
   * WAITING, approved at once when the auto-approval option of its type is on (or always, for the types X-Road applies
   * at once). An approval changes the registry and signs a new global configuration in the same call.
   */
  receiveManagementRequest(request: VerifiedManagementRequest): repo.ManagementRequestRow {
    const now = this.clock.now().toISOString()
    const row = inTransaction(this.db, () => {
      this.checkAcceptable(request)
      const id = repo.insertManagementRequest(this.db, {
        type: request.type,
        server: encodeIdentifier(request.server),
        client: request.client === null ? null : encodeIdentifier(request.client),
        address: request.address,
        authCert: request.authCert,
        subsystemName: request.subsystemName,
        maintenanceMessage: request.maintenanceMessage,
        messageId: request.message.header.id,
        receivedAt: now,
      })
      const inserted = repo.findManagementRequest(this.db, id) as repo.ManagementRequestRow
      if (!this.autoApproves(request.type)) return inserted
      this.applyRequest(inserted)
      repo.decideManagementRequest(this.db, id, 'APPROVED', now, 'auto')
      return repo.findManagementRequest(this.db, id) as repo.ManagementRequestRow
    })
    if (row.status === 'APPROVED') this.regenerateConfiguration()
    return row
  }

  /** The lab operator approves a WAITING request (X-Road's `approve`): its change is made and a new configuration signed. */
  approveManagementRequest(id: number): repo.ManagementRequestRow {
    const row = inTransaction(this.db, () => {
      const found = this.waitingRequest(id)
      this.applyRequest(found)
      repo.decideManagementRequest(this.db, id, 'APPROVED', this.clock.now().toISOString(), 'operator')
      return repo.findManagementRequest(this.db, id) as repo.ManagementRequestRow
    })
    this.regenerateConfiguration()
    return row
  }

  /** The lab operator declines a WAITING request (X-Road's DECLINED): the registry stays as it is. */
  declineManagementRequest(id: number): repo.ManagementRequestRow {
    return inTransaction(this.db, () => {
      this.waitingRequest(id)
      repo.decideManagementRequest(this.db, id, 'DECLINED', this.clock.now().toISOString(), 'operator')
      return repo.findManagementRequest(this.db, id) as repo.ManagementRequestRow
    })
  }

  private waitingRequest(id: number): repo.ManagementRequestRow {
    const found = repo.findManagementRequest(this.db, id)
    if (found === undefined) throw clientError('management_request_not_found', `Management request ${id} does not exist`, { detail: 'id' })
    if (found.status !== 'WAITING') {
      throw clientError('management_request_invalid_state_for_approval', `Management request ${id} is ${found.status.toLowerCase()} already`, { detail: 'id' })
    }
    return found
  }

  private autoApproves(type: repo.ManagementRequestType): boolean {
    const s = this.settings()
    if (type === 'authCertReg') return s.autoApproveAuthCertReg
    if (type === 'clientReg') return s.autoApproveClientReg
    // OwnerChangeRequestHandler.canAutoApprove: the option, and the new owner a member of the instance (checked on receipt).
    if (type === 'ownerChange') return s.autoApproveOwnerChange
    // clientDisable/clientEnable take effect when received (their handlers' `add`), as do the other requests.
    return true
  }

  private serverRow(server: SecurityServerId): repo.SecurityServerRow | undefined {
    const owner = repo.findMember(this.db, server.memberClass, server.memberCode)
    return owner === undefined ? undefined : repo.findSecurityServer(this.db, owner.id, server.serverCode)
  }

  private clientKeys(client: ClientId): { member: repo.MemberRow; subsystemId: number | null } | undefined {
    const member = repo.findMember(this.db, client.memberClass, client.memberCode)
    if (member === undefined) return undefined
    if (client.objectType !== 'SUBSYSTEM') return { member, subsystemId: null }
    const sub = repo.findSubsystem(this.db, member.id, client.subsystemCode)
    return { member, subsystemId: sub?.id ?? -1 }
  }

  /** The refusals of X-Road's request handlers (`add`), with the admin service's codes (ErrorMessage.MR_*). */
  private checkAcceptable(request: VerifiedManagementRequest): void {
    const server = request.server
    const serverText = describeIdentifier(server)
    const waiting = repo.listWaitingRequests(this.db, request.type)
    const refuse = (code: Parameters<typeof clientError>[0], message: string): never => {
      throw clientError(code, message)
    }
    if (server.xRoadInstance !== this.instance) refuse('management_request_server_not_found', `Security server ${serverText} is not of instance ${this.instance}`)
    switch (request.type) {
      case 'authCertReg': {
        const cert = request.authCert as Uint8Array
        const hash = sha256(cert).toString('base64')
        if (repo.listAuthCertHashes(this.db).some((h) => h.certHash === hash)) {
          refuse('management_request_security_server_exists', 'The authentication certificate is registered already')
        }
        const same = waiting.find((r) => r.authCert !== null && Buffer.from(r.authCert).equals(Buffer.from(cert)))
        if (same !== undefined) refuse('management_request_exists', `Management request ${same.id} registers this authentication certificate already`)
        if (repo.findMember(this.db, server.memberClass, server.memberCode) === undefined) {
          refuse('management_request_server_owner_not_found', `The owner of ${serverText} is not a member of ${this.instance}`)
        }
        return
      }
      case 'clientReg': {
        const client = request.client as ClientId
        if (client.objectType === 'MEMBER' && identifierEqualsMember(client, server)) {
          refuse('management_request_cannot_register_owner', `${describeIdentifier(client)} owns ${serverText} and is its client implicitly`)
        }
        const ss = this.serverRow(server)
        if (ss === undefined) refuse('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const keys = this.clientKeys(client)
        if (keys === undefined) refuse('management_request_member_not_found', `Member of ${describeIdentifier(client)} is not registered in ${this.instance}`)
        const { member, subsystemId } = keys as { member: repo.MemberRow; subsystemId: number | null }
        if (subsystemId !== -1 && repo.hasServerClient(this.db, (ss as repo.SecurityServerRow).id, member.id, subsystemId)) {
          refuse('management_request_client_already_registered', `${describeIdentifier(client)} is a client of ${serverText} already`)
        }
        const same = waiting.find((r) => r.server === encodeIdentifier(server) && r.client === encodeIdentifier(client))
        if (same !== undefined) refuse('management_request_exists', `Management request ${same.id} registers ${describeIdentifier(client)} on ${serverText} already`)
        return
      }
      case 'clientDeletion': {
        const client = request.client as ClientId
        const ss = this.serverRow(server)
        if (ss === undefined) refuse('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const keys = this.clientKeys(client)
        if (keys === undefined || keys.subsystemId === -1 || !repo.hasServerClient(this.db, (ss as repo.SecurityServerRow).id, keys.member.id, keys.subsystemId)) {
          refuse('management_request_server_client_not_found', `${describeIdentifier(client)} is not a client of ${serverText}`)
        }
        return
      }
      case 'authCertDeletion': {
        const ss = this.serverRow(server)
        if (ss === undefined) refuse('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const hash = sha256(request.authCert as Uint8Array).toString('base64')
        if (!repo.listAuthCertHashes(this.db).some((h) => h.serverId === (ss as repo.SecurityServerRow).id && h.certHash === hash)) {
          refuse('management_request_invalid_auth_certificate', `The authentication certificate is not registered on ${serverText}`)
        }
        return
      }
      case 'addressChange':
        if (this.serverRow(server) === undefined) refuse('management_request_server_not_found', `Security server ${serverText} is not registered`)
        return
      case 'clientRename': {
        // ClientRenameRequestHandler: a subsystem, listed on the server.
        const client = request.client as ClientId
        if (client.objectType !== 'SUBSYSTEM') refuse('management_request_only_subsystem_rename_allowed', 'Only a subsystem can be renamed')
        const ss = this.serverRow(server)
        const keys = this.clientKeys(client)
        if (ss === undefined || keys === undefined || keys.subsystemId === -1 || !repo.hasServerClient(this.db, ss.id, keys.member.id, keys.subsystemId)) {
          refuse('management_request_server_client_not_found', `${describeIdentifier(client)} is not a client of ${serverText}`)
        }
        return
      }
      case 'maintenanceModeEnable':
      case 'maintenanceModeDisable': {
        // MaintenanceModeEnableRequestHandler / MaintenanceModeDisableRequestHandler.
        const ss = this.serverRow(server)
        if (ss === undefined) refuse('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const inMaintenance = repo.listMaintenanceModes(this.db).has((ss as repo.SecurityServerRow).id)
        if (request.type === 'maintenanceModeEnable') {
          const provider = encodeIdentifier(this.managementServiceProvider())
          if (this.listSecurityServers().some((s) => encodeIdentifier(s.id) === encodeIdentifier(server) && s.clients.some((c) => encodeIdentifier(c) === provider))) {
            refuse('mr_forbidden_enable_maintenance_mode_for_management_service', `${serverText} serves the management services and cannot go into maintenance mode`)
          }
          if (inMaintenance) refuse('management_request_server_already_in_maintenance_mode', `${serverText} is in maintenance mode already`)
        } else if (!inMaintenance) {
          refuse('management_request_server_not_in_maintenance_mode', `${serverText} is not in maintenance mode`)
        }
        return
      }
      case 'ownerChange': {
        // OwnerChangeRequestHandler.add: no other open ownerChange of the server, then validateRequest.
        const pending = waiting.find((r) => r.server === encodeIdentifier(server))
        if (pending !== undefined) refuse('management_request_exists', `Management request ${pending.id} changes the owner of ${serverText} already`)
        const newOwner = request.client as ClientId
        if (newOwner.objectType === 'SUBSYSTEM') refuse('management_request_owner_must_be_member', 'The new owner must be a member, not a subsystem')
        const ss = this.serverRow(server)
        if (ss === undefined) refuse('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const keys = this.clientKeys(newOwner)
        if (keys === undefined || !repo.hasServerClient(this.db, (ss as repo.SecurityServerRow).id, keys.member.id, null)) {
          refuse('management_request_owner_must_be_client', `${describeIdentifier(newOwner)} must be a client of ${serverText} to become its owner`)
        }
        if (identifierEqualsMember(newOwner, server)) refuse('management_request_client_already_owner', `${describeIdentifier(newOwner)} owns ${serverText} already`)
        const member = (keys as { member: repo.MemberRow }).member
        if (repo.findSecurityServer(this.db, member.id, server.serverCode) !== undefined) {
          refuse('management_request_server_code_exists', `${describeIdentifier(newOwner)} owns a security server with code ${server.serverCode} already`)
        }
        return
      }
      case 'clientDisable':
      case 'clientEnable': {
        // ClientDisableRequestHandler / ClientEnableRequestHandler.add: a client of the server; the management service
        // provider is never disabled.
        const client = request.client as ClientId
        const ss = this.serverRow(server)
        const keys = this.clientKeys(client)
        if (ss === undefined || keys === undefined || keys.subsystemId === -1 || !repo.hasServerClient(this.db, ss.id, keys.member.id, keys.subsystemId)) {
          refuse('management_request_server_client_not_found', `${describeIdentifier(client)} is not a client of ${serverText}`)
        }
        if (request.type === 'clientDisable' && identifierEquals(client, this.managementServiceProvider())) {
          refuse('mr_forbidden_disable_management_service_client', `${describeIdentifier(client)} provides the management services and cannot be disabled`)
        }
        return
      }
      default:
        refuse('management_request_not_supported', `The lab does not take ${request.type} requests`)
    }
  }

  /** X-Road's request handlers' `approve`: the registry change of one request (inside the caller's transaction). */
  private applyRequest(row: repo.ManagementRequestRow): void {
    const server = decodeIdentifier(row.server) as SecurityServerId
    const serverText = describeIdentifier(server)
    const ss = this.serverRow(server)
    switch (row.type) {
      case 'authCertReg': {
        const owner = repo.findMember(this.db, server.memberClass, server.memberCode)
        if (owner === undefined) throw clientError('management_request_server_owner_not_found', `The owner of ${serverText} is not a member of ${this.instance}`)
        const hash = sha256(row.authCert as Uint8Array).toString('base64')
        if (repo.listAuthCertHashes(this.db).some((h) => h.certHash === hash)) {
          throw clientError('management_request_security_server_exists', 'The authentication certificate is registered already')
        }
        const serverId = ss?.id ?? repo.insertSecurityServer(this.db, owner.id, server.serverCode, row.address ?? '')
        if (ss !== undefined && row.address !== null) repo.updateServerAddress(this.db, ss.id, row.address)
        repo.insertAuthCertHash(this.db, serverId, hash)
        // AuthenticationCertificateRegistrationRequestHandler.approve: the owner joins the security server owners' group.
        if (repo.findGlobalGroup(this.db, SECURITY_SERVER_OWNERS_GROUP) === undefined) {
          repo.insertGlobalGroup(this.db, SECURITY_SERVER_OWNERS_GROUP, 'Security server owners')
        }
        repo.insertGroupMember(this.db, SECURITY_SERVER_OWNERS_GROUP, encodeIdentifier(makeMemberId(this.instance, owner.memberClass, owner.memberCode)))
        return
      }
      case 'clientReg': {
        if (ss === undefined) throw clientError('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const client = decodeIdentifier(row.client as string) as ClientId
        const keys = this.clientKeys(client)
        if (keys === undefined) throw clientError('management_request_member_not_found', `Member of ${describeIdentifier(client)} is not registered in ${this.instance}`)
        // ClientRegistrationRequestHandler.approve: a subsystem the member does not have yet is created.
        const subsystemId = keys.subsystemId === -1 && client.objectType === 'SUBSYSTEM' ? repo.insertSubsystem(this.db, keys.member.id, client.subsystemCode) : keys.subsystemId
        if (repo.hasServerClient(this.db, ss.id, keys.member.id, subsystemId)) {
          throw clientError('management_request_client_already_registered', `${describeIdentifier(client)} is a client of ${serverText} already`)
        }
        repo.insertServerClient(this.db, ss.id, keys.member.id, subsystemId)
        // ClientRegistrationRequestHandler.updateSubsystemNameIfNeeded.
        if (subsystemId !== null && row.subsystemName !== null) repo.updateSubsystemName(this.db, subsystemId, row.subsystemName)
        return
      }
      case 'clientDeletion': {
        const client = decodeIdentifier(row.client as string) as ClientId
        const keys = this.clientKeys(client)
        if (ss === undefined || keys === undefined || !repo.deleteServerClient(this.db, ss.id, keys.member.id, keys.subsystemId)) {
          throw clientError('management_request_server_client_not_found', `${describeIdentifier(client)} is not a client of ${serverText}`)
        }
        return
      }
      case 'authCertDeletion': {
        const hash = sha256(row.authCert as Uint8Array).toString('base64')
        if (ss === undefined || !repo.deleteAuthCertHash(this.db, ss.id, hash)) {
          throw clientError('management_request_invalid_auth_certificate', `The authentication certificate is not registered on ${serverText}`)
        }
        return
      }
      case 'addressChange':
        if (ss === undefined) throw clientError('management_request_server_not_found', `Security server ${serverText} is not registered`)
        repo.updateServerAddress(this.db, ss.id, row.address as string)
        return
      case 'clientRename': {
        const keys = this.clientKeys(decodeIdentifier(row.client as string) as ClientId)
        if (ss === undefined || keys === undefined || keys.subsystemId === null || keys.subsystemId === -1) {
          throw clientError('management_request_server_client_not_found', `${row.client ?? ''} is not a client of ${serverText}`)
        }
        repo.updateSubsystemName(this.db, keys.subsystemId, row.subsystemName as string)
        return
      }
      case 'maintenanceModeEnable':
      case 'maintenanceModeDisable':
        if (ss === undefined) throw clientError('management_request_server_not_found', `Security server ${serverText} is not registered`)
        repo.updateMaintenanceMode(this.db, ss.id, row.type === 'maintenanceModeEnable', row.maintenanceMessage)
        return
      case 'ownerChange': {
        // OwnerChangeRequestHandler.approve: the server keeps its code, authentication certificates and clients under
        // the new owner; the old owner becomes a client, the new one is no longer one (an owner is a client implicitly);
        // the old owner leaves the security server owners' group when it owns no other server, the new one joins it.
        if (ss === undefined) throw clientError('management_request_server_not_found', `Security server ${serverText} is not registered`)
        const newOwner = decodeIdentifier(row.client as string) as ClientId
        const member = repo.findMember(this.db, newOwner.memberClass, newOwner.memberCode)
        if (member === undefined) throw clientError('management_request_member_not_found', `Member ${describeIdentifier(newOwner)} is not registered in ${this.instance}`)
        if (repo.findSecurityServer(this.db, member.id, server.serverCode) !== undefined) {
          throw clientError('management_request_server_code_exists', `${describeIdentifier(newOwner)} owns a security server with code ${server.serverCode} already`)
        }
        const oldOwnerId = ss.ownerId
        repo.updateServerOwner(this.db, ss.id, member.id)
        if (!repo.hasServerClient(this.db, ss.id, oldOwnerId, null)) repo.insertServerClient(this.db, ss.id, oldOwnerId, null)
        repo.deleteServerClient(this.db, ss.id, member.id, null)
        if (!repo.listSecurityServers(this.db).some((other) => other.ownerId === oldOwnerId)) {
          repo.deleteGroupMember(this.db, SECURITY_SERVER_OWNERS_GROUP, encodeIdentifier(memberOf(server)))
        }
        if (repo.findGlobalGroup(this.db, SECURITY_SERVER_OWNERS_GROUP) === undefined) {
          repo.insertGlobalGroup(this.db, SECURITY_SERVER_OWNERS_GROUP, 'Security server owners')
        }
        repo.insertGroupMember(this.db, SECURITY_SERVER_OWNERS_GROUP, encodeIdentifier(makeMemberId(this.instance, member.memberClass, member.memberCode)))
        return
      }
      case 'clientDisable':
      case 'clientEnable': {
        const client = decodeIdentifier(row.client as string) as ClientId
        const keys = this.clientKeys(client)
        if (ss === undefined || keys === undefined || keys.subsystemId === -1
          || !repo.updateServerClientEnabled(this.db, ss.id, keys.member.id, keys.subsystemId, row.type === 'clientEnable')) {
          throw clientError('management_request_server_client_not_found', `${describeIdentifier(client)} is not a client of ${serverText}`)
        }
        return
      }
      default:
        throw clientError('management_request_not_supported', `The lab does not take ${row.type} requests`)
    }
  }

  // ---- configuration --------------------------------------------------------------------------------

  /** Records where `lab serve` listens, so configuration and anchors point there. */
  setServiceAddresses(values: { confAddress: string; ocspUrl: string; tsaUrl: string }): void {
    inTransaction(this.db, () => repo.updateServiceAddresses(this.db, values))
  }

  setConfExpireSeconds(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 1) throw clientError('validation_failed', 'The configuration expiry must be a positive number of seconds')
    inTransaction(this.db, () => repo.updateConfExpireSeconds(this.db, seconds))
  }

  /**
   * The central server's global settings that shorten or lengthen the trust domain's clocks (X-Road CS system
   * parameters): `ocspFreshnessSeconds` (shared parameters), `timeStampingIntervalSeconds` (private parameters) and
   * `ocspFetchInterval` (the FETCHINTERVAL part; null publishes none). Taken into the next generated configuration.
   */
  setGlobalSettings(values: { ocspFreshnessSeconds?: number; timeStampingIntervalSeconds?: number; ocspFetchIntervalSeconds?: number | null }): void {
    const positive = (n: number | null | undefined): boolean => n === undefined || n === null || (Number.isInteger(n) && n >= 1)
    if (!positive(values.ocspFreshnessSeconds) || !positive(values.timeStampingIntervalSeconds) || !positive(values.ocspFetchIntervalSeconds)) {
      throw clientError('validation_failed', 'Global settings are positive numbers of seconds')
    }
    inTransaction(this.db, () => {
      const s = this.settings()
      repo.updateGlobalSettings(this.db, {
        ocspFreshnessSeconds: values.ocspFreshnessSeconds ?? s.ocspFreshnessSeconds,
        timeStampingIntervalSeconds: values.timeStampingIntervalSeconds ?? s.timeStampingIntervalSeconds,
        ocspFetchIntervalSeconds: values.ocspFetchIntervalSeconds === undefined ? s.ocspFetchIntervalSeconds : values.ocspFetchIntervalSeconds,
      })
    })
  }

  /**
   * Writes a new configuration in the production CS layout under `DIR/public`: `V6/<timestamp>/shared-params.xml`,
   * `private-params.xml`, and the signed directories `V6/internalconf` (private + shared, internal key) and
   * `V6/externalconf` (shared only, external key), plus the anchors. Expiry = now + confExpireSeconds (§5.3).
   */
  regenerateConfiguration(): GeneratedConfiguration {
    const s = this.settings()
    const now = this.clock.now()
    const internalCert = this.certificateDer('conf-internal')
    const externalCert = this.certificateDer('conf-external')
    const members = repo.listMembers(this.db)
    const subsystems = repo.listSubsystems(this.db)
    const hashes = repo.listAuthCertHashes(this.db)
    const clients = repo.listServerClients(this.db)
    const groupMembers = repo.listGroupMembers(this.db)
    const names = repo.listSubsystemNames(this.db)
    const maintenance = repo.listMaintenanceModes(this.db)
    const shared = sharedParametersXml({
      instance: s.instance,
      source: { address: s.confAddress, internalVerificationCert: internalCert, externalVerificationCert: externalCert },
      ca: { name: `Gatehouse Lab CA ${s.instance}`, cert: this.certificateDer('ca'), ocspUrl: s.ocspUrl, ocspCert: this.certificateDer('ocsp') },
      tsa: { name: `Gatehouse Lab TSA ${s.instance}`, url: s.tsaUrl, cert: this.certificateDer('tsa') },
      memberClasses: this.memberClasses(),
      members: members.map((m) => ({
        key: m.id,
        memberClass: m.memberClass,
        memberCode: m.memberCode,
        name: m.name,
        subsystems: subsystems.filter((x) => x.memberId === m.id).map((x) => ({ key: x.id, code: x.subsystemCode, ...(names.has(x.id) ? { name: names.get(x.id) as string } : {}) })),
      })),
      securityServers: repo.listSecurityServers(this.db).map((ss) => ({
        ownerKey: ss.ownerId,
        serverCode: ss.serverCode,
        address: ss.address,
        authCertHashes: hashes.filter((h) => h.serverId === ss.id).map((h) => h.certHash),
        // SharedParametersLoader.getSecurityServerClients: only enabled registrations (a disabled client is not published).
        clientKeys: clients.filter((c) => c.serverId === ss.id && c.enabled).map((c) => ({ member: c.memberId, subsystem: c.subsystemId })),
        ...(maintenance.has(ss.id) ? { maintenance: { message: maintenance.get(ss.id) ?? null } } : {}),
      })),
      globalGroups: repo.listGlobalGroups(this.db).map((g) => ({
        code: g.groupCode,
        description: g.description,
        members: groupMembers.filter((gm) => gm.groupCode === g.groupCode).map((gm) => decodeIdentifier(gm.client) as ClientId),
      })),
      ocspFreshnessSeconds: s.ocspFreshnessSeconds,
    })
    const privateParams = privateParametersXml({
      instance: s.instance,
      managementServiceAddress: s.authCertRegUrl ?? `https://${s.confAddress.replace(/:\d+$/, '')}:4001/managementservice/`,
      ...(this.managementTlsCert() === undefined ? {} : { authCertRegServiceCert: this.managementTlsCert() }),
      managementServiceProvider: this.managementServiceProvider(),
      timeStampingIntervalSeconds: s.timeStampingIntervalSeconds,
    })
    const timestamp = confTimestamp(now)
    const versionDir = join(this.paths.publicRoot, `V${CONFIGURATION_VERSION}`)
    const sharedLocation = `/V${CONFIGURATION_VERSION}/${timestamp}/shared-params.xml`
    const privateLocation = `/V${CONFIGURATION_VERSION}/${timestamp}/private-params.xml`
    writeFileAtomic(join(this.paths.publicRoot, sharedLocation), shared, 0o644)
    writeFileAtomic(join(this.paths.publicRoot, privateLocation), privateParams, 0o644)
    const expireDate = new Date(now.getTime() + s.confExpireSeconds * 1000)
    const sharedPart = { contentIdentifier: 'SHARED-PARAMETERS', instance: s.instance, contentLocation: sharedLocation, content: Buffer.from(shared) }
    // xroad-protocols.md §5.6: optional parts travel in the internal configuration only.
    const fetchIntervalLocation = `/V${CONFIGURATION_VERSION}/${timestamp}/fetchinterval-params.xml`
    const fetchInterval = s.ocspFetchIntervalSeconds === null ? undefined : fetchIntervalXml(s.ocspFetchIntervalSeconds)
    if (fetchInterval !== undefined) writeFileAtomic(join(this.paths.publicRoot, fetchIntervalLocation), fetchInterval, 0o644)
    const internal = buildSignedDirectory(
      {
        version: CONFIGURATION_VERSION,
        expireDate,
        parts: [
          sharedPart,
          { contentIdentifier: 'PRIVATE-PARAMETERS', instance: s.instance, contentLocation: privateLocation, content: Buffer.from(privateParams) },
          ...(fetchInterval === undefined
            ? []
            : [{ contentIdentifier: 'FETCHINTERVAL', instance: s.instance, contentLocation: fetchIntervalLocation, content: Buffer.from(fetchInterval) }]),
        ],
      },
      this.privateKey('conf-internal'),
      internalCert,
    )
    const external = buildSignedDirectory({ version: CONFIGURATION_VERSION, expireDate, parts: [sharedPart] }, this.privateKey('conf-external'), externalCert)
    writeFileAtomic(join(versionDir, 'internalconf'), internal.bytes, 0o644)
    writeFileAtomic(join(versionDir, 'externalconf'), external.bytes, 0o644)
    this.writeAnchors(now, s.confAddress, internalCert, externalCert)
    pruneOldGenerations(versionDir, timestamp)
    return {
      version: CONFIGURATION_VERSION,
      timestamp,
      expireDate,
      internalconf: join(versionDir, 'internalconf'),
      externalconf: join(versionDir, 'externalconf'),
      sharedParams: join(this.paths.publicRoot, sharedLocation),
      privateParams: join(this.paths.publicRoot, privateLocation),
    }
  }

  /** The authCertReg address's TLS certificate once `lab serve` made it (`managementTlsCredentials`). */
  private managementTlsCert(): Uint8Array | undefined {
    const file = join(this.paths.dir, 'management-tls.pem')
    return existsSync(file) ? certificateFromInput(readFileSync(file, 'utf8')) : undefined
  }

  /** Anchors change only when the download address does (generatedAt is kept otherwise, so their hash is stable). */
  private writeAnchors(now: Date, confAddress: string, internalCert: Uint8Array, externalCert: Uint8Array): void {
    for (const [path, kind, cert] of [
      [this.paths.anchor, 'internalconf', internalCert],
      [this.paths.anchorExternal, 'externalconf', externalCert],
    ] as const) {
      const url = `http://${confAddress}/${kind}`
      const current = existsSync(path) ? readFileSync(path, 'utf8') : ''
      if (current.includes(`<downloadURL>${url}</downloadURL>`) && current.includes(Buffer.from(cert).toString('base64'))) continue
      writeFileAtomic(path, anchorXml({ instance: this.instance, generatedAt: now, downloadUrl: url, verificationCert: cert }), 0o644)
    }
  }
}

let lastTimestamp = ''
let sequence = 0

/** X-Road names generation directories yyyyMMddHHmmssSSS plus nanoseconds (23 digits); a counter keeps them unique. */
function confTimestamp(now: Date): string {
  const base = now.toISOString().replace(/[-:TZ.]/g, '')
  sequence = base === lastTimestamp ? sequence + 1 : 0
  lastTimestamp = base
  return `${base}${String(sequence).padStart(6, '0')}`
}

/** Keeps the newest few generations so a client that read the previous directory can still fetch its parts. */
function pruneOldGenerations(versionDir: string, current: string): void {
  const keep = 5
  const generations = readdirSync(versionDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d{23}$/.test(e.name) && e.name !== current)
    .map((e) => e.name)
    .sort()
  for (const old of generations.slice(0, Math.max(0, generations.length - (keep - 1)))) rmSync(join(versionDir, old), { recursive: true, force: true })
}

function parseCsr(input: Uint8Array | string): x509.Pkcs10CertificateRequest {
  try {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1')
    if (/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(text)) {
      const b64 = text.replace(/-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----/g, '').replace(/\s+/g, '')
      return new x509.Pkcs10CertificateRequest(Buffer.from(b64, 'base64'))
    }
    if (typeof input === 'string') throw new TypeError('not PEM')
    return new x509.Pkcs10CertificateRequest(input)
  } catch (cause) {
    throw clientError('bad_request', `Cannot parse the CSR (PKCS#10 in PEM or DER expected): ${(cause as Error).message}`, { cause })
  }
}

/** RSA of at least 2048 bits or EC on P-256/P-384 (the key types X-Road's signer produces). */
function checkPublicKey(csr: x509.Pkcs10CertificateRequest): void {
  const spki = AsnConvert.parse(csr.publicKey.rawData, asnX509.SubjectPublicKeyInfo)
  const alg = spki.algorithm.algorithm
  if (alg === '1.2.840.113549.1.1.1') {
    const bits = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) throw clientError('validation_failed', `RSA key of ${bits} bits is too short (at least 2048)`)
    return
  }
  if (alg === '1.2.840.10045.2.1') return
  throw clientError('validation_failed', `Unsupported public key algorithm ${alg} (RSA or EC)`)
}

function subjectFields(csr: x509.Pkcs10CertificateRequest): Map<string, string[]> {
  const fields = new Map<string, string[]>()
  for (const rdn of csr.subjectName.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) fields.set(type, [...(fields.get(type) ?? []), ...values])
  }
  return fields
}

function singleField(fields: Map<string, string[]>, name: string): string {
  const values = fields.get(name) ?? []
  if (values.length !== 1 || (values[0] ?? '') === '') {
    throw clientError('validation_failed', `The CSR subject must have exactly one ${name} attribute (EJBCA certificate profile)`)
  }
  return values[0] as string
}

/** A host name or IP address, optionally with a port (several servers on one machine): no spaces, no path. */
function checkServerAddress(address: string): void {
  if (address.trim() === '' || /[\s/]/.test(address.trim())) {
    throw clientError('validation_failed', `Invalid server address '${address}' (a host name or IP address, optionally :port)`, { detail: 'address' })
  }
}

/** The usage a CSR asks for: its keyUsage extension (nonRepudiation = signing, digitalSignature = authentication), else its subject's shape. */
function detectUsage(csr: x509.Pkcs10CertificateRequest): { usage: 'sign' | 'auth'; from: 'key-usage' | 'subject' } {
  const ext = csr.extensions.find((e) => e.type === OID_KEY_USAGE)
  if (ext !== undefined) {
    const usages = new x509.KeyUsagesExtension(ext.rawData).usages
    if ((usages & x509.KeyUsageFlags.nonRepudiation) !== 0 && (usages & x509.KeyUsageFlags.digitalSignature) === 0) return { usage: 'sign', from: 'key-usage' }
    if ((usages & x509.KeyUsageFlags.digitalSignature) !== 0) return { usage: 'auth', from: 'key-usage' }
  }
  return { usage: subjectFields(csr).has('O') ? 'sign' : 'auth', from: 'subject' }
}

function keyAlgorithmOf(csr: x509.Pkcs10CertificateRequest): string {
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' })
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details?.modulusLength ?? '?'}`
  if (key.asymmetricKeyType === 'ec') return `EC ${details?.namedCurve ?? '?'}`
  return key.asymmetricKeyType ?? 'unknown'
}

function toLabCertificate(row: repo.CertificateRow): LabCertificate {
  const cert = new x509.X509Certificate(row.der)
  return { ...row, notBefore: cert.notBefore, notAfter: cert.notAfter, hash: sha256(row.der).toString('base64') }
}

/** True when `client` is the member that owns `server`. */
function identifierEqualsMember(client: ClientId, server: SecurityServerId): boolean {
  return client.xRoadInstance === server.xRoadInstance && client.memberClass === server.memberClass && client.memberCode === server.memberCode
}
