/**
 * SOAP: the X-Road SOAP message protocol 4.0 (PR-MESS) as pure functions over a message's bytes — the envelope and its
 * X-Road header, SOAP with attachments and MTOM, faults, `requestHash`, the consumer's consistency checks, `SOAPAction`.
 */
export {
  readSoap, checkProtocolVersion, mediaTypeOf, DEFAULT_SOAP_LIMITS,
  type Soap, type SoapMessage, type SoapFault, type SoapLayout, type SoapLimits,
} from './soap-parser'
export {
  SOAP_ENV_NS, SOAP_ENCODING_NS, XROAD_NS, REPRESENTATION_NS, SECURITY_TOKEN_NS, REQUEST_HASH_ALGORITHM_ID,
  type SoapHeader, type RequestHash, type RepresentedParty, type SecurityToken,
} from './soap-header'
export { decodeSoap, charsetOf, declaredEncoding, type SoapCharset, type DecodedSoap } from './soap-encoding'
export {
  decodeSoapMessage, MAX_NESTING, type DecodedSoapMessage, type SoapAttachment, type MultipartSplitter, type MimeHeaders,
} from './soap-message-decoder'
export { requestHashOf, withRequestHash, checkRequestHash } from './request-hash'
export { checkConsistency, firstInconsistentField } from './soap-consistency'
export { validateSoapAction, ORIGINAL_SOAP_ACTION_HEADER } from './soap-action'
export { soapFaultXml, SoapFaultError, faultError, faultCodeOf } from './soap-fault'
export { multipartSegments, type MultipartPart } from './soap-multipart-encoder'
