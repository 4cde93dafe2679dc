/**
 * X-Road's proxy test cases (`src/service/proxy/proxy-core/src/test/java/.../testsuite/testcases/*.java`) as Gatehouse
 * runs them: for each class, the query of `messages/soap-proxy-queries` it sends, what its service answers, and the
 * outcome X-Road expects (the fault code, or a normal response). One table for every runner: the in-memory pipelines
 * (tests/proxy/soap-pipelines.test.ts), the real TLS pair (tests/integration/soap-exchange.test.ts) and the
 * conformance suite (scripts/lib/soap-conformance.ts, `npm run conformance:soap`). Plain data: no test framework here.
 */
export const SOAP_PROXY_QUERIES_DIR = ['messages', 'soap-proxy-queries'] as const
export const BOUNDARY = 'jetty771207119h3h10dty'
export const RELATED = `multipart/related; charset=UTF-8; boundary=${BOUNDARY}`
export const MTOM = `Multipart/Related; start-info="application/soap+xml"; type="application/xop+xml"; boundary="${BOUNDARY}"`
export const XML = 'text/xml; charset=utf-8'

/** What the service behind the provider answers (X-Road's DummyService: a file with the request's query id). */
export interface CaseService {
  status?: number
  contentType?: string
  file?: string
  /** ServiceConnectionAborted: announces 1000 bytes and closes the connection without sending them. */
  abort?: boolean
}

export interface SoapProxyCase {
  /** `gatehouse`: a case of Gatehouse's own beside X-Road's (no class of that name); not counted as conformance. */
  origin?: 'gatehouse'
  /** The query file the information system sends. */
  query: string
  contentType?: string
  service?: CaseService
  /** The consumer's access right to the query's service at the provider. */
  rights?: 'allow' | 'deny' | 'unknown' | 'disabled'
  /** The server proxy's side: the provider not registered there, the service without an address, down, or at a host that does not resolve. */
  provider?: 'unregistered' | 'no-url' | 'down' | 'unknown-host'
  /** Whose signing fails (X-Road's SigningCtx throwing `cannot_create_signature`): the token of that side logged out. */
  signingFails?: 'client' | 'server'
  /** A UTF-8 byte order mark before the query and the answer (X-Road's addUtf8BomToRequestFile / ResponseFile). */
  bom?: boolean
  /** AttachmentBig: the query is `getstate.query` followed by a generated attachment of this many MiB. */
  bigAttachmentMiB?: number
  headers?: Array<[string, string]>
  method?: string
  /** undefined: a normal response; else the fault code. */
  fault?: string
  /** Needs a real pair (metaservices, DNS, tokens, sockets): not run by the in-memory pipelines. */
  pairOnly?: boolean
}

