import { IdentifierError, memberId, type ClientId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import { SecurityServerError } from '../platform'
import { dnAttribute, parseCertificate, rdnValue, type DnAttribute } from './certificate-util'

/**
 * Certificate profiles (X-Road `certificateprofile/impl`, named by Java class in the global configuration's
 * `approvedCA/certificateProfileInfo`): which subject a CSR for a sign or auth key gets, and how a member id
 * is read back from a signing certificate (xroad-protocols.md §4.7 step 4, §10 item 4).
 */

export interface SubjectOptions {
  /** The member's name from the global configuration (`O`, and `CN` in the Basic profile). */
  memberName?: string
  /** The security server code (FiVRK `serialNumber` = INSTANCE/serverCode/CLASS). */
  serverCode?: string
  /** Country code where the profile leaves it editable (Basic). */
  country?: string
  /** DNS name of the server (Basic/ACME auth `CN`). */
  serverDnsName?: string
}

export interface CertificateProfile {
  /** The Java class name as it appears in the global configuration. */
  readonly javaClassName: string
  /** Subject of a signing certificate request for `member`. */
  signSubject(member: MemberId | ClientId, opts?: SubjectOptions): DnAttribute[]
  /** Subject of an authentication certificate request for `server`. */
  authSubject(server: SecurityServerId, opts?: SubjectOptions): DnAttribute[]
  /** The member a signing certificate belongs to; throws `incorrect_certificate` when the subject does not fit. */
  memberIdFromSigningCert(certDer: Uint8Array, instance: string): MemberId
}

const PACKAGE = 'ee.ria.xroad.common.certificateprofile.impl.'

function incorrect(message: string): SecurityServerError {
  return new SecurityServerError('incorrect_certificate', message, { clientFault: true })
}

function required(value: string | undefined, what: string, opt: string): string {
  if (value === undefined || value === '') {
    throw new SecurityServerError('validation_failed', `The certificate profile needs ${what} (${opt})`, { clientFault: true })
  }
  return value
}

/** Builds the member id, turning identifier problems into `incorrect_certificate`. */
function member(instance: string, memberClass: string, memberCode: string): MemberId {
  try {
    return memberId(instance, memberClass, memberCode)
  } catch (error) {
    if (error instanceof IdentifierError) throw incorrect(`Certificate subject yields an invalid member identifier: ${error.message}`)
    throw error
  }
}

function subjectOf(certDer: Uint8Array): DnAttribute[] {
  return parseCertificate(certDer, 'signing certificate').subject
}

/** X-Road `CertUtils.getSubjectClientId`: C = instance, O = member class, CN = member code. */
function ejbcaMemberId(subject: DnAttribute[]): MemberId {
  const c = rdnValue(subject, 'C')
  if (c === undefined) throw incorrect('Certificate subject name does not contain country code')
  const o = rdnValue(subject, 'O')
  if (o === undefined) throw incorrect('Certificate subject name does not contain organization')
  const cn = rdnValue(subject, 'CN')
  if (cn === undefined) throw incorrect('Certificate subject name does not contain common name')
  return member(c, o, cn)
}

/** `EjbcaCertificateProfileInfoProvider`: sign C=instance, O=memberClass, CN=memberCode; auth C=instance, CN=serverCode. */
const ejbcaProfile: CertificateProfile = {
  javaClassName: `${PACKAGE}EjbcaCertificateProfileInfoProvider`,
  signSubject: (m) => [dnAttribute('C', m.xRoadInstance), dnAttribute('O', m.memberClass), dnAttribute('CN', m.memberCode)],
  authSubject: (s) => [dnAttribute('C', s.xRoadInstance), dnAttribute('CN', s.serverCode)],
  memberIdFromSigningCert: (certDer) => ejbcaMemberId(subjectOf(certDer)),
}

/**
 * `FiVRKCertificateProfileInfoProvider` / `FISubjectClientIdDecoder`: C must be FI, O present, CN = member code,
 * serialNumber = INSTANCE/serverCode/CLASS (exactly three parts). Without serialNumber: the legacy form
 * O = instance, OU = class, CN = code; without OU either: the EJBCA form.
 */
const fiVrkProfile: CertificateProfile = {
  javaClassName: `${PACKAGE}FiVRKCertificateProfileInfoProvider`,
  signSubject: (m, opts = {}) => [
    dnAttribute('C', 'FI'),
    dnAttribute('O', required(opts.memberName, 'the member name', 'memberName')),
    dnAttribute('CN', m.memberCode),
    dnAttribute('serialNumber', `${m.xRoadInstance}/${required(opts.serverCode, 'the server code', 'serverCode')}/${m.memberClass}`),
  ],
  authSubject: (s, opts = {}) => [
    dnAttribute('C', 'FI'),
    dnAttribute('O', required(opts.memberName, 'the member name', 'memberName')),
    dnAttribute('CN', s.serverCode),
    dnAttribute('serialNumber', `${s.xRoadInstance}/${s.serverCode}/${s.memberClass}`),
  ],
  memberIdFromSigningCert: (certDer) => {
    const subject = subjectOf(certDer)
    if (rdnValue(subject, 'serialNumber') === undefined) {
      if (rdnValue(subject, 'OU') === undefined) return ejbcaMemberId(subject)
      if (rdnValue(subject, 'C') !== 'FI') throw incorrect('Certificate subject name does not contain valid country code')
      const instance = rdnValue(subject, 'O')
      if (instance === undefined) throw incorrect('Certificate subject name does not contain organization')
      const memberClass = rdnValue(subject, 'OU')!
      const code = rdnValue(subject, 'CN')
      if (code === undefined) throw incorrect('Certificate subject name does not contain common name')
      return member(instance, memberClass, code)
    }
    if (rdnValue(subject, 'C') !== 'FI') throw incorrect('Certificate subject name does not contain valid country code')
    if (rdnValue(subject, 'O') === undefined) throw incorrect('Certificate subject name does not contain organization')
    const code = rdnValue(subject, 'CN')
    if (code === undefined) throw incorrect('Certificate subject name does not contain common name')
    const parts = rdnValue(subject, 'serialNumber')!.split('/')
    if (parts.length !== 3) throw incorrect("Certificate subject name's attribute serialNumber has invalid value")
    return member(parts[0]!, parts[2]!, code)
  },
}

/** Basic profile: businessCategory = member class, serialNumber = member code, instance from context. */
function basicProfile(className: string): CertificateProfile {
  return {
    javaClassName: `${PACKAGE}${className}`,
    signSubject: (m, opts = {}) => {
      const name = required(opts.memberName, 'the member name', 'memberName')
      return [
        dnAttribute('CN', name),
        dnAttribute('O', name),
        dnAttribute('businessCategory', m.memberClass),
        ...(opts.country ? [dnAttribute('C', opts.country)] : []),
        dnAttribute('serialNumber', m.memberCode),
      ]
    },
    authSubject: (s, opts = {}) => [
      dnAttribute('CN', required(opts.serverDnsName, 'the server DNS name', 'serverDnsName')),
      dnAttribute('serialNumber', s.memberCode),
      ...(opts.country ? [dnAttribute('C', opts.country)] : []),
      dnAttribute('O', required(opts.memberName, 'the member name', 'memberName')),
    ],
    memberIdFromSigningCert: (certDer, instance) => {
      const subject = subjectOf(certDer)
      const memberClass = rdnValue(subject, 'businessCategory')
      if (memberClass === undefined) throw incorrect('Certificate subject name does not contain business category')
      const code = rdnValue(subject, 'serialNumber')
      if (code === undefined) throw incorrect('Certificate subject name does not contain serial number')
      return member(instance, memberClass, code)
    },
  }
}

const PROFILES: ReadonlyMap<string, CertificateProfile> = new Map(
  [ejbcaProfile, fiVrkProfile, basicProfile('BasicCertificateProfileInfoProvider'), basicProfile('BasicACMECertificateProfileInfoProvider')]
    .map((p) => [p.javaClassName, p]),
)

/** The names Gatehouse implements, for messages and the admin UI. */
export const SUPPORTED_CERTIFICATE_PROFILES: readonly string[] = [...PROFILES.keys()]

/** The profile for a global-conf `certificateProfileInfo` class name (fully qualified or simple). */
export function certificateProfileFor(javaClassName: string): CertificateProfile {
  const name = javaClassName.trim()
  const profile = PROFILES.get(name) ?? PROFILES.get(`${PACKAGE}${name}`)
  if (profile === undefined) {
    throw new SecurityServerError(
      'incorrect_validation_info',
      `Unknown certificate profile info provider '${name}'; supported: ${SUPPORTED_CERTIFICATE_PROFILES.join(', ')}`,
    )
  }
  return profile
}
