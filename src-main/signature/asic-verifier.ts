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
import { verifyTimestamp, type TimestampInfo } from './timestamp-verifier'
import type { VerificationTrust } from './verification-trust'
import { base64Of, C14N_URIS, canonicalize, digest, digestAlgorithmFromUri, DS_NS } from './xml-support'

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
 * REST response ⇒ provider of `x-road-service` (xroad-protocols.md §2.3, §6.4).
 */
export function signerFromMessage(message: Uint8Array): ClientId {
  const bytes = Buffer.from(message)
  const start = bytes.toString('utf8', 0, Math.min(bytes.length, 64)).replace(/^\uFEFF/, '').trimStart()
  try {
    if (start.startsWith('<')) return soapSigner(bytes)
    return restSigner(bytes.toString('utf8'))
  } catch (error) {
    if (error instanceof IdentifierError) throw new SecurityServerError('invalid_message', `message.xml has an invalid identifier: ${error.message}`, { clientFault: true, cause: error })
    throw error
  }
}

function soapSigner(bytes: Buffer): ClientId {
  const envelope = parseXml(bytes).documentElement as Element
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

/** Time-stamp first (X-Road `verifyTimestamp`): returns genTime and the TSA. */
function verifyContainerTimestamp(asic: AsicContents, trust: VerificationTrust): { info: TimestampInfo; batch: boolean } {
  if (asic.tsHashChainResult !== undefined) {
    if (asic.timestampToken === undefined) throw new SecurityServerError('asic_timestamp_not_found', 'Container has no time-stamp token', { clientFault: true })
    if (asic.asicManifest !== undefined) checkAsicManifest(asic)
    try {
      verifyHashChain(asic.tsHashChainResult, {
        inputs: { [TS_SIGNATURE_URI]: null },
        resolve: (uri) => (uri === TS_HASH_CHAIN_URI ? asic.tsHashChain : resolveEntry(asic, uri)),
        shouldResolve: (uri) => hasEntry(asic, uri),
      })
    } catch (cause) {
      // X-Road: "Failed to verify time-stamp hash chain" with X_MALFORMED_SIGNATURE.
      throw malformed(`Failed to verify time-stamp hash chain: ${(cause as Error).message}`, cause)
    }
    return { info: verifyTimestamp(asic.timestampToken, asic.tsHashChainResult, trust), batch: true }
  }
  const parsed = parseSignature(asic.signatureXml)
  if (parsed.timestampToken === undefined) {
    throw new SecurityServerError('asic_timestamp_not_found', 'Container has neither a batch time-stamp nor a signature time-stamp', { clientFault: true })
  }
  // Single time-stamp: imprint over the raw SignatureValue bytes (xroad-protocols.md §6.2); the XAdES form
  // (canonical ds:SignatureValue element) is accepted as a fallback.
  try {
    return { info: verifyTimestamp(parsed.timestampToken, parsed.signatureValue, trust), batch: false }
  } catch (error) {
    const valueEl = parsed.signature.getElementsByTagNameNS(DS_NS, 'SignatureValue')[0] as Element | undefined
    if (valueEl !== undefined && error instanceof SecurityServerError && /imprint/.test(error.message)) {
      for (const c14n of [C14N_URIS.exclusive, C14N_URIS.inclusive]) {
        try {
          return { info: verifyTimestamp(parsed.timestampToken, Buffer.from(canonicalize(valueEl, c14n), 'utf8'), trust), batch: false }
        } catch {
          // try the next serialization; the original error is reported below
        }
      }
    }
    throw error
  }
}

/** The ASiCManifest's digest over ts-hashchainresult.xml must hold (ETSI EN 319 162-1 §4.4.3). */
function checkAsicManifest(asic: AsicContents): void {
  const manifest = parseXml(asic.asicManifest!).documentElement as Element
  const refs = manifest.getElementsByTagNameNS('http://uri.etsi.org/2918/v1.2.1#', 'DataObjectReference')
  for (let i = 0; i < refs.length; i++) {
    const ref = refs.item(i) as Element
    const data = resolveEntry(asic, ref.getAttribute('URI') ?? '')
    const method = ref.getElementsByTagNameNS(DS_NS, 'DigestMethod')[0] as Element | undefined
    const value = ref.getElementsByTagNameNS(DS_NS, 'DigestValue')[0] as Element | undefined
    if (data === undefined || method === undefined || value === undefined) throw malformed('ASiCManifest references data the container does not hold')
    const algorithm = digestAlgorithmFromUri(method.getAttribute('Algorithm') ?? '')
    if (!digest(algorithm, data).equals(base64Of(value.textContent))) {
      throw malformed(`ASiCManifest digest of ${ref.getAttribute('URI')} does not match`)
    }
  }
}

/**
 * Verifies an ASiC-E container with the asicverifier's rules; `trust` is the verification configuration (or a
 * function giving it for the signer's instance). Throws a coded SecurityServerError when the container is not valid.
 */
export async function verifyAsicContainer(
  container: Uint8Array,
  trust: VerificationTrust | ((instance: string) => VerificationTrust),
): Promise<AsicVerificationResult> {
  const asic = await readAsicContainer(container)
  const signer = signerFromMessage(asic.message)
  const conf = typeof trust === 'function' ? trust(signer.xRoadInstance) : trust
  const { info, batch } = verifyContainerTimestamp(asic, conf)

  const parts: Record<string, SignedPart> = { '/message.xml': asic.message }
  asic.attachments.forEach((a, i) => {
    parts[`/attachment${i + 1}`] = a
  })
  const parsed = parseSignature(asic.signatureXml)
  const usesHashChain = parsed.references.some((r) => r.uri === '/sig-hashchainresult.xml')
  if (usesHashChain && (asic.sigHashChainResult === undefined || asic.sigHashChain === undefined)) {
    throw new SecurityServerError('asic_hash_chain_result_not_found', 'Signature references a hash chain the container does not hold', { clientFault: true })
  }
  // X-Road `AsicContainerVerifier`: with a hash chain only message.xml is a required input; attachments the chain
  // references are resolved from the container and compared. Without one, the signature's own references decide
  // (the X-Road 7 direct form signs message.xml alone, the X-Road 8 form each part; xroad-protocols.md §4.4).
  const referenced = new Set(parsed.references.map((r) => r.uri))
  const signedParts = usesHashChain
    ? { '/message.xml': parts['/message.xml']! }
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
    timestamp: { genTime: info.genTime.toISOString(), tsa: info.tsaCert.subjectRfc2253, batch },
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
