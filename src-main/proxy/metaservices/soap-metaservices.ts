import { randomBytes, randomUUID } from 'node:crypto'
import { XMLSerializer, type Attr, type Document, type Element } from '@xmldom/xmldom'
import {
  describeIdentifier, identifierToXml, IDENTIFIERS_NS, serviceId, serviceProvider, type ClientId, type ServiceId,
} from '@shared/domain/identifiers'
import { childElements, parseXml, SecurityServerError, textOf } from '../../platform'
import { decodeSoap, multipartSegments, SOAP_ENV_NS, XROAD_NS, type SoapHeader } from '../../soap'
import type { LocalServiceHandler } from '../proxy-deps'
import { aclEndpoints, type MetaserviceConfView } from './metaservice-conf'

/**
 * The SOAP metaservices a provider's security server answers itself (PR-META §3–4; X-Road's
 * `MetadataServiceHandlerImpl`), chosen by the service code alone, whoever the provider in the `service` header is:
 *
 * - `listMethods`: every WSDL service of the provider (code and version), in `xroad:listMethodsResponse`;
 * - `allowedMethods`: those on which the caller has an access right (its own, a local or a global group's), in
 *   `xroad:allowedMethodsResponse`; REST and OpenAPI services are in neither (PR-MREST has their lists);
 * - `getWsdl`: the WSDL of the service named in the body (`xroad:serviceCode`, optional `xroad:serviceVersion`), read
 *   from the description's URL as X-Road does (following the service's "Verify TLS certificate"), every
 *   `soap:address/@location` replaced by `http://example.org/xroad-endpoint` (PR-META §4 "WSDL-information
 *   modifications"), returned as a `text/xml` SwA attachment (`Content-Transfer-Encoding: binary`,
 *   `Content-ID: <wsdl=UUID@x-road.eu>`) after the request's body element renamed `getWsdlResponse`.
 *
 * No access right is needed for any of them (`shouldVerifyAccess` false); the request's signature is verified and the
 * exchange signed and logged like any other (`shouldVerifySignature`, `shouldLogSignature`). Failures are the server
 * proxy's own: `invalid_request` (no service code), `unknown_service` (no such service), `service_type` (the service is
 * not from a WSDL), `internal_error` (the WSDL could not be read or is not XML).
 */
export const LIST_METHODS = 'listMethods'
export const ALLOWED_METHODS = 'allowedMethods'
export const GET_WSDL = 'getWsdl'
export const GET_OPENAPI = 'getOpenAPI'

/** X-Road `MetadataServiceHandlerImpl.WSDL_ENDPOINT_ADDRESS`. */
export const WSDL_ENDPOINT_ADDRESS = 'http://example.org/xroad-endpoint'
const WSDL_SOAP_NS = 'http://schemas.xmlsoap.org/wsdl/soap/'
/** A WSDL as large as the administrator may add one (`WSDL_LIMITS` of server configuration). */
export const METASERVICE_WSDL_LIMITS = { maxBytes: 10 * 1024 * 1024, maxDepth: 64, maxNodes: 500_000, maxAttributes: 128, maxNameLength: 512 } as const
const REQUEST_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64, maxNodes: 20_000 } as const
const SOAP_CONTENT_TYPE = 'text/xml; charset=UTF-8'

export function soapMetaserviceHandler(header: Pick<SoapHeader, 'client' | 'service'>, conf: MetaserviceConfView): LocalServiceHandler | undefined {
  const code = header.service.serviceCode
  if (code !== LIST_METHODS && code !== ALLOWED_METHODS && code !== GET_WSDL) return undefined
  const provider = serviceProvider(header.service)
  return {
    faultsAsService: false,
    verifyAccess() {
      // MetadataServiceHandlerImpl.shouldVerifyAccess: false — anyone may ask.
    },
    async respond(requestSoap) {
      const envelope = requestEnvelope(requestSoap)
      if (code === GET_WSDL) return getWsdlResponse(envelope, header.service, provider, conf)
      const services = code === LIST_METHODS ? wsdlServices(conf, provider) : allowedWsdlServices(conf, provider, header.client)
      const bodyXml = methodListXml(code === LIST_METHODS ? 'listMethodsResponse' : 'allowedMethodsResponse', services)
      return { contentType: SOAP_CONTENT_TYPE, body: serialize(replaceBodyContent(envelope, bodyXml)) }
    },
  }
}

/** `getServicesByDescriptionType(provider, WSDL)`. */
export function wsdlServices(conf: MetaserviceConfView, provider: ClientId): ServiceId[] {
  return conf.servicesOf(provider).filter((s) => s.type === 'WSDL').map((s) => s.serviceId)
}

/** `getAllowedServicesByDescriptionType(provider, client, WSDL)`: a right on any endpoint of the service counts. */
export function allowedWsdlServices(conf: MetaserviceConfView, provider: ClientId, client: ClientId): ServiceId[] {
  return wsdlServices(conf, provider).filter((id) => {
    const rights = conf.accessRightsFor(id)
    return rights !== undefined && aclEndpoints(conf, client, rights).length > 0
  })
}

/** `xroad:listMethodsResponse` / `xroad:allowedMethodsResponse` (`MethodListType`, service-metainfo.xsd). */
export function methodListXml(element: 'listMethodsResponse' | 'allowedMethodsResponse', services: readonly ServiceId[]): string {
  const items = services.map((s) => identifierToXml(s, 'xroad:service')).join('')
  return `<xroad:${element} xmlns:xroad="${XROAD_NS}" xmlns:id="${IDENTIFIERS_NS}">${items}</xroad:${element}>`
}

