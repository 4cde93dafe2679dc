import type { Element } from '@xmldom/xmldom'
import {
  identifierFromXml, IdentifierError, parseClientIdPath, parseServiceIdPath, serviceProvider, formatIdPath,
  type ClientId, type ServiceId,
} from '@shared/domain/identifiers'
import { identifierFields, parseXml, SecurityServerError } from '../platform'
import { readAsicContainer, type AsicContents } from './asic-container'
import { parseHashChain, verifyHashChain } from './hash-chain'
import { parseSignature } from './signature-document'
import { verifySignature, type SignatureVerificationResult, type SignedPart } from './signature-verifier'
import { parseTimestampToken, verifyTimestamp } from './timestamp-verifier'
import type { VerificationTrust } from './verification-trust'

/**
 * The asicverifier's semantics (X-Road `AsicContainerVerifier`; xroad-protocols.md §6.4): the signer comes from
 * message.xml, the time-stamp is verified first (batch: ts hash chain over `/META-INF/signatures.xml`, imprint over
 * the ts-hashchainresult bytes; single: imprint over the raw SignatureValue), then the signature at genTime.
 */

export interface AsicVerificationResult {
  valid: true
  signer: ClientId
  signerCert: { subject: string; issuer: string; serialNumber: string }
  timestamp: { genTime: string; tsa: string; batch: boolean }
  ocsp: { responder: string; producedAt: string }
  /** Attachments and how they were checked. */
  attachments: Array<{ name: string; verified: boolean }>
  signature: SignatureVerificationResult
}

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
const XROAD_NS = 'http://x-road.eu/xsd/xroad.xsd'
const TS_SIGNATURE_URI = '/META-INF/signatures.xml'
const TS_HASH_CHAIN_URI = '/ts-hashchain.xml'
const MESSAGE_URI = '/message.xml'
const SIG_HASH_CHAIN_RESULT_URI = '/sig-hashchainresult.xml'

function malformed(message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError('malformed_signature', message, { clientFault: true, cause })
}

function firstElement(parent: Element, ns?: string, name?: string): Element | undefined {
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType !== 1) continue
    const el = n as Element
    if ((ns === undefined || el.namespaceURI === ns) && (name === undefined || el.localName === name)) return el
  }
  return undefined
}

/**
 * The member that must have signed `message.xml`: SOAP request ⇒ client, SOAP response ⇒ service provider
 * (a response's body element ends with `Response`, PR-MESS §2.3); REST request ⇒ `x-road-client`,
 * REST response ⇒ provider of `x-road-service` (xroad-protocols.md §2.3, §6.4). As X-Road's
 * `AsicContainerVerifier.getSigner`: what is not a SOAP message is read as a REST message, and what is neither is
 * `internal_error` "Invalid message".
 */
export function signerFromMessage(message: Uint8Array): ClientId {
  const bytes = Buffer.from(message)
  const start = bytes.toString('utf8', 0, Math.min(bytes.length, 64)).replace(/^\uFEFF/, '').trimStart()
  if (start.startsWith('<')) {
    try {
      return soapSigner(bytes)
    } catch (error) {
      if (error instanceof IdentifierError) throw new SecurityServerError('invalid_message', `message.xml has an invalid identifier: ${error.message}`, { clientFault: true, cause: error })
      if (!(error instanceof SecurityServerError) || error.code !== 'invalid_soap') throw error
    }
  }
  try {
    return restSigner(bytes.toString('utf8'))
  } catch (cause) {
    throw new SecurityServerError('internal_error', `Invalid message: ${(cause as Error).message}`, { clientFault: true, cause })
  }
}

function soapSigner(bytes: Buffer): ClientId {
  let envelope: Element
  try {
    envelope = parseXml(bytes).documentElement as Element
  } catch (cause) {
    throw new SecurityServerError('invalid_soap', `message.xml is not XML: ${(cause as Error).message}`, { clientFault: true, cause })
  }
  if (envelope.namespaceURI !== SOAP_NS || envelope.localName !== 'Envelope') throw new SecurityServerError('invalid_soap', 'message.xml is not a SOAP envelope', { clientFault: true })
  const header = firstElement(envelope, SOAP_NS, 'Header')
  const body = firstElement(envelope, SOAP_NS, 'Body')
  if (header === undefined || body === undefined) throw new SecurityServerError('invalid_soap', 'message.xml lacks the SOAP header or body', { clientFault: true })
  const isResponse = (firstElement(body)?.localName ?? '').endsWith('Response')
  if (isResponse) {
    const service = firstElement(header, XROAD_NS, 'service')
    if (service === undefined) throw new SecurityServerError('missing_header_field', 'SOAP response lacks xroad:service', { clientFault: true })
    return serviceProvider(identifierFromXml(identifierFields(service), ['SERVICE']) as ServiceId)
  }
  const client = firstElement(header, XROAD_NS, 'client')
  if (client === undefined) throw new SecurityServerError('missing_header_field', 'SOAP request lacks xroad:client', { clientFault: true })
  return identifierFromXml(identifierFields(client), ['MEMBER', 'SUBSYSTEM']) as ClientId
}

