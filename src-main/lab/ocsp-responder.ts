import { createHash, type KeyObject } from 'node:crypto'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import * as ocsp from '@peculiar/asn1-ocsp'
import * as asnX509 from '@peculiar/asn1-x509'
import { OID, keyIdentifier, keyTypeOf, parseCertificate, serialHex, signBytes, signatureAlgorithmFor, signatureAlgorithmIdentifier, toArrayBuffer } from './lab-pki'

/**
 * The lab's OCSP responder logic (RFC 6960): parses a request, answers good / revoked / unknown for each CertID
 * issued by the lab CA, and signs the BasicOCSPResponse with the delegated responder key (id-kp-OCSPSigning).
 */
export type CertificateStatus = { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason: number } | { status: 'unknown' }

export interface OcspResponderContext {
  caCert: Uint8Array
  responderCert: Uint8Array
  responderKey: KeyObject
  status(serialHex: string): CertificateStatus
  now: Date
  /** Seconds until nextUpdate (RFC 6960 §4.2.2.1); X-Road checks nextUpdate ≥ now (xroad-protocols.md §4.8). */
  validitySeconds: number
  responderIdBy?: 'key' | 'name'
}

const HASHES: Record<string, string> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256', [OID.sha512]: 'sha512' }

/** Answers a DER OCSPRequest with a DER OCSPResponse; malformed input gets `malformedRequest` (RFC 6960 §2.3). */
export function answerOcspRequest(requestDer: Uint8Array, ctx: OcspResponderContext): Uint8Array {
  let request: ocsp.OCSPRequest
  try {
    request = AsnConvert.parse(requestDer, ocsp.OCSPRequest)
    if (request.tbsRequest.requestList.length === 0) throw new RangeError('empty request list')
  } catch {
    return errorResponse(ocsp.OCSPResponseStatus.malformedRequest)
  }
  const ca = parseCertificate(ctx.caCert).tbsCertificate
  const caNameDer = new Uint8Array(AsnConvert.serialize(ca.subject))
  const caKeyBits = new Uint8Array(ca.subjectPublicKeyInfo.subjectPublicKey)
  const responses: ocsp.SingleResponse[] = []
  for (const item of request.tbsRequest.requestList) {
    const certId = item.reqCert
    const hash = HASHES[certId.hashAlgorithm.algorithm]
    // RFC 6960 §4.1.1: issuerNameHash / issuerKeyHash over the issuer's DN and public key BIT STRING value.
    const ours =
      hash !== undefined &&
      digestEquals(hash, caNameDer, certId.issuerNameHash) &&
      digestEquals(hash, caKeyBits, certId.issuerKeyHash)
    const status: CertificateStatus = ours ? ctx.status(serialHex(certId.serialNumber)) : { status: 'unknown' }
    responses.push(
      new ocsp.SingleResponse({
        certID: certId,
        certStatus: certStatus(status),
        thisUpdate: ctx.now,
        nextUpdate: new Date(ctx.now.getTime() + ctx.validitySeconds * 1000),
      }),
    )
  }
  // RFC 6960 §4.4.1 / RFC 8954: echo the nonce extension when the client sent one.
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === ocsp.id_pkix_ocsp_nonce)
  const responder = parseCertificate(ctx.responderCert).tbsCertificate
  const responderID =
    ctx.responderIdBy === 'name'
      ? new ocsp.ResponderID({ byName: responder.subject })
      : new ocsp.ResponderID({ byKey: new OctetString(toArrayBuffer(keyIdentifier(new Uint8Array(AsnConvert.serialize(responder.subjectPublicKeyInfo))))) })
  const tbs = new ocsp.ResponseData({
    responderID,
    producedAt: ctx.now,
    responses,
    responseExtensions: nonce === undefined ? undefined : [new asnX509.Extension({ extnID: nonce.extnID, critical: false, extnValue: nonce.extnValue })],
  })
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs))
  const algorithm = signatureAlgorithmFor(keyTypeOf(ctx.responderKey), 'sha256')
  const basic = new ocsp.BasicOCSPResponse({
    tbsResponseData: tbs,
    signatureAlgorithm: signatureAlgorithmIdentifier(algorithm),
    signature: toArrayBuffer(signBytes(ctx.responderKey, tbsDer, algorithm)),
    // RFC 6960 §4.2.2.2: the delegated responder's certificate travels in `certs` so clients can verify it.
    certs: [parseCertificate(ctx.responderCert)],
  })
  const response = new ocsp.OCSPResponse({
    responseStatus: ocsp.OCSPResponseStatus.successful,
    responseBytes: new ocsp.ResponseBytes({
      responseType: ocsp.id_pkix_ocsp_basic,
      response: new OctetString(AsnConvert.serialize(basic)),
    }),
  })
  return new Uint8Array(AsnConvert.serialize(response))
}

export function errorResponse(status: ocsp.OCSPResponseStatus): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new ocsp.OCSPResponse({ responseStatus: status })))
}

function digestEquals(hash: string, data: Uint8Array, expected: OctetString): boolean {
  return createHash(hash).update(data).digest().equals(Buffer.from(expected.buffer))
}

function certStatus(status: CertificateStatus): ocsp.CertStatus {
  switch (status.status) {
    case 'good':
      return new ocsp.CertStatus({ good: null })
    case 'revoked':
      return new ocsp.CertStatus({
        revoked: new ocsp.RevokedInfo({ revocationTime: status.revokedAt, revocationReason: new asnX509.CRLReason(status.reason) }),
      })
    case 'unknown':
      return new ocsp.CertStatus({ unknown: null })
  }
}
