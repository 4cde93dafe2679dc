import type { ClientId, GlobalGroupId, SecurityServerId, ServiceId } from '@shared/domain/identifiers'
import type { ServiceAccessRights } from '../access-control'
import type { DerivedCacheScope } from '../platform'
import type { BodyLimit, BodySource, BodyStore, MessageBody } from './body/message-body'
import type { HeaderList } from './rest/rest-headers'

/**
 * The narrow interfaces the proxy pipelines need from the other domains (global-conf, signer, signature,
 * message-log, server-conf) and from the HTTP edges; the composition root wires the real ones.
 */
export interface ProviderServer {
  serverId: SecurityServerId
  address: string
  inMaintenanceMode: boolean
}

export interface GlobalConfView {
  /** Throws `global_conf_outdated` when the configuration has expired (PR-GCONF §2.7). */
  assertValid(): void
  instanceIdentifier(): string
  /** Servers whose owner or client list contains `provider` (xroad-protocols.md §4.1). */
  serversOf(provider: ClientId): ProviderServer[]
  /** An auth certificate (DER) is registered for a server where `party` is owner or client (`authCertMatchesMember`). */
  authCertMatchesMember(authCert: Uint8Array, party: ClientId): boolean
  memberExists(party: ClientId): boolean
  isGlobalGroupMember(client: ClientId, group: GlobalGroupId): boolean
}

/**
 * One signed part: `/message.xml` (the header part) with its bytes, or `/attachment1` (the REST body) by the SHA-512
 * taken while it arrived (the reference digest X-Road computes over the part's bytes; xroad-protocols.md §4.4).
 */
export type MessagePart = { name: string; bytes: Uint8Array } | { name: string; digest: Uint8Array; digestAlgorithm: 'SHA-512' }

export interface MessageSignature {
  signatureXml: Uint8Array
  hashChainResult?: Uint8Array
  hashChain?: Uint8Array
}

export interface MessageSigner {
  /** Signs with `member`'s signing key (xroad-protocols.md §4.4–4.6). */
  sign(member: ClientId, parts: MessagePart[]): Promise<MessageSignature>
  /**
   * Throws when `member` has no signing key and certificate this server can sign with now (X-Road's
   * `SigningCtxProvider.createSigningCtx`, made by the server proxy before it answers).
   */
  checkSigningContext?(member: ClientId): Promise<void>
  /** The same signer for one message's lookups (`scope`, see `ServerConfView.forExchange`). */
  forExchange?(scope: DerivedCacheScope): MessageSigner
}

export interface MessageVerifier {
  /** Verifies the signature, certificate chain and OCSP with `expectedSigner` as the signer (§4.7). */
  verify(expectedSigner: ClientId, parts: MessagePart[], signature: MessageSignature, at: Date): Promise<void>
}

export interface MessageRecord {
  direction: 'request' | 'response'
  side: 'client' | 'server'
  messageId: string
  /** `x-road-request-id` of the exchange (the log's xRequestId). */
  requestId?: string
  clientId: ClientId
  serviceId: ServiceId
  headerPart: Uint8Array
  body?: MessageBody
  /** SOAP attachments logged with the message (X-Road logs them on the provider's request and the consumer's response). */
  attachments?: MessageBody[]
  signature: MessageSignature
}

export interface MessageLogWriter {
  /** Throws `logging_failed` when the log cannot accept (timestamping too far behind, disk). */
  assertAcceptingMessages(): void
  /**
   * The largest body the log stores for an exchange between these parties, or undefined when it does not store
   * their bodies (body logging off: no limit, as X-Road's `LogManager`). Known before a body is read.
   */
  bodyLimit(client: ClientId, service: ServiceId): number | undefined
  record(record: MessageRecord): Promise<void>
}

export interface ServiceCall {
  url: string
  method: string
  headers: HeaderList
  body?: BodySource
  timeoutMs: number
  sslVerify: boolean
  /** Where the service's response body is received, and the limits it must keep besides the client's own. */
  response: { bodies: BodyStore; limits: readonly BodyLimit[] }
}

export interface ServiceResponse {
  status: number
  reason: string
  headers: HeaderList
  body: MessageBody
}

export interface ServiceClient {
  call(request: ServiceCall): Promise<ServiceResponse>
}

export interface PeerRequest {
  headers: HeaderList
  contentType: string
  body: BodySource
  /**
   * Called once the first bytes of the request go to a verified connection to the provider: from then on a failure
   * leaves the request possibly received, logged and served there.
   */
  onTransmit?(): void
}

