/**
 * Management requests (pr-mserv): the message model shared by the security server and the lab's management service,
 * the sender that signs and sends them, and the registration states derived from global configuration.
 */
export {
  MANAGEMENT_SERVICE_CODES, MANAGEMENT_REQUEST_FORMS, MANAGEMENT_REQUEST_MAX_BYTES, MANAGEMENT_SIGNATURE_ALGORITHMS,
  SIGNATURE_ALGORITHM_HEADER, SOAP_PART_CONTENT_TYPE,
  buildManagementRequest, buildManagementResponse, parseManagementRequest, parseManagementResponse, managementServiceId,
  isManagementServiceCode, encodeManagementParts, decodeManagementParts, managementSignatureAlgorithm, verifyManagementSignature,
  type ManagementServiceCode, type ManagementRequestForm, type ManagementRequestBody, type ManagementEnvelopeOptions,
  type ManagementMessage, type ManagementSignatureAlgorithm, type SignaturePart, type ManagementParts, type EncodedManagementRequest,
} from './management-messages'
export { postManagementRequest, type ManagementPostOptions, type ManagementHttpResponse } from './management-request-client'
export {
  createManagementSender,
  type ManagementSender, type ManagementSenderDeps, type PreparedManagementRequest, type SentManagementRequest, type ManagementRequestInput,
} from './management-request-sender'
export {
  createManagementRequests, settleWithGlobalConf, followOwnerChange, clientSubject, authCertSubject, SERVER_SUBJECT,
  type ManagementRequests, type ManagementRequestsDeps, type ManagementRequestRecord, type ManagementOutcome, type ManagementCallOptions,
  type DerivedClientState, type DerivedAuthCertState,
} from './management-requests'