async function getWsdlResponse(envelope: Document, service: ServiceId, provider: ClientId, conf: MetaserviceConfView) {
  const request = firstBodyElement(envelope)
  const field = (name: string): string | undefined => {
    const el = request === undefined ? undefined : childElements(request, XROAD_NS, name)[0]
    return el === undefined ? undefined : textOf(el)
  }
  const code = field('serviceCode')
  if (code === undefined || code.trim() === '') throw new SecurityServerError('invalid_request', 'Missing serviceCode in message body')
  const version = field('serviceVersion')
  const target = serviceId(provider, code, version === undefined || version === '' ? undefined : version)
  const description = conf.descriptionOf(target)
  if (description === undefined) throw new SecurityServerError('unknown_service', `Could not find wsdl URL for service ${describeIdentifier(target)}`)
  if (description.type !== 'WSDL') throw new SecurityServerError('service_type', 'Service is a REST service and does not have a WSDL')
  const wsdl = await conf.download(description.url, {
    verifyTls: description.sslVerify, maxBytes: METASERVICE_WSDL_LIMITS.maxBytes, failureCode: 'internal_error', what: 'Reading the WSDL failed',
  })
  const attachment = hideEndpointAddresses(wsdl.body)
  const soap = serialize(renameToResponse(envelope, service.serviceCode))
  const boundary = `xroad${randomBytes(18).toString('base64url')}`
  const body = Buffer.concat(multipartSegments<Uint8Array>(boundary, [
    { contentType: SOAP_CONTENT_TYPE, headers: [], body: soap },
    { contentType: 'text/xml', headers: [['Content-Transfer-Encoding', 'binary'], ['Content-ID', `<wsdl=${randomUUID()}@x-road.eu>`]], body: attachment },
  ]))
  // MimeUtils.mpRelatedContentType(boundary, text/xml): the answer's content type as X-Road's MultipartSoapMessageEncoder writes it.
  return { contentType: `multipart/related; type="text/xml"; charset=UTF-8; boundary=${boundary}`, body }
}

/**
 * `MetadataServiceHandlerImpl.modifyWsdl` with `OverwriteAttributeFilter.createOverwriteSoapAddressFilter`: the
 * `location` attribute of every SOAP 1.1 `soap:address` becomes `WSDL_ENDPOINT_ADDRESS`; comments and everything else
 * stay. Read with platform's `parseXml` (bounded, no DTDs: an entity-laden WSDL is refused, not expanded) and written
 * back as UTF-8 with an XML declaration. Not XML ⇒ `internal_error` (X-Road's `systemException`).
 */
export function hideEndpointAddresses(wsdl: Uint8Array): Buffer {
  let doc: Document
  try {
    doc = parseXml(decodeSoap(wsdl, undefined).text, METASERVICE_WSDL_LIMITS)
  } catch (error) {
    throw new SecurityServerError('internal_error', `The WSDL is not valid XML: ${(error as Error).message}`, { cause: error })
  }
  const addresses = doc.getElementsByTagNameNS(WSDL_SOAP_NS, 'address')
  for (let i = 0; i < addresses.length; i++) {
    const address = addresses.item(i) as Element
    if (address.hasAttributeNS(null, 'location') || address.hasAttribute('location')) address.setAttribute('location', WSDL_ENDPOINT_ADDRESS)
  }
  return serialize(doc)
}

function requestEnvelope(requestSoap: Uint8Array): Document {
  return parseXml(decodeSoap(requestSoap, undefined).text, REQUEST_LIMITS)
}

function soapBody(doc: Document): Element {
  const envelope = doc.documentElement
  const body = envelope === null ? undefined : childElements(envelope, SOAP_ENV_NS, 'Body')[0]
  if (body === undefined) throw new SecurityServerError('invalid_soap', 'The request has no SOAP body')
  return body
}

function firstBodyElement(doc: Document): Element | undefined {
  return childElements(soapBody(doc))[0]
}

/** `SoapUtils.toResponse`: the request with its body's first element renamed `{serviceCode}Response` (same namespace and prefix). */
function renameToResponse(doc: Document, serviceCode: string): Document {
  const request = firstBodyElement(doc)
  if (request === undefined) throw new SecurityServerError('invalid_soap', 'The request has an empty SOAP body')
  const name = `${request.prefix ? `${request.prefix}:` : ''}${serviceCode}Response`
  const response = doc.createElementNS(request.namespaceURI, name)
  for (let i = 0; i < request.attributes.length; i++) {
    const attribute = request.attributes.item(i) as Attr
    response.setAttributeNS(attribute.namespaceURI, attribute.name, attribute.value)
  }
  while (request.firstChild !== null) response.appendChild(request.firstChild)
  request.parentNode?.replaceChild(response, request)
  return doc
}

/** `SoapUtils.toResponse` with `removeContents` and the marshalled answer: the request's header, the answer as the body. */
function replaceBodyContent(doc: Document, bodyXml: string): Document {
  const body = soapBody(doc)
  while (body.firstChild !== null) body.removeChild(body.firstChild)
  const answer = parseXml(bodyXml, { maxBytes: 64 * 1024 * 1024, maxNodes: 10_000_000 }).documentElement
  if (answer !== null) body.appendChild(doc.importNode(answer, true))
  return doc
}

/** The document's nodes (comments around the root included, the XML declaration and a DOCTYPE not) after an UTF-8 declaration. */
function serialize(doc: Document): Buffer {
  const serializer = new XMLSerializer()
  let text = '<?xml version="1.0" encoding="UTF-8"?>'
  for (let node = doc.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType === node.DOCUMENT_TYPE_NODE || (node.nodeType === node.PROCESSING_INSTRUCTION_NODE && node.nodeName === 'xml')) continue
    text += serializer.serializeToString(node as never)
  }
  return Buffer.from(text, 'utf8')
}
