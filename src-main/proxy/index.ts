/**
 * Proxy: mediates messages between service clients and service providers — the REST r1 protocol towards
 * information systems, the signed multipart transport between security servers, and both pipelines.
 */
export {
  parseRestRequest, restRequestHeaderPart, PROTOCOL_VERSION_SEGMENT,
  type RestRequest, type IncomingRestRequest, type RepresentedParty,
} from './rest/rest-request'
export { serializeRestRequestPart, serializeRestResponsePart, parseRestHeaderPart, type RestRequestPart, type RestResponsePart } from './rest/rest-header-part'
export { computeRequestHash, requestHashEquals } from './rest/request-hash'
export { providerResponseHeaders, checkResponseConsistency, type ResponseContext } from './rest/rest-response'
export { FILTERED_HEADERS, XROAD_HEADERS, isFilteredHeader, lastHeader, type HeaderList } from './rest/rest-headers'
export { acceptValues, restErrorResponse, soapFaultResponse, type ErrorResponse } from './proxy-fault'
export { soapFaultXml } from '../soap'
export { parseMultipart, splitMultipart, encodeMultipart, boundaryOf, newBoundary, DEFAULT_MULTIPART_LIMITS, type MimePart, type MultipartLimits } from './transport/multipart'
export {
  decodeTransportMessage, encodeFaultTransportMessage, encodeRestTransportMessage, encodeRestTransportStream, readTransportMessage, transportRequestHeaders, checkHashAlgorithm,
  requireRestMessage, TransportPartOrder, PART_TYPES, TRANSPORT_HEADERS, HASH_ALGORITHM, MAX_STREAMED_PART_BYTES,
  type TransportMessage, type TransportMessageInput, type MessageKind, type TransportPartRole,
} from './transport/transport-message'
export { MultipartStreamReader, readMultipartStream, type PartSink, type PartHandler } from './transport/multipart-stream'
export {
  handleClientProxyRequest, routeRequest, checkIsAuthentication, DELIVERY_HEADER, type ClientProxyRequest, type ClientProxyDeps, type RequestDelivery,
} from './client-proxy'
export { handleServerProxyRequest, signedParts, type ServerProxyRequest, type ServerProxyDeps, type ProxyResponse } from './server-proxy'
export {
  MessageBudget, DEFAULT_MESSAGE_BUDGET, busy, type MessageBudgetLimits, type MessageBudgetStats, type Reservation,
} from './body/message-budget'
export {
  BodyStore, BodyReceiver, LOAD_COST, LOG_PIECE_BYTES, bufferBody, bufferSource, concatSources, readSource, defaultBodyStore,
  type BodySource, type BodyDigest, type MessageBody, type LoadedBody, type SpoolFileContent, type BodyLimit, type IncomingBody, type ReceiveOptions,
} from './body/message-body'
export { checkProxyVersion, serviceUrl, UNKNOWN_PROXY_VERSION } from './pipeline/server-steps'
export type {
  GlobalConfView, ProviderServer, MessagePart, MessageSignature, MessageSigner, MessageVerifier, MessageRecord, MessageLogWriter,
  ServiceCall, ServiceResponse, ServiceClient, PeerRequest, PeerResponse, PeerClient, TlsClientVerifier, ServerConfView,
  ExchangeObservation, ExchangeObserver,
} from './proxy-deps'
export { startServerProxyListener, DEFAULT_SERVER_PROXY_PORT, type ServerProxyListenerOptions, type RunningServerProxy } from './http/server-proxy-listener'
export {
  startClientProxyListener, type ClientProxyListenerOptions, type RunningClientProxy, type EvidenceDownload, type EvidenceDownloads, type EvidenceCaller,
} from './http/client-proxy-listener'
export { startOcspResponderListener, DEFAULT_OCSP_RESPONDER_PORT, type OcspResponderListenerOptions } from './http/ocsp-responder-listener'
export { startHealthCheckListener, type HealthAnswer, type HealthCheckListenerOptions } from './http/health-check-listener'
export { createPeerClient, parseAddress, type PeerClientOptions, type PeerClientWithStats } from './http/peer-client'
export { createServiceClient, type ServiceClientOptions, type ClosableServiceClient } from './http/service-client'
export { encodedId, idPath, providerOf } from './identifier-text'
export { PeerCheckCache, type PeerCheckInputs, type PeerCheckStats } from './http/peer-check-cache'
export { fetchPeerOcspResponses, type PeerOcspFetchOptions } from './http/peer-ocsp-client'
export { DEFAULT_LISTENER_LIMITS, type ListenerLimits, type RunningListener } from './http/http-support'
export {
  XROAD_CLIENT_TLS_CIPHERS, XROAD_TLS_CIPHERS, XROAD_TLS_OPTIONS, clientTlsOptions, peerCertificateChain, type AuthTlsCredentials, type ClientTlsProfile,
} from './http/tls-profile'
export {
  soapMetaserviceHandler, methodListXml, hideEndpointAddresses, wsdlServices, allowedWsdlServices,
  LIST_METHODS, ALLOWED_METHODS, GET_WSDL, GET_OPENAPI, WSDL_ENDPOINT_ADDRESS,
} from './metaservices/soap-metaservices'
export {
  restMetaserviceHandler, restServices, allowedRestServices, type LocalRestServiceHandler, type LocalRestAnswer, type RestServiceDetails,
} from './metaservices/rest-metaservices'
export { listClientsResponse, clientListXml, acceptsJson, requestedInstance, LIST_CLIENTS_PATH, type ListedClient } from './metaservices/list-clients'
export { type MetaserviceConfView, type MetaserviceService, type DescriptionSource, type DescriptionKind, type DownloadedDocument } from './metaservices/metaservice-conf'