/** X-Road's test cases as run here: name → what it sends, what its service answers, what it expects. */
export const SOAP_PROXY_CASES: Record<string, SoapProxyCase> = {
  NormalMessage: { query: 'getstate.query', service: { file: 'getstate.answer' } },
  NormalSubsystem: { query: 'getstate-subsystem.query', service: { file: 'getstate-subsystem.answer' } },
  Attachment: { query: 'attachm.query', contentType: RELATED, service: { file: 'attachm.answer' } },
  Attachment2: { query: 'attachm2.query', contentType: `multipart/related; boundary=${BOUNDARY}`, service: { file: 'attachm2.answer', contentType: RELATED } },
  AttachmentMTOM: { query: 'attachm-mtom.query', contentType: MTOM, service: { file: 'attachm-mtom.answer', contentType: `${MTOM};charset=UTF-8` } },
  MimeSoap: { query: 'mimesoap.query', contentType: RELATED, service: { file: 'mimesoap.answer', contentType: RELATED } },
  SeveralAttachments: { query: 'attachments.query', contentType: RELATED, service: { file: 'attachm.answer' } },
  SeveralAttachmentsResponse: { query: 'attachments.query', contentType: RELATED, service: { file: 'attachments.answer', contentType: RELATED } },
  Utf8BomAttachment2: { query: 'attachm2-utf8bom-inside.query', contentType: `multipart/related; boundary=${BOUNDARY}`, service: { file: 'attachm2-utf8bom-inside.answer', contentType: RELATED } },
  CDATAMessage: { query: 'cdata.query', service: { file: 'cdata.answer' } },
  CommentMessage: { query: 'simple.query', service: { file: 'simple-comment.answer' } },
  DefaultNamespaceMessage: { query: 'getstate-defaultnamespace.query', service: { file: 'getstate.answer' } },
  MissingUserIdHeader: { query: 'missing-userId.query', service: { file: 'missing-userId.answer' } },
  NoWhitespaceMessage: { query: 'nowhitespace.query', service: { file: 'nowhitespace.answer' } },
  SplitHeaderMessage: { query: 'split-header.query', service: { file: 'split-header.answer' } },
  XmlEncodedMessage: { query: 'xmlencoded.query', service: { file: 'xmlencoded.answer' } },
  ResponseWithRequestHash: { query: 'getstate.query', service: { file: 'requesthash.answer' } },
  NonUtf8ResponseContentType: { query: 'getstate.query', service: { file: 'getstate-iso88591.answer', contentType: 'text/xml; charset=ISO-8859-1' } },
  SoapActionHeader: { query: 'getstate.query', headers: [['SOAPAction', '"urn:getState"']], service: { file: 'getstate.answer' } },
  SoapActionEmptyHeader: { query: 'getstate.query', headers: [['SOAPAction', '']], service: { file: 'getstate.answer' } },

  EmptyQuery: { query: 'empty.query', fault: 'client.invalid_soap' },
  EmptyMultipartRequest: { query: 'empty.query', contentType: RELATED, fault: 'client.missing_soap' },
  MissingBody: { query: 'missing-body.query', fault: 'client.missing_body' },
  MissingHeader: { query: 'no-header.query', fault: 'client.missing_header' },
  MalformedBody1: { query: 'malformed-body1.query', fault: 'client.invalid_body' },
  MalformedBody2: { query: 'malformed-body2.query', fault: 'client.invalid_body' },
  MalformedBody3: { query: 'malformed-body3.query', fault: 'client.inconsistent_headers' },
  MalformedProtocolVersionHeader: { query: 'malformed-protocolVersion.query', fault: 'client.invalid_protocol_version' },
  MissingProtocolVersionHeader: { query: 'missing-protocolVersion.query', fault: 'client.missing_header_field' },
  WrongProtocolVersionHeader: { query: 'wrong-protocolVersion.query', fault: 'client.invalid_protocol_version' },
  MissingObjectTypeMessage: { query: 'missingobjecttype.query', fault: 'client.invalid_xml' },
  FaultyHeader: { query: 'faulty-header2.query', fault: 'client.duplicate_header_field' },
  AttachmentFaulty: { query: 'attachm-error.query', contentType: RELATED, fault: 'client.invalid_content_type' },
  AttachmentFaultySoap: { query: 'attachm-faulty-soap.query', contentType: RELATED, fault: 'client.missing_header_field' },
  AttachmentNoSoap: { query: 'attachm-no-soap.query', contentType: RELATED, fault: 'client.invalid_content_type' },
  FaultyRequestContentType: { query: 'getstate.query', contentType: 'blah', fault: 'client.invalid_content_type' },
  SoapFaultToClientProxy: { query: 'fault.query', fault: 'client.CODE' },
  WrongHttpMethod: { query: 'getstate.query', method: 'GET', fault: 'client.invalid_http_method' },
  SoapActionMalformedHeader: { query: 'getstate.query', headers: [['SOAPAction', 'urn:getState']], fault: 'client.invalid_soap_action' },
  MissingOrg: { query: 'missing-org.query', fault: 'server.clientproxy.unknown_member' },

  NotAllowed: { query: 'notAllowed.query', rights: 'deny', fault: 'server.serverproxy.access_denied' },
  UnknownService: { query: 'getstate.query', rights: 'unknown', fault: 'server.serverproxy.unknown_service' },
  ServiceDisabled: { query: 'getstate.query', rights: 'disabled', fault: 'server.serverproxy.service_disabled' },
  AttachmentFaultySoapResponse: { query: 'getstate.query', service: { file: 'attachm-faulty-soap.query', contentType: RELATED }, fault: 'server.serverproxy.service_failed.missing_header_field' },
  AttachmentNoSoapResponse: { query: 'getstate.query', service: { file: 'attachm-no-soap.query', contentType: RELATED }, fault: 'server.serverproxy.service_failed.invalid_content_type' },
  EmptyMultipartResponse: { query: 'getstate.query', service: { file: 'empty.query', contentType: RELATED }, fault: 'server.serverproxy.service_failed.invalid_message' },
  EmptyResponse: { query: 'getstate.query', service: { file: 'empty.query' }, fault: 'server.serverproxy.service_failed.invalid_soap' },
  FaultyHeaderResponse: { query: 'getstate.query', service: { file: 'faulty-header.query' }, fault: 'server.serverproxy.service_failed.missing_header_field' },
  FaultyResponseContentType: { query: 'getstate.query', service: { file: 'getstate.answer', contentType: 'blah' }, fault: 'server.serverproxy.service_failed.invalid_content_type' },
  MalformedBodyResponse: { query: 'getstate.query', service: { file: 'malformed-body2.query' }, fault: 'server.serverproxy.service_failed.invalid_body' },
  MissingBodyResponse: { query: 'getstate.query', service: { file: 'missing-body.query' }, fault: 'server.serverproxy.service_failed.missing_body' },
  MissingHeaderResponse: { query: 'getstate.query', service: { file: 'no-header.query' }, fault: 'server.serverproxy.service_failed.missing_header' },
  ServerProxyAttachmentError: { query: 'getstate.query', service: { file: 'attachm-error.query', contentType: RELATED }, fault: 'server.serverproxy.service_failed.invalid_content_type' },
  ServiceFaultyMultipart: { query: 'getstate.query', service: { file: 'faulty-multipart.query', contentType: `multipart/related; boundary=${BOUNDARY}; charset=utf-8` }, fault: 'server.serverproxy.service_failed.invalid_message' },
  ServiceFaultyFault: { query: 'getstate.query', service: { file: 'faulty-fault.answer', contentType: 'text/xml' }, fault: 'soap:Server' },
  ServiceReturnsFault: { query: 'getstate.query', service: { file: 'fault.query', status: 500, contentType: 'text/xml' }, fault: 'CODE' },
  ServiceHttpError: { query: 'getstate.query', service: { status: 502, contentType: 'text/html' }, fault: 'server.serverproxy.service_failed.http_error' },
  SoapFaultInMultipartResponse: { query: 'soapfault-mtom.query', contentType: MTOM, service: { file: 'soapfault-mtom.answer', contentType: `${MTOM};charset=UTF-8` }, fault: 'soap:Server' },
  // ServerMessageProcessor: the provider checked as the SOAP part is read (service_failed.); the service called before
  // the response encoder exists (plain faults: a missing address as it is, a failed call with service_failed.).
  ProviderNotRegistered: { origin: 'gatehouse', query: 'getstate.query', provider: 'unregistered', fault: 'server.serverproxy.service_failed.unknown_member' },
  ServiceMissingUrl: { origin: 'gatehouse', query: 'getstate.query', provider: 'no-url', fault: 'server.serverproxy.service_missing_url' },
  ServiceDown: { origin: 'gatehouse', query: 'getstate.query', provider: 'down', fault: 'server.serverproxy.service_failed.network_error' },
  ServerClientInconsistency: { query: 'xml.query', service: { file: 'getstate.query' }, fault: 'server.clientproxy.service_failed.inconsistent_response' },

  // Run on the real pair only (scripts/lib/soap-conformance.ts).
  ListMethodsMessage: { query: 'listMethods.query', pairOnly: true },
  AllowedMethodsMessage: { query: 'allowedMethods.query', pairOnly: true },
  Utf8BomNormalSubsystem: { query: 'getstate-subsystem.query', bom: true, service: { file: 'getstate-subsystem.answer' } },
  InvalidServiceAddress: { query: 'getstate.query', provider: 'unknown-host', fault: 'server.serverproxy.service_failed.unknown_host', pairOnly: true },
  InvalidServiceAddress2: { query: 'attachm.query', contentType: RELATED, provider: 'unknown-host', service: { file: 'attachm.answer' }, fault: 'server.serverproxy.service_failed.unknown_host', pairOnly: true },
  ServiceConnectionAborted: { query: 'getstate.query', service: { abort: true }, fault: 'server.serverproxy.service_failed.invalid_content_type', pairOnly: true },
  SigningFailsInClientProxy: { query: 'getstate.query', signingFails: 'client', fault: 'server.clientproxy.cannot_create_signature', pairOnly: true },
  SigningFailsInServerProxy: { query: 'getstate.query', signingFails: 'server', fault: 'server.serverproxy.cannot_create_signature', pairOnly: true },
  // X-Road streams 650 MB; the pair sends 8 MiB (the same path: spooled past the threshold, hashed as it arrives), under
  // the message log's max-loggable-message-body-size (10 MiB by default), which Gatehouse applies to SOAP attachments too.
  AttachmentBig: { query: 'getstate.query', bigAttachmentMiB: 8, service: { file: 'getstate.answer' }, pairOnly: true },
}

