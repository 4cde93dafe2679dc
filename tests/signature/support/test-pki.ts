import { createHash, createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'

/**
 * A small real PKI for tests: certificates, OCSP responses and RFC 3161 time-stamp tokens built and signed with
 * pkijs over WebCrypto keys (RSA or ECDSA). Nothing is mocked: verifiers see real DER and real signatures.
 */

const crypto = webcrypto
pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto }))

export type KeyKind = 'RSA' | 'EC' | 'RSA-PSS'

export interface TestCert {
  der: Buffer
  cert: pkijs.Certificate
  privateKey: webcrypto.CryptoKey
  /** The same private key as a Node KeyObject (for node:crypto signing). */
  keyObject: KeyObject
  kind: KeyKind
}

const OIDS: Record<string, string> = {
  C: '2.5.4.6', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', serialNumber: '2.5.4.5', businessCategory: '2.5.4.15',
}

async function generateKey(kind: KeyKind): Promise<webcrypto.CryptoKeyPair> {
  if (kind === 'EC') return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  return crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['sign', 'verify'],
  )
}

/** One attribute per RDN, as real CAs encode names (pkijs would put them all into one multi-valued RDN). */
function parseName(subject: string): pkijs.RelativeDistinguishedNames {
  const sets = subject.split(/,\s*/).map((part) => {
    const i = part.indexOf('=')
    const key = part.slice(0, i).trim()
    const value = part.slice(i + 1)
    const oid = OIDS[key] ?? key
    const str = oid === '2.5.4.6' || oid === '2.5.4.5' ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value })
    return new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type: oid, value: str }).toSchema()] })
  })
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: sets }).toBER(false))
}

export interface CertOptions {
  subject: string
  issuer?: TestCert
  kind?: KeyKind
  keyUsage?: Array<'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign'>
  ca?: boolean
  eku?: string[]
  notBefore?: Date
  notAfter?: Date
  serial?: number
}

const KU_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign']

export async function makeCertificate(options: CertOptions): Promise<TestCert> {
  const kind = options.kind ?? (options.issuer?.kind === 'EC' ? 'RSA' : 'RSA')
  const keys = await generateKey(options.kind ?? kind)
  const cert = new pkijs.Certificate()
  cert.version = 2
  cert.serialNumber = new asn1js.Integer({ value: options.serial ?? (randomBytes(4).readUInt32BE(0) >>> 1) })
  cert.subject = parseName(options.subject)
  cert.issuer = options.issuer ? options.issuer.cert.subject : parseName(options.subject)
  cert.notBefore.value = options.notBefore ?? new Date('2024-01-01T00:00:00Z')
  cert.notAfter.value = options.notAfter ?? new Date('2044-01-01T00:00:00Z')
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey)
  cert.extensions = []
  if (options.ca) {
    cert.extensions.push(new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false) }))
  }
  if (options.keyUsage) {
    let bits = 0
    for (const ku of options.keyUsage) bits |= 0x8000 >> KU_BITS.indexOf(ku)
    const bytes = new Uint8Array([bits >> 8, bits & 0xff])
    const bitString = new asn1js.BitString({ valueHex: bytes[1] === 0 ? bytes.slice(0, 1) : bytes, unusedBits: 0 })
    cert.extensions.push(new pkijs.Extension({ extnID: '2.5.29.15', critical: true, extnValue: bitString.toBER(false) }))
  }
  if (options.eku) {
    cert.extensions.push(new pkijs.Extension({ extnID: '2.5.29.37', extnValue: new pkijs.ExtKeyUsage({ keyPurposes: options.eku }).toSchema().toBER(false) }))
  }
  const signer = options.issuer?.privateKey ?? keys.privateKey
  await cert.sign(signer, 'SHA-256')
  const der = Buffer.from(cert.toSchema(true).toBER(false))
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  return { der, cert: pkijs.Certificate.fromBER(der), privateKey: keys.privateKey, keyObject: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), kind: options.kind ?? kind }
}

export interface OcspOptions {
  cert: TestCert | Buffer
  issuer: TestCert
  responder: TestCert
  status?: 'good' | 'revoked' | 'unknown'
  thisUpdate?: Date
  nextUpdate?: Date
  producedAt?: Date
  includeResponderCert?: boolean
  byKey?: boolean
}

