import { createHash } from 'node:crypto'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr'
import {
  AlgorithmIdentifier, Attribute, AttributeTypeAndValue, AttributeValue, ExtendedKeyUsage, Extension, Extensions, KeyUsage,
  KeyUsageFlags, Name, RelativeDistinguishedName, SubjectPublicKeyInfo, id_ce_extKeyUsage, id_ce_keyUsage, id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509'
import type { DnAttribute } from '../signature'
import { ecdsaRawToDer } from './sign-algorithms'
import type { KeyAlgorithm, KeyUsage as SignerKeyUsage, SignAlgorithm } from './token-driver'

/**
 * PKCS#10 certification requests (RFC 2986 §4) signed on the token: the CertificationRequestInfo is built here,
 * its SHA-256 digest signed by the key on its token, and the request assembled. Subjects come from the approved
 * CA's certificate profile (xroad-protocols.md §4.7 step 4); sign keys ask for nonRepudiation (§4.7 step 3),
 * auth keys for digitalSignature with TLS client and server use.
 */

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14' // RFC 2985 §5.4.2
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11' // RFC 4055 §5
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2' // RFC 5758 §3.2
/** Attributes X.520 defines as PrintableString (country, serialNumber). */
const PRINTABLE_OIDS = new Set(['2.5.4.6', '2.5.4.5'])

export type CsrFormat = 'pem' | 'der'

export interface CsrRequest {
  readonly subject: readonly DnAttribute[]
  readonly publicKeyDer: Uint8Array
  readonly keyAlgorithm: KeyAlgorithm
  readonly usage: SignerKeyUsage
  readonly sign: (algorithm: SignAlgorithm, digest: Uint8Array) => Promise<Uint8Array>
}

export function subjectName(subject: readonly DnAttribute[]): Name {
  return new Name(subject.map((attr) => new RelativeDistinguishedName([
    new AttributeTypeAndValue({
      type: attr.oid,
      value: new AttributeValue(PRINTABLE_OIDS.has(attr.oid) ? { printableString: attr.value } : { utf8String: attr.value }),
    }),
  ])))
}

/** "C=FI, O=GOV, CN=1234" for lists and logs. */
export function subjectText(subject: readonly DnAttribute[]): string {
  return subject.map((a) => `${a.type}=${a.value}`).join(', ')
}

function requestedExtensions(usage: SignerKeyUsage, keyAlgorithm: KeyAlgorithm): Extensions {
  const keyUsage = usage === 'sign'
    ? new KeyUsage(KeyUsageFlags.nonRepudiation)
    : new KeyUsage(KeyUsageFlags.digitalSignature | (keyAlgorithm.startsWith('rsa-') ? KeyUsageFlags.keyEncipherment : KeyUsageFlags.keyAgreement))
  const extensions = [new Extension({ extnID: id_ce_keyUsage, critical: true, extnValue: new OctetString(AsnConvert.serialize(keyUsage)) })]
  if (usage === 'auth') {
    const eku = new ExtendedKeyUsage([id_kp_clientAuth, id_kp_serverAuth])
    extensions.push(new Extension({ extnID: id_ce_extKeyUsage, critical: false, extnValue: new OctetString(AsnConvert.serialize(eku)) }))
  }
  return new Extensions(extensions)
}

export async function buildCsr(request: CsrRequest): Promise<Buffer> {
  const rsa = request.keyAlgorithm.startsWith('rsa-')
  const info = new CertificationRequestInfo({
    version: 0,
    subject: subjectName(request.subject),
    subjectPKInfo: AsnConvert.parse(Buffer.from(request.publicKeyDer), SubjectPublicKeyInfo),
    attributes: new Attributes([
      new Attribute({ type: OID_EXTENSION_REQUEST, values: [AsnConvert.serialize(requestedExtensions(request.usage, request.keyAlgorithm))] }),
    ]),
  })
  const infoDer = Buffer.from(AsnConvert.serialize(info))
  const algorithm: SignAlgorithm = rsa ? 'rsa-pkcs1-sha256' : 'ecdsa-sha256'
  const raw = await request.sign(algorithm, createHash('sha256').update(infoDer).digest())
  // RFC 5758 §3.2: an ECDSA signature value in X.509/PKCS#10 is DER SEQUENCE { r, s }.
  const signature = rsa ? Buffer.from(raw) : ecdsaRawToDer(raw)
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: rsa
      ? new AlgorithmIdentifier({ algorithm: OID_SHA256_WITH_RSA, parameters: null })
      : new AlgorithmIdentifier({ algorithm: OID_ECDSA_WITH_SHA256 }),
    signature: new Uint8Array(signature).buffer,
  })
  return Buffer.from(AsnConvert.serialize(csr))
}

export function csrToPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}-----END CERTIFICATE REQUEST-----\n`
}