/**
 * X-Road's test cases whose query files are present but which cannot run against a real pair, and why: they replace
 * one of the two proxies with an emulator that sends what a security server never sends, or need TLS set-ups and
 * global-configuration states the lab pair does not have.
 */
export const NOT_RUN_ON_PAIR: Record<string, string> = {
  ...Object.fromEntries([
    'ServerProxyConnectionAborted', 'ServerProxyConnectionAborted2', 'ServerProxyConnectionAborted3', 'ServerProxyEmptyFault',
    'ServerProxyEmptyResponse', 'ServerProxyFaultyAttachment', 'ServerProxyHttpError', 'ServerProxyInvalidFault', 'ServerProxyMissingBody',
    'ServerProxyNoBoundary', 'ServerProxyProcessingError', 'UnsignedMessageFromServerProxy', 'InvalidContentTypeFromServerProxy',
  ].map((name) => [name, 'X-Road replaces the provider\'s server proxy with an emulator answering a malformed transport message; a real provider never sends one'])),
  ...Object.fromEntries([
    'NoSignatureToServerProxy', 'NoSoapToServerProxy', 'UnsignedMessageFromClientProxy', 'WrongHttpMethodServerProxy', 'InvalidContentTypeFromClientProxy',
  ].map((name) => [name, 'X-Road sends a malformed transport message straight to the server proxy in place of a client proxy; a real consumer never sends one'])),
  ...Object.fromEntries([
    'SslNormalMessage', 'SslClientAuth', 'SslClientAuthExpiredISCert', 'SslClientAuthNoISCert', 'SslClientAuthWrongISCert', 'SslClientCertVerificationError',
    'SslClientCipherSuiteSetupError', 'SslAuthCertNotMatchesOrg', 'SslAuthTrustManagerError', 'SslSelectFastestProxy', 'SslSelectFastestProxyNoConnections',
    'SslToServiceAuth', 'SslToServiceNoAuth', 'SslToServiceNoISCerts', 'SslToServiceWrongISCert',
  ].map((name) => [name, 'TLS set-ups (information-system certificates, HTTPS services, several provider addresses, a peer with a wrong certificate) the lab pair does not have'])),
  InvalidProviderAddress3: 'global configuration naming the provider with no server address; the lab always publishes one',
  ServerProxyMaintenanceMode: 'the provider\'s server in maintenance mode in global configuration; the lab does not publish that flag',
}

/**
 * Where a real Gatehouse pair knowingly answers otherwise than X-Road's test case expects, and why. Such a case still
 * counts as differing in the conformance figure.
 */
export const KNOWN_PAIR_DIFFERENCES: Record<string, string> = {
  ServiceConnectionAborted: 'The service announces 1000 bytes without a Content-Type and closes the connection. Gatehouse reads a service\'s ' +
    'answer as it arrives and reports the broken transfer (service_failed.network_error); X-Road looks at the missing Content-Type ' +
    'first (service_failed.invalid_content_type). Both refuse the answer and never pass it on.',
  SigningFailsInServerProxy: 'X-Road\'s case injects a failure into building the response signature, which a real signer cannot be made ' +
    'to do; the pair can only take the provider\'s signing certificate away before the request, and then Gatehouse, like X-Road\'s ' +
    'ServerMessageProcessor.createSigningCtx for that state, refuses while reading the request: service_failed.cannot_create_signature.',
}