function restSigner(text: string): ClientId {
  const lines = text.split(/\r?\n/)
  const headers = new Map<string, string>()
  for (const line of lines.slice(2)) {
    const colon = line.indexOf(':')
    if (colon > 0) {
      const name = line.slice(0, colon).toLowerCase()
      if (!headers.has(name)) headers.set(name, line.slice(colon + 1))
    }
  }
  // xroad-protocols.md §2.3: a status code (first byte 1..9) starts a response part.
  const isResponse = /^[1-9]/.test(text)
  if (isResponse) {
    const service = headers.get('x-road-service')
    if (service === undefined) throw new SecurityServerError('missing_header', 'REST response part lacks x-road-service', { clientFault: true })
    return serviceProvider(parseServiceIdPath(service.trim()))
  }
  const client = headers.get('x-road-client')
  if (client === undefined) throw new SecurityServerError('missing_header', 'REST request part lacks x-road-client', { clientFault: true })
  return parseClientIdPath(client.trim())
}

function resolveEntry(asic: AsicContents, uri: string): Uint8Array | undefined {
  return asic.entries.get(uri.replace(/^\//, ''))
}

/**
 * X-Road `AsicContainerVerifier.HashChainReferenceResolverImpl.shouldResolve`: a DataRef to an entry the container
 * holds is resolved and checked; one to an entry it does not hold (a body not logged) is reported as unverified.
 */
function hasEntry(asic: AsicContents, uri: string): boolean {
  return asic.entries.has(uri.replace(/^\//, ''))
}

/**
 * What the verifier trusts: one verification configuration, a function giving the configuration of an instance,
 * or an {@link AsicTrust} that also names the time-stamping authorities of every instance.
 */
export type AsicTrustInput = VerificationTrust | ((instance: string) => VerificationTrust) | AsicTrust

/**
 * X-Road's `AsicContainerVerifier` asks its `GlobalConfProvider` for the TSA certificates of all instances
 * (`getTspCertificates`) and for everything else about the signer's instance.
 */
export interface AsicTrust {
  readonly kind: 'asic-trust'
  /** Approved TSAs of every instance the verification configuration holds. */
  readonly timestampTrust: VerificationTrust
  forInstance(instance: string): VerificationTrust
}

function timestampTrustOf(trust: AsicTrustInput, signer: ClientId): VerificationTrust {
  if (typeof trust === 'function') return trust(signer.xRoadInstance)
  return 'kind' in trust ? trust.timestampTrust : trust
}

function signatureTrustOf(trust: AsicTrustInput, signer: ClientId): VerificationTrust {
  if (typeof trust === 'function') return trust(signer.xRoadInstance)
  return 'kind' in trust ? trust.forInstance(signer.xRoadInstance) : trust
}

/** X-Road `verifyRequiredReferencesExist`. */
function checkRequiredReferences(references: ReadonlyArray<{ uri: string }>): void {
  if (!references.some((r) => r.uri === MESSAGE_URI || r.uri === SIG_HASH_CHAIN_RESULT_URI)) {
    throw malformed(`Signature does not reference '${MESSAGE_URI}' or '${SIG_HASH_CHAIN_RESULT_URI}'`)
  }
}

/**
 * X-Road `AsicContainerVerifier.getTimestampedData`: with a time-stamp hash chain the token is over the
 * ts-hashchainresult bytes, once that chain verifies (its one input is `/META-INF/signatures.xml`; any failure is
 * `malformed_signature`); without one, over the raw decoded SignatureValue.
 */
function timestampedData(asic: AsicContents, signatureValue: Buffer): { data: Buffer; batch: boolean } {
  if (asic.tsHashChainResult === undefined) return { data: signatureValue, batch: false }
  try {
    verifyHashChain(asic.tsHashChainResult, {
      inputs: { [TS_SIGNATURE_URI]: null },
      resolve: (uri) => (uri === TS_HASH_CHAIN_URI ? asic.tsHashChain : resolveEntry(asic, uri)),
      shouldResolve: (uri) => hasEntry(asic, uri),
    })
  } catch (cause) {
    throw malformed(`Failed to verify time-stamp hash chain: ${(cause as Error).message}`, cause)
  }
  return { data: asic.tsHashChainResult, batch: true }
}

/**
 * Verifies an ASiC-E container in X-Road's order (`AsicContainerVerifier.verify`), returning X-Road's code for each
 * failure: the container's structure ({@link readAsicContainer}) → the signature document → the signer from
 * message.xml (no configuration needed) → the signature references `/message.xml` or `/sig-hashchainresult.xml`
 * (else `malformed_signature`) → the time-stamp token → the time-stamp hash chain when there is one
 * (`malformed_signature`) → the imprint and the TSA among the approved TSAs of every instance
 * (`TimestampVerifier`) → the signature at the time-stamp's genTime, with the signer instance's configuration.
 * Throws a coded SecurityServerError when the container is not valid.
 */
export async function verifyAsicContainer(container: Uint8Array, trust: AsicTrustInput): Promise<AsicVerificationResult> {
  const asic = await readAsicContainer(container)
  const parsed = parseSignature(asic.signatureXml, { genericXml: true })
  const signer = signerFromMessage(asic.message)
  checkRequiredReferences(parsed.references)
  parseTimestampToken(asic.timestamp)
  const stamped = timestampedData(asic, parsed.signatureValue)
  const info = verifyTimestamp(asic.timestamp, stamped.data, timestampTrustOf(trust, signer))
  const conf = signatureTrustOf(trust, signer)

  const parts: Record<string, SignedPart> = { [MESSAGE_URI]: asic.message }
  asic.attachments.forEach((a, i) => {
    parts[`/attachment${i + 1}`] = a
  })
  const usesHashChain = parsed.references.some((r) => r.uri === SIG_HASH_CHAIN_RESULT_URI)
  if (usesHashChain && (asic.sigHashChainResult === undefined || asic.sigHashChain === undefined)) {
    throw new SecurityServerError('asic_hash_chain_result_not_found', 'Signature references a hash chain the container does not hold', { clientFault: true })
  }
  // X-Road `AsicContainerVerifier`: with a hash chain only message.xml is a required input; attachments the chain
  // references are resolved from the container and compared. Without one, the signature's own references decide
  // (the X-Road 7 direct form signs message.xml alone, the X-Road 8 form each part; xroad-protocols.md §4.4).
  const referenced = new Set(parsed.references.map((r) => r.uri))
  const signedParts = usesHashChain
    ? { [MESSAGE_URI]: asic.message }
    : Object.fromEntries(Object.entries(parts).filter(([uri]) => referenced.has(uri)))
  if (usesHashChain) {
    for (const values of parseHashChain(asic.sigHashChain!).steps.values()) {
      for (const v of values) if (v.kind === 'DataRef' && v.uri !== undefined) referenced.add(v.uri)
    }
  }
  const signature = verifySignature(asic.signatureXml, {
    parts: signedParts,
    hashChainResult: usesHashChain ? asic.sigHashChainResult : undefined,
    hashChain: usesHashChain ? asic.sigHashChain : undefined,
    resolve: (uri) => resolveEntry(asic, uri),
    shouldResolve: (uri) => hasEntry(asic, uri),
    expectedSigner: signer,
    trust: conf,
    atTime: info.genTime,
    genericXml: true,
  })
  const unresolved = new Set((signature.hashChain?.unresolved ?? []).map((u) => u.uri))
  return {
    valid: true,
    signer,
    signerCert: {
      subject: signature.signingCert.subjectRfc2253,
      issuer: signature.signingCert.issuerRfc2253,
      serialNumber: signature.signingCert.serialNumber.toString(10),
    },
    timestamp: { genTime: info.genTime.toISOString(), tsa: info.tsaCert.subjectRfc2253, batch: stamped.batch },
    ocsp: { responder: signature.signingOcsp.responderCert.subjectRfc2253, producedAt: signature.signingOcsp.producedAt.toISOString() },
    attachments: asic.attachments.map((_, i) => {
      const name = `/attachment${i + 1}`
      return { name: name.slice(1), verified: referenced.has(name) && !unresolved.has(name) }
    }),
    signature,
  }
}

/** The signer in the `INSTANCE/CLASS/CODE[/SUBSYSTEM]` form, for reports. */
export function describeSigner(id: ClientId): string {
  return formatIdPath(id)
}