export async function makeOcspResponse(options: OcspOptions): Promise<Buffer> {
  const target = Buffer.isBuffer(options.cert) ? pkijs.Certificate.fromBER(options.cert) : options.cert.cert
  const certId = new pkijs.CertID()
  await certId.createForCertificate(target, { hashAlgorithm: 'SHA-1', issuerCertificate: options.issuer.cert })
  const status = options.status ?? 'good'
  const certStatus = status === 'good'
    ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } })
    : status === 'unknown'
      ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } })
      : new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.GeneralizedTime({ valueDate: new Date('2024-02-01T00:00:00Z') })] })
  const thisUpdate = options.thisUpdate ?? new Date()
  const single = new pkijs.SingleResponse({ certID: certId, certStatus, thisUpdate })
  if (options.nextUpdate) single.nextUpdate = options.nextUpdate
  const basic = new pkijs.BasicOCSPResponse()
  if (options.byKey) {
    const spk = new Uint8Array(options.responder.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
    basic.tbsResponseData.responderID = new asn1js.OctetString({ valueHex: createHash('sha1').update(spk).digest() })
  } else {
    basic.tbsResponseData.responderID = options.responder.cert.subject
  }
  basic.tbsResponseData.producedAt = options.producedAt ?? thisUpdate
  basic.tbsResponseData.responses.push(single)
  if (options.includeResponderCert) basic.certs = [options.responder.cert]
  await basic.sign(options.responder.privateKey, 'SHA-256')
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: '1.3.6.1.5.5.7.48.1.1',
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  })
  return Buffer.from(response.toSchema().toBER(false))
}

const DIGEST_OIDS: Record<string, string> = { 'SHA-256': '2.16.840.1.101.3.4.2.1', 'SHA-512': '2.16.840.1.101.3.4.2.3' }

export async function makeTimestampToken(options: { data: Uint8Array; tsa: TestCert; genTime?: Date; hash?: 'SHA-256' | 'SHA-512' }): Promise<Buffer> {
  const hash = options.hash ?? 'SHA-512'
  const imprint = createHash(hash.replace('-', '').toLowerCase()).update(options.data).digest()
  const tstInfo = new pkijs.TSTInfo({
    version: 1,
    policy: '1.2.3.4.1',
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: DIGEST_OIDS[hash]! }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    serialNumber: new asn1js.Integer({ value: randomBytes(3).readUIntBE(0, 3) }),
    genTime: options.genTime ?? new Date(),
  })
  const signedData = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: '1.2.840.113549.1.9.16.1.4',
      eContent: new asn1js.OctetString({ valueHex: tstInfo.toSchema().toBER(false) }),
    }),
    signerInfos: [new pkijs.SignerInfo({
      version: 1,
      sid: new pkijs.IssuerAndSerialNumber({ issuer: options.tsa.cert.issuer, serialNumber: options.tsa.cert.serialNumber }),
    })],
    certificates: [options.tsa.cert],
  })
  const essCertId = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [
    new asn1js.OctetString({ valueHex: createHash('sha1').update(options.tsa.der).digest() }),
  ] })] })] })
  signedData.signerInfos[0]!.signedAttrs = new pkijs.SignedAndUnsignedAttributes({
    type: 0,
    attributes: [
      new pkijs.Attribute({ type: '1.2.840.113549.1.9.3', values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.9.16.1.4' })] }),
      new pkijs.Attribute({ type: '1.2.840.113549.1.9.4', values: [new asn1js.OctetString({ valueHex: createHash(hash.replace('-', '').toLowerCase()).update(Buffer.from(tstInfo.toSchema().toBER(false))).digest() })] }),
      new pkijs.Attribute({ type: '1.2.840.113549.1.9.16.2.12', values: [essCertId] }),
    ],
  })
  await signedData.sign(options.tsa.privateKey, 0, hash)
  const content = new pkijs.ContentInfo({ contentType: '1.2.840.113549.1.7.2', content: signedData.toSchema(true) })
  return Buffer.from(content.toSchema().toBER(false))
}

/** A CA, an OCSP responder and a TSA, plus a sign certificate for a member in the EJBCA profile. */
export interface TestTrustSetup {
  ca: TestCert
  ocsp: TestCert
  tsa: TestCert
}

export async function makeTrustSetup(): Promise<TestTrustSetup> {
  const ca = await makeCertificate({ subject: 'O=Gatehouse Test, CN=Gatehouse Test CA', ca: true, keyUsage: ['keyCertSign', 'cRLSign'] })
  const ocsp = await makeCertificate({ subject: 'O=Gatehouse Test, CN=Gatehouse Test OCSP', issuer: ca, keyUsage: ['digitalSignature'], eku: ['1.3.6.1.5.5.7.3.9'] })
  const tsa = await makeCertificate({ subject: 'O=Gatehouse Test, CN=Gatehouse Test TSA', issuer: ca, keyUsage: ['nonRepudiation'], eku: ['1.3.6.1.5.5.7.3.8'] })
  return { ca, ocsp, tsa }
}

/** A certificate and its RSA private key from PEM files (e.g. the dev-test-ca CA, OCSP and TSA of X-Road's tests). */
export async function loadTestCert(certPem: string, keyPem: string): Promise<TestCert> {
  const der = Buffer.from(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(certPem)![1]!.replace(/\s+/g, ''), 'base64')
  const keyObject = createPrivateKey(keyPem)
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' })
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign'])
  return { der, cert: pkijs.Certificate.fromBER(der), privateKey, keyObject, kind: 'RSA' }
}