export interface PeerResponse {
  contentType: string
  headers: HeaderList
  /** Content-Length of the answer when the peer declared one. */
  declaredLength?: number
  /** Read once, as it arrives; the client's response timeout and size limit apply while it is read. */
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

export interface PeerClient {
  /** POSTs the transport message to one of `targets` (fastest connection wins, §4.1). */
  send(targets: ProviderServer[], provider: ClientId, request: PeerRequest): Promise<PeerResponse>
}

/** Verifies the consumer's TLS auth certificate with the OCSP parts it sent (`verifySslClientCert`). */
export interface TlsClientVerifier {
  /** `connection`: the TLS connection the request came on, whose earlier decision may be reused (issue 15 §2). */
  verify(client: ClientId, authCertChainDer: Uint8Array[], ocspResponses: Uint8Array[], connection?: object): Promise<void>
}

/** What the pipelines read from server configuration. */
export interface ServerConfView {
  isRegisteredClient(id: ClientId): boolean
  accessRightsFor(id: ServiceId): ServiceAccessRights | undefined
  localGroupMembers(owner: ClientId, groupCode: string): ClientId[]
  /** `type`: the kind of description the service came from (a SOAP request to a REST service is `service_type`). */
  service(id: ServiceId): { url: string; timeoutSeconds: number; sslVerify: boolean; type?: 'WSDL' | 'REST' | 'OPENAPI3' } | undefined
  /** This security server's identifier (for `xroad:securityServer` targeting), once it has one. */
  ownServerId?(): SecurityServerId | undefined
  /** The client's information-system connection type and its accepted TLS certificate hashes (SHA-256 hex). */
  isAuthentication(id: ClientId): { mode: 'NOSSL' | 'SSLNOAUTH' | 'SSLAUTH'; certificateSha256: string[] } | undefined
  /**
   * The same view for one message's lookups (issue 15 §5): whether server configuration changed is asked once for
   * the message (`scope`, shared with the signer's lookups on the same database) rather than once per run of its
   * synchronous code (derived-cache.ts says why the next message still sees every change).
   */
  forExchange?(scope: DerivedCacheScope): ServerConfView
}

/**
 * `deps` with views of their own for one message (their `forExchange`: server configuration, the signer, our auth
 * OCSP responses, all under one scope), taken by the pipelines as a message arrives.
 */
export function forOneExchange<D extends { forExchange?(): Partial<D> }>(deps: D): D {
  return deps.forExchange === undefined ? deps : { ...deps, ...deps.forExchange() }
}

/**
 * What one exchange looked like, for operational monitoring (xroad-protocols.md §7): the pipelines fill it as they
 * go and hand it to `ExchangeObserver.observe` once, whatever the outcome. Times are epoch milliseconds.
 */
export interface ExchangeObservation {
  side: 'client' | 'server'
  requestInTs: number
  /** When the request left for the provider server (client side) or the service (server side). */
  requestOutTs?: number
  responseInTs?: number
  responseOutTs: number
  clientId?: ClientId
  serviceId?: ServiceId
  method?: string
  servicePath?: string
  messageId?: string
  requestId?: string
  userId?: string
  issue?: string
  /** The provider security server's address (client side). */
  serviceSecurityServerAddress?: string
  requestSize: number
  responseSize?: number
  status?: number
  succeeded: boolean
  faultCode?: string
  faultString?: string
  /** SOAP exchanges (X-Road's op-monitoring fields for them); a REST exchange leaves them out. */
  soap?: {
    protocolVersion?: string
    representedParty?: string
    requestAttachmentCount?: number
    responseAttachmentCount?: number
    /** SOAP part plus attachments, when there were attachments. */
    requestMimeSize?: number
    responseMimeSize?: number
  }
}

/** What a REST request names, noted in its exchange's observation (field by field: no object per message to copy from). */
export function observeRestRequest(
  observation: ExchangeObservation,
  request: Pick<ExchangeObservation, 'method' | 'servicePath' | 'messageId' | 'requestId' | 'userId' | 'issue'> & { clientId: ClientId; serviceId: ServiceId },
): void {
  observation.clientId = request.clientId
  observation.serviceId = request.serviceId
  observation.method = request.method
  observation.servicePath = request.servicePath
  observation.messageId = request.messageId
  observation.requestId = request.requestId
  observation.userId = request.userId
  observation.issue = request.issue
}

export interface ExchangeObserver {
  /** Must not throw or block: monitoring never fails an exchange. */
  observe(observation: ExchangeObservation): void
}

/**
 * A service the server proxy answers itself instead of calling a service URL (X-Road's service handlers
 * `OpMonitoringServiceHandlerImpl`, `ProxyMonitorServiceHandlerImpl`): the monitoring services of the server's owner.
 */
export interface LocalServiceHandler {
  /** Its failures pass on as a service's own SOAP fault (the op-monitor daemon's), not as the proxy's. */
  readonly faultsAsService: boolean
  /** In place of the access rights check. */
  verifyAccess(): void
  /** The answer as a service would send it, after the request is verified and logged. */
  respond(requestSoap: Uint8Array): Promise<{ contentType: string; body: Buffer }>
}
