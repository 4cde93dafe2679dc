import { createHash, randomBytes, type KeyObject } from 'node:crypto'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import * as cms from '@peculiar/asn1-cms'
import * as tsp from '@peculiar/asn1-tsp'
import * as asnX509 from '@peculiar/asn1-x509'
import * as asn1js from 'asn1js'
import { OID, keyTypeOf, parseCertificate, signBytes, signatureAlgorithmFor, signatureAlgorithmIdentifier, toArrayBuffer } from './lab-pki'

/**
 * The lab's RFC 3161 time-stamping authority: SHA-256 and SHA-512 message imprints, nonce echoed, accuracy,
 * a policy OID, the TSA certificate included on `certReq`, and an ESS signing-certificate-v2 attribute
 * (RFC 5816) so verifiers can match the signer; X-Road matches the TSA certificate by SID (xroad-protocols.md §6.2).
 */
/** Default TSA policy of the lab (OpenSSL's example policy arc, `tsa_policy1`). */
export const LAB_TSA_POLICY = '1.2.3.4.1'

export interface TsaContext {
  tsaCert: Uint8Array
  tsaKey: KeyObject
  now: Date
  policy?: string
}

const IMPRINT_LENGTHS: Record<string, number> = { [OID.sha256]: 32, [OID.sha512]: 64 }
const ID_SIGNED_DATA = '1.2.840.113549.1.7.2'
const ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3'
const ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
const ATTR_SIGNING_TIME = '1.2.840.113549.1.9.5'
const ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47'

/** Answers a DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4.2). */
export function answerTimeStampRequest(requestDer: Uint8Array, ctx: TsaContext): Uint8Array {
  let request: tsp.TimeStampReq
  try {
    request = AsnConvert.parse(requestDer, tsp.TimeStampReq)
  } catch {
    return rejection(tsp.PKIFailureInfoFlags.badDataFormat, 'The request is not a DER TimeStampReq')
  }
  const imprint = request.messageImprint
  const expected = IMPRINT_LENGTHS[imprint.hashAlgorithm.algorithm]
  if (expected === undefined) return rejection(tsp.PKIFailureInfoFlags.badAlg, 'Only SHA-256 and SHA-512 imprints are accepted')
  if (imprint.hashedMessage.byteLength !== expected) return rejection(tsp.PKIFailureInfoFlags.badDataFormat, 'The imprint length does not match its algorithm')
  const policy = ctx.policy ?? LAB_TSA_POLICY
  if (request.reqPolicy !== undefined && request.reqPolicy !== policy) {
    return rejection(tsp.PKIFailureInfoFlags.unacceptedPolicy, `Only policy ${policy} is supported`)
  }
  if (request.extensions !== undefined && request.extensions.length > 0) {
    return rejection(tsp.PKIFailureInfoFlags.unacceptedExtension, 'Request extensions are not supported')
  }

  const serial = randomBytes(16)
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01
  const tstInfo = new tsp.TSTInfo({
    version: tsp.TSTInfoVersion.v1,
    policy,
    messageImprint: imprint,
    serialNumber: toArrayBuffer(serial),
    genTime: new Date(Math.floor(ctx.now.getTime() / 1000) * 1000),
    accuracy: new tsp.Accuracy({ seconds: 1 }),
    ordering: false,
    nonce: request.nonce,
  })
  const tstDer = new Uint8Array(AsnConvert.serialize(tstInfo))
  const cert = parseCertificate(ctx.tsaCert)

  // RFC 5652 §5.4: the signature covers the DER SET OF signed attributes; DER sorts SET OF members by encoding.
  const essCertIdV2 = new asn1js.Sequence({
    value: [
      new asn1js.OctetString({ valueHex: createHash('sha256').update(ctx.tsaCert).digest() }),
      // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } (RFC 5035 §5.4)
      new asn1js.Sequence({
        value: [
          fromDer(AsnConvert.serialize(new asnX509.GeneralNames([new asnX509.GeneralName({ directoryName: cert.tbsCertificate.issuer })]))),
          new asn1js.Integer({ valueHex: cert.tbsCertificate.serialNumber }),
        ],
      }),
    ],
  })
  const attributes = [
    attribute(ATTR_CONTENT_TYPE, new asn1js.ObjectIdentifier({ value: tsp.id_ct_tstInfo }).toBER(false)),
    attribute(ATTR_SIGNING_TIME, AsnConvert.serialize(new asnX509.Time({ utcTime: tstInfo.genTime }))),
    attribute(ATTR_MESSAGE_DIGEST, new asn1js.OctetString({ valueHex: createHash('sha256').update(tstDer).digest() }).toBER(false)),
    // RFC 5816 §2.2.1 / RFC 5035: SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 } (hash algorithm SHA-256 by default).
    attribute(ATTR_SIGNING_CERTIFICATE_V2, new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] }).toBER(false)),
  ].sort((a, b) => Buffer.compare(a.der, b.der))
  const signedAttrsSet = new asn1js.Set({ value: attributes.map((a) => fromDer(toArrayBuffer(a.der))) }).toBER(false)
  const algorithm = signatureAlgorithmFor(keyTypeOf(ctx.tsaKey), 'sha256')
  const signature = signBytes(ctx.tsaKey, new Uint8Array(signedAttrsSet), algorithm)

  const sha256Alg = new asnX509.AlgorithmIdentifier({ algorithm: OID.sha256 })
  const signerInfo = new cms.SignerInfo({
    version: cms.CMSVersion.v1,
    sid: new cms.SignerIdentifier({
      issuerAndSerialNumber: new cms.IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }),
    }),
    digestAlgorithm: sha256Alg,
    signedAttrs: attributes.map((a) => a.attribute),
    signatureAlgorithm: signatureAlgorithmIdentifier(algorithm),
    signature: new OctetString(toArrayBuffer(signature)),
  })
  const signedData = new cms.SignedData({
    version: cms.CMSVersion.v3,
    digestAlgorithms: new cms.DigestAlgorithmIdentifiers([sha256Alg]),
    encapContentInfo: new cms.EncapsulatedContentInfo({
      eContentType: tsp.id_ct_tstInfo,
      eContent: new cms.EncapsulatedContent({ single: new OctetString(toArrayBuffer(tstDer)) }),
    }),
    // RFC 3161 §2.4.1: the TSA certificate is included when certReq is true.
    certificates: request.certReq ? new cms.CertificateSet([new cms.CertificateChoices({ certificate: cert })]) : undefined,
    signerInfos: new cms.SignerInfos([signerInfo]),
  })
  const token = new cms.ContentInfo({ contentType: ID_SIGNED_DATA, content: AsnConvert.serialize(signedData) })
  const response = new tsp.TimeStampResp({ status: new tsp.PKIStatusInfo({ status: tsp.PKIStatus.granted }), timeStampToken: token })
  return new Uint8Array(AsnConvert.serialize(response))
}

function attribute(type: string, valueDer: ArrayBuffer): { attribute: cms.Attribute; der: Buffer } {
  const attr = new cms.Attribute({ attrType: type, attrValues: [valueDer] })
  return { attribute: attr, der: Buffer.from(AsnConvert.serialize(attr)) }
}

function fromDer(der: ArrayBuffer): asn1js.AsnType {
  const parsed = asn1js.fromBER(der)
  if (parsed.offset === -1) throw new RangeError('Invalid DER')
  return parsed.result
}

function rejection(failure: tsp.PKIFailureInfoFlags, text: string): Uint8Array {
  const failInfo = new tsp.PKIFailureInfo(failure)
  const status = new tsp.PKIStatusInfo({ status: tsp.PKIStatus.rejection, statusString: new tsp.PKIFreeText([text]), failInfo })
  return new Uint8Array(AsnConvert.serialize(new tsp.TimeStampResp({ status })))
}
