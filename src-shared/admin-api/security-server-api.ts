/**
 * The admin API groups over the security-server domains: initialization, tokens/keys/CSRs/certificates,
 * clients/services/access rights/local groups, global configuration, diagnostics and settings.
 * Identifiers travel as X-Road's canonical strings (`SUBSYSTEM:LAB/GOV/1234/SUB`, `LOCALGROUP:admins`,
 * `GLOBALGROUP:LAB/security-server-owners`); client inputs also accept the path form `LAB/GOV/1234/SUB`.
 * PINs go in and never come out, and are never written to a log or the audit log.
 */

import type { ManagementSendResultDto } from './management-api'

export type StatusLight = 'green' | 'yellow' | 'red' | 'gray'

// ---- initialization ------------------------------------------------------------------------------------

export interface AnchorPreview {
  instance: string
  /** SHA-256 of the anchor file, `AB:CD:…`: compare it with the one the central server operator published. */
  hash: string
  generatedAt: string | null
  sources: string[]
}

export interface InitializationStatus {
  initialized: boolean
  /** Encoded owner member id, e.g. `MEMBER:LAB/GOV/1234`. */
  owner: string | null
  serverCode: string | null
  /** Encoded security server id. */
  serverId: string | null
  anchor: { instance: string; hash: string; storedAt: string } | null
  softwareTokenInitialized: boolean
}

export interface InitializeInput {
  anchorXml: string
  /** The hash shown by `importAnchor` that the operator confirmed; a different anchor is refused. */
  confirmedHash: string
  /** Owner member, `INSTANCE/CLASS/CODE` or `MEMBER:INSTANCE/CLASS/CODE`. */
  owner: string
  serverCode: string
  /** PIN of the software token to create; omitted when it exists already (PKCS#11 only setups). */
  softwareTokenPin?: string
}

export interface InitializationApi {
  status(): Promise<InitializationStatus>
  /** Parses and checks an anchor without storing it; returns its hash for confirmation. @throws malformed_anchor */
  importAnchor(anchorXml: string): Promise<AnchorPreview>
  /** Stores identity and anchor, creates the software token, starts downloading global configuration.
   * @throws validation_failed (hash not confirmed, owner of another instance), already_initialized, malformed_anchor, token_pin_policy_failure */
  initialize(input: InitializeInput): Promise<InitializationStatus>
}

// ---- tokens, keys, CSRs, certificates -------------------------------------------------------------------

export type TokenState = 'logged-in' | 'logged-out' | 'locked' | 'not-available' | 'not-initialized'

export interface TokenDto {
  id: string
  kind: 'software' | 'pkcs11'
  label: string
  serialNumber: string
  state: TokenState
  available: boolean
  loggedIn: boolean
  pinCountLow: boolean
  pinFinalTry: boolean
  pinLocked: boolean
  manufacturer: string | null
  model: string | null
  keyCount: number
}

export interface TokensApi {
  list(): Promise<TokenDto[]>
  /** @throws token_not_found, pin_incorrect, token_locked */
  login(input: { tokenId: string; pin: string }): Promise<TokenDto>
  logout(input: { tokenId: string }): Promise<TokenDto>
  /** @throws pin_incorrect, token_pin_policy_failure */
  changePin(input: { tokenId: string; oldPin: string; newPin: string }): Promise<void>
  /** Known PKCS#11 modules (resources/pkcs11-modules.json) whose library exists on this machine. */
  hsmModules(): Promise<Pkcs11ModulePreset[]>
  /** Adds the PKCS#11 token with this label on the module. @throws validation_failed (module not allowed or missing), token_not_available */
  addHsm(input: { modulePath: string; tokenLabel: string }): Promise<TokenDto>
}

export interface Pkcs11ModulePreset {
  id: string
  name: string
  /** The first of the preset's paths that exists here. */
  path: string
}

/**
 * PIN rules of the software token as the signer creates it (printable ASCII only); PKCS#11 tokens apply the device's
 * own rules. `minCharacterClasses` counts lower case, upper case, digits and other characters.
 */
export const SOFTWARE_TOKEN_PIN_POLICY = { minLength: 4, minCharacterClasses: 1 } as const

export const KEY_USAGE_VALUES = ['sign', 'auth'] as const
export type KeyUsageValue = (typeof KEY_USAGE_VALUES)[number]
export const KEY_ALGORITHM_VALUES = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256'] as const
export type KeyAlgorithmValue = (typeof KEY_ALGORITHM_VALUES)[number]

export interface KeyDto {
  id: string
  tokenId: string
  label: string
  usage: KeyUsageValue
  algorithm: KeyAlgorithmValue
  createdAt: string
  /** SHA-256 of the public key (SubjectPublicKeyInfo), hex. */
  publicKeySha256: string
  certificateCount: number
}

export interface KeysApi {
  list(): Promise<KeyDto[]>
  /** Generates a key pair on the token (seconds on a slow HSM). @throws token_not_active (log in first), token_not_found */
  generate(input: { tokenId: string; usage: KeyUsageValue; algorithm: KeyAlgorithmValue; label: string }): Promise<KeyDto>
  /**
   * Deletes the key from the token and the configuration, with its certificates and CSRs.
   * @throws key_not_found, conflict (detail `activeCertificate`: a certificate of the key is active or registered; disable it first)
   */
  delete(input: { keyId: string }): Promise<void>
}

export interface CertificateAuthorityDto {
  name: string
  authenticationOnly: boolean
  certificateProfile: string
  defaultCsrFormat: 'pem' | 'der'
}

export interface CsrRequestInput {
  keyId: string
  /** Approved CA name from global configuration; its certificate profile shapes the subject. */
  caName: string
  /** For a signing key: the member (encoded or path form). Authentication keys are for this security server. */
  member?: string
  format?: 'pem' | 'der'
}

export interface GeneratedCsrDto {
  id: string
  subject: string
  format: 'pem' | 'der'
  /** Suggested file name for the save dialog. */
  fileName: string
  mimeType: string
  /** PEM text, or the DER bytes in base64. */
  content: string
  encoding: 'utf8' | 'base64'
}

/** A certificate request made on this server and kept until deleted (X-Road lists them under their key). */
export interface CsrDto {
  id: string
  keyId: string
  /** Encoded member (sign key) or security server (auth key) the request names. */
  subjectOf: string | null
  subject: string
  createdAt: string
}

export interface CsrsApi {
  /** Approved CAs of the own instance that can issue for this server (from global configuration). */
  authorities(): Promise<CertificateAuthorityDto[]>
  /** @throws not_initialized (no global configuration yet), not_found (CA), key_not_found, validation_failed */
  generate(input: CsrRequestInput): Promise<GeneratedCsrDto>
  /** Requests made here, oldest first. */
  list(): Promise<CsrDto[]>
  /** Forgets a request (the key stays). @throws csr_not_found */
  delete(input: { csrId: string }): Promise<void>
}

export type CertificateStateValue = 'saved' | 'registered' | 'active' | 'disabled' | 'revoked' | 'expired'
export type OcspStatusName = 'good' | 'revoked' | 'unknown' | 'stale' | 'none'

export interface CertificateDto {
  id: string
  keyId: string
  usage: KeyUsageValue | null
  tokenId: string | null
  member: string | null
  subject: string
  issuer: string
  serialNumber: string
  notBefore: string
  notAfter: string
  state: CertificateStateValue
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number
  ocsp: { status: OcspStatusName; thisUpdate: string | null; nextUpdate: string | null; lastError: string | null }
}

export interface CertificatesApi {
  list(): Promise<CertificateDto[]>
  /**
   * Imports a PEM (text) or DER (base64) certificate issued for one of our keys. Faults of the file carry detail
   * `content` (the form field). @throws key_not_found, cert_exists, incorrect_certificate, wrong_cert_usage
   */
  import(input: { content: string; encoding?: 'utf8' | 'base64'; member?: string }): Promise<CertificateDto>
  /** @throws cert_not_found, cert_validation */
  activate(input: { certId: string }): Promise<CertificateDto>
  disable(input: { certId: string }): Promise<CertificateDto>
  /** Deletes a certificate; its key stays. @throws cert_not_found, conflict (detail `activeCertificate`: disable it first) */
  delete(input: { certId: string }): Promise<void>
}

// ---- clients, services, access rights, local groups -------------------------------------------------------

export const CLIENT_STATE_VALUES = ['SAVED', 'REGISTRATION_IN_PROGRESS', 'REGISTERED', 'DISABLED', 'DELETION_IN_PROGRESS'] as const
export type ClientStateValue = (typeof CLIENT_STATE_VALUES)[number]

export interface ClientDto {
  /** Encoded identifier, `SUBSYSTEM:LAB/GOV/1234/SUB`. */
  id: string
  /** Path form for display, `LAB/GOV/1234/SUB`. */
  path: string
  kind: 'MEMBER' | 'SUBSYSTEM'
  state: ClientStateValue
  isAuthentication: IsAuthenticationValue
  owner: boolean
  /** Member name from global configuration when known. */
  name: string | null
  /** Whether global configuration lists the client on this server; null without a configuration that lists this server. */
  listedOnThisServer: boolean | null
  createdAt: string
}

export const IS_AUTHENTICATION_VALUES = ['NOSSL', 'SSLNOAUTH', 'SSLAUTH'] as const
export type IsAuthenticationValue = (typeof IS_AUTHENTICATION_VALUES)[number]

/**
 * A registration (pr-mserv `clientReg`) or deletion request (`clientDeletion`) sent to the central server as
 * `management.registerClient` / `management.unregisterClient` send it, with the client in its new state
 * (REGISTRATION_IN_PROGRESS, DELETION_IN_PROGRESS) until global configuration confirms the change.
 */
export interface ClientRequestDto extends ManagementSendResultDto {
  client: ClientDto
}

/** What went with a deleted client. */
export interface ClientRemovalDto {
  /** Encoded ids of the services deleted with the client (their endpoints and access rights went too). */
  services: string[]
  accessRights: number
  localGroups: string[]
  isCertificates: number
  /** Access rights on other clients' services that named it (removed when no other security server serves it). */
  rightsAsSubject: number
  groupMemberships: number
}

/** A TLS certificate an information system presents to the client proxy (UG-SS §9.4). */
export interface IsCertificateDto {
  /** SHA-256 of the DER, lower-case hex. */
  sha256: string
  /** Null when the stored bytes are not a readable certificate. */
  subject: string | null
  issuer: string | null
  notBefore: string | null
  notAfter: string | null
  addedAt: string
}

/** The certificate the client proxy's HTTPS listener shows to information systems, for them to trust. */
export interface InternalTlsCertificateDto {
  pem: string
  /** `AB:CD:…` */
  sha256: string
  subject: string
  notBefore: string
  notAfter: string
  fileName: string
}

export interface ClientsApi {
  list(): Promise<ClientDto[]>
  /** @throws validation_failed, conflict */
  add(input: { client: string; state?: ClientStateValue }): Promise<ClientDto>
  /** @throws not_found, validation_failed */
  setState(input: { client: string; state: ClientStateValue }): Promise<ClientDto>
  /** clientReg to the central server: SAVED → REGISTRATION_IN_PROGRESS. @throws cannot_register_owner, action_not_possible, and the central server's fault */
  register(input: { client: string }): Promise<ClientRequestDto>
  /** clientDeletion to the central server: → DELETION_IN_PROGRESS. @throws cannot_unregister_owner, action_not_possible, and the central server's fault */
  unregister(input: { client: string }): Promise<ClientRequestDto>
  /** REGISTERED ↔ DISABLED. @throws action_not_possible */
  setEnabled(input: { client: string; enabled: boolean }): Promise<ClientDto>
  /**
   * Deletes a SAVED or unregistered client (unregistering, or disabled and no longer listed on this server) with its
   * services, endpoints, access rights, local groups and IS certificates. @throws cannot_delete_owner, action_not_possible
   */
  delete(input: { client: string }): Promise<ClientRemovalDto>
  /** How the client's information systems connect to the client proxy: HTTP, HTTPS, HTTPS with a client certificate. */
  setIsAuthentication(input: { client: string; mode: IsAuthenticationValue }): Promise<ClientDto>
  isCertificates(input: { client: string }): Promise<IsCertificateDto[]>
  /** A PEM (text) or DER (base64) certificate. @throws incorrect_certificate, cert_exists */
  addIsCertificate(input: { client: string; content: string; encoding?: 'utf8' | 'base64' }): Promise<IsCertificateDto>
  /** @throws cert_not_found */
  removeIsCertificate(input: { client: string; sha256: string }): Promise<void>
  internalTlsCertificate(): Promise<InternalTlsCertificateDto>
}

export interface EndpointDto {
  method: string
  path: string
  generated: boolean
}

export interface ServiceDto {
  /** Encoded service id (with `;v=` and the version when the service has one). */
  id: string
  provider: string
  serviceCode: string
  /** A WSDL operation's version (`xrd:version`); null when none. */
  serviceVersion: string | null
  /** A WSDL operation's title (`xrd:title`); null when none. */
  title: string | null
  descriptionId: number
  descriptionType: ServiceDescriptionType
  url: string
  timeoutSeconds: number
  sslVerify: boolean
  disabled: boolean
  disabledNotice: string | null
  endpoints: EndpointDto[]
}

export const SERVICE_DESCRIPTION_TYPE_VALUES = ['WSDL', 'OPENAPI3', 'REST'] as const
export type ServiceDescriptionType = (typeof SERVICE_DESCRIPTION_TYPE_VALUES)[number]

/** A client's service description (X-Road `ServiceDescription`, ug-ss §6) with its services. */
export interface ServiceDescriptionDto {
  id: number
  /** Encoded client id. */
  client: string
  type: ServiceDescriptionType
  /** Where it is read from; for an uploaded OpenAPI file, the file's name. */
  url: string
  uploaded: boolean
  /** Disabled services answer `service_disabled` with the notice; a new description starts disabled ("Out of order"). */
  disabled: boolean
  disabledNotice: string | null
  refreshedAt: string
  services: ServiceDto[]
}

/** X-Road's warnings on adding and refreshing descriptions (`DeviationCodes.WARNING_*`); metadata names what they concern. */
export type DescriptionWarningCode = 'adding_services' | 'deleting_services' | 'adding_endpoints' | 'deleting_endpoints' | 'openapi_validation_warnings'

export interface DescriptionWarningDto {
  code: DescriptionWarningCode
  metadata: string[]
}

/**
 * What an add or refresh did, or would do: when it has warnings not yet accepted nothing is applied (`applied: false`);
 * the caller shows them and repeats the call with `ignoreWarnings: true` (X-Road's `ignore_warnings`).
 */
export interface ServiceDescriptionChangeDto {
  applied: boolean
  warnings: DescriptionWarningDto[]
  /** The description as it is now; null for an add that was not applied. */
  description: ServiceDescriptionDto | null
  /** Access rights that go (or went) with the removed services and endpoints. */
  accessRightsRemoved: AccessRightDto[]
}

/** An OpenAPI description given as a file instead of a URL: its name and its bytes in base64 (JSON form). */
export interface DescriptionFileDto {
  name: string
  contentBase64: string
}

export interface ServiceDescriptionsApi {
  /** The descriptions of one client (encoded or path form) with their services. */
  list(input: { client: string }): Promise<ServiceDescriptionDto[]>
  /** @throws service_description_not_found */
  get(input: { id: number }): Promise<ServiceDescriptionDto>
  /**
   * Downloads and reads a WSDL; each operation (with its version) becomes a service. Added disabled.
   * @throws malformed_url, wsdl_download_failed, invalid_wsdl, wsdl_exists, service_already_exists, invalid_wsdl_service_identifier, invalid_service_url
   */
  addWsdl(input: { client: string; url: string }): Promise<ServiceDescriptionDto>
  /**
   * An OpenAPI 3 description by URL or file: one REST service whose endpoints are derived from it (read-only).
   * @throws openapi_parsing_error, unsupported_openapi_version, url_already_exists, service_code_already_exists
   */
  addOpenApi(input: { client: string; serviceCode: string; url?: string; file?: DescriptionFileDto; ignoreWarnings?: boolean }): Promise<ServiceDescriptionChangeDto>
  /** A plain REST service by base URL; endpoints are added by hand. @throws url_already_exists, service_code_already_exists */
  addRest(input: { client: string; serviceCode: string; url: string }): Promise<ServiceDescriptionDto>
  /**
   * Reads a WSDL or OpenAPI description again (from `url` or `file` when given, else where it was read from) and
   * reports what it adds and removes; applied only with `ignoreWarnings` when anything changes. @throws wrong_servicedescription_type
   */
  refresh(input: { id: number; url?: string; file?: DescriptionFileDto; ignoreWarnings?: boolean }): Promise<ServiceDescriptionChangeDto>
  /** A REST description's URL, a REST or OpenAPI service's code. @throws wrong_servicedescription_type */
  update(input: { id: number; url?: string; serviceCode?: string }): Promise<ServiceDescriptionDto>
  /** Disabling shows `notice` to callers (X-Road keeps the notice when enabling). */
  setEnabled(input: { id: number; enabled: boolean; notice?: string }): Promise<ServiceDescriptionDto>
  /** Deletes the description with its services and endpoints; returns the access rights that went with them. */
  delete(input: { id: number }): Promise<AccessRightDto[]>
}

export interface ServicesApi {
  /** Services of one client (encoded or path form), or of every client. */
  list(input?: { client?: string }): Promise<ServiceDto[]>
  /** Adds a REST service with the base endpoint. @throws service_malformed_url, conflict, not_found */
  add(input: { client: string; serviceCode: string; url: string; timeoutSeconds?: number; sslVerify?: boolean }): Promise<ServiceDto>
  update(input: { service: string; url?: string; timeoutSeconds?: number; sslVerify?: boolean }): Promise<ServiceDto>
  /** Enables or disables the service's description (every service of a WSDL together); disabling shows `notice` to callers. */
  setEnabled(input: { service: string; enabled: boolean; notice?: string }): Promise<ServiceDto>
  /** @throws validation_failed, conflict */
  addEndpoint(input: { service: string; method: string; path: string }): Promise<ServiceDto>
  /** Deletes the service with its endpoints; returns the access rights that went with it. @throws unknown_service */
  delete(input: { service: string }): Promise<AccessRightDto[]>
  /** Changes an endpoint's method and path; its access rights stay. @throws illegal_generated_endpoint_update, conflict, not_found */
  updateEndpoint(input: { service: string; endpoint: { method: string; path: string }; method: string; path: string }): Promise<ServiceDto>
  /** @throws illegal_generated_endpoint_remove, not_found */
  deleteEndpoint(input: { service: string; endpoint: { method: string; path: string } }): Promise<ServiceDto>
}

export type SubjectKind = 'MEMBER' | 'SUBSYSTEM' | 'LOCALGROUP' | 'GLOBALGROUP'

export interface AccessRightDto {
  service: string
  endpoint: { method: string; path: string }
  /** Encoded subject: a client, `LOCALGROUP:code` or `GLOBALGROUP:INSTANCE/code`. */
  subject: string
  subjectKind: SubjectKind
  subjectLabel: string
  grantedAt: string
}

export interface AccessMatrixRow {
  service: string
  serviceCode: string
  provider: string
  disabled: boolean
  endpoint: { method: string; path: string }
  subject: string
  subjectKind: SubjectKind
  subjectLabel: string
  /** For local groups, their members; for global groups, members from global configuration when known. */
  members: string[]
}

export interface AccessRightsApi {
  list(input: { service: string }): Promise<AccessRightDto[]>
  /** Grants on the whole service unless an endpoint is given. @throws unknown_service, not_found (endpoint, local group) */
  grant(input: { service: string; subject: string; endpoint?: { method: string; path: string } }): Promise<AccessRightDto[]>
  revoke(input: { service: string; subject: string; endpoint?: { method: string; path: string } }): Promise<AccessRightDto[]>
  /** Who may call what: one row per (service endpoint, subject) over every service of this server. */
  matrix(): Promise<AccessMatrixRow[]>
}

export interface LocalGroupDto {
  owner: string
  groupCode: string
  description: string
  members: string[]
}

export interface LocalGroupsApi {
  list(input: { client: string }): Promise<LocalGroupDto[]>
  add(input: { client: string; groupCode: string; description: string }): Promise<LocalGroupDto>
  addMember(input: { client: string; groupCode: string; member: string }): Promise<LocalGroupDto>
  removeMember(input: { client: string; groupCode: string; member: string }): Promise<LocalGroupDto>
  update(input: { client: string; groupCode: string; description: string }): Promise<LocalGroupDto>
  /** Deletes the group with the access rights naming it (as X-Road does); returns those rights. @throws not_found */
  delete(input: { client: string; groupCode: string }): Promise<AccessRightDto[]>
}

// ---- global configuration -------------------------------------------------------------------------------

export interface GlobalConfStatus {
  /** False until an anchor is imported. */
  anchorImported: boolean
  anchorHash: string | null
  sources: string[]
  /** False while none has been downloaded and verified. */
  available: boolean
  instance: string | null
  version: number | null
  /** When the configuration in force was downloaded. */
  downloadedAt: string | null
  ageSeconds: number | null
  expiresAt: string | null
  /** Seconds until it expires (negative once expired: messages stop). */
  expiresInSeconds: number | null
  expired: boolean
  lastError: string | null
  memberCount: number
  serverCount: number
  approvedCaCount: number
  tsaCount: number
  light: StatusLight
  explanation: string
}

export interface GlobalMemberDto {
  id: string
  name: string
  memberClass: string
  subsystems: string[]
}

export interface GlobalServerDto {
  id: string
  owner: string
  serverCode: string
  address: string | null
  /** Maintenance mode as the central server publishes it (shared parameters V5, X-Road 7.8). */
  inMaintenanceMode: boolean
  clients: string[]
}

export interface GlobalGroupDto {
  /** Encoded, `GLOBALGROUP:INSTANCE/code`. */
  id: string
  instance: string
  groupCode: string
  description: string
  members: string[]
}

/** The configuration anchor in force, for download (X-Road `GET /system/anchor/download`). */
export interface AnchorFileDto {
  instance: string
  hash: string
  generatedAt: string | null
  storedAt: string
  /** `configuration_anchor_UTC_<generated>.xml`, X-Road's download name. */
  fileName: string
  /** The anchor XML as stored. */
  content: string
}

/** A time-stamping authority global configuration approves for the own instance. */
export interface ApprovedTsaDto {
  name: string
  url: string
}

/** Time-stamping services (ug-ss §10.2): what may be chosen, what is chosen, what the next round uses. */
export interface TimestampingServicesDto {
  /** False while no global configuration is available (nothing is approved yet). */
  available: boolean
  /** Approved TSAs of the own instance, in global configuration's order. */
  approved: ApprovedTsaDto[]
  /** The administrator's choice, in the order tried; empty means every approved TSA in global configuration's order. */
  selected: string[]
  /** Names the next time-stamping round tries, in order (selected names no longer approved are skipped). */
  inUse: string[]
}

export interface GlobalConfApi {
  status(): Promise<GlobalConfStatus>
  members(): Promise<GlobalMemberDto[]>
  servers(): Promise<GlobalServerDto[]>
  /** The global groups of every instance in global configuration (own and federated), own instance first. */
  globalGroups(): Promise<GlobalGroupDto[]>
  /** Downloads now instead of waiting for the next interval. @throws not_initialized */
  refresh(): Promise<GlobalConfStatus>
  /** The stored anchor. @throws anchor_file_not_found */
  anchor(): Promise<AnchorFileDto>
  /**
   * Checks a new anchor without storing it and returns its hash for confirmation (as on first run).
   * @throws malformed_anchor, not_initialized, validation_failed (detail `anchorXml`: an anchor of another instance)
   */
  previewAnchor(input: { anchorXml: string }): Promise<AnchorPreview>
  /**
   * Replaces the anchor with one of the same instance once its hash is confirmed, after a download with it has been
   * verified (as X-Road does); the running server uses it at once. @throws malformed_anchor, not_initialized,
   * validation_failed (detail `anchorXml`: other instance; `confirmedHash`), and the download's own error (detail `anchorXml`)
   */
  replaceAnchor(input: { anchorXml: string; confirmedHash: string }): Promise<GlobalConfStatus>
  timestampingServices(): Promise<TimestampingServicesDto>
  /**
   * Chooses the approved TSAs to use, in the order tried; `[]` returns to every approved TSA. Applies from the next
   * time-stamping round. @throws validation_failed (detail `names`: not approved, repeated)
   */
  selectTimestampingServices(input: { names: string[] }): Promise<TimestampingServicesDto>
}

// ---- diagnostics ----------------------------------------------------------------------------------------

export type DiagnosticKey = 'global-conf' | 'tokens' | 'certificates' | 'timestamping' | 'traffic'

/** What a check found; the GUI says it in the reader's language with the check's `params`. */
export type DiagnosticCode =
  | 'global-conf-no-anchor' | 'global-conf-not-downloaded' | 'global-conf-expired' | 'global-conf-download-failed'
  | 'global-conf-expires-soon' | 'global-conf-up-to-date'
  | 'tokens-none' | 'tokens-logged-in' | 'tokens-unavailable' | 'tokens-logged-out'
  | 'certificates-none' | 'certificates-ok' | 'certificates-attention'
  | 'timestamping-stopped' | 'timestamping-failing' | 'timestamping-idle' | 'timestamping-ok'
  | 'traffic-none' | 'traffic-ok' | 'traffic-failures'

export interface DiagnosticCheck {
  key: DiagnosticKey
  /** English name of the check (the GUI names it by `key`). */
  label: string
  light: StatusLight
  code: DiagnosticCode
  /**
   * The facts the text is made of: names ending in `At` are ISO-8601 times, in `Seconds` durations; `error` is the
   * failing component's own message; counts are numbers.
   */
  params: Record<string, string | number | boolean>
  /** What it means and what to do, in plain English (the fallback for a code the GUI does not know). */
  explanation: string
}

export interface TrafficPoint {
  /** Bucket start, ISO-8601. */
  at: string
  succeeded: number
  failed: number
}

export interface Diagnostics {
  checkedAt: string
  checks: DiagnosticCheck[]
  tokens: Array<{ id: string; label: string; state: TokenState }>
  certificates: Array<{ id: string; subject: string; usage: KeyUsageValue | null; state: CertificateStateValue; daysLeft: number; ocsp: OcspStatusName; light: StatusLight }>
  traffic: { bucketSeconds: number; points: TrafficPoint[]; succeeded: number; failed: number }
}

/** What a probe reaches: the approved TSAs, the OCSP responders, the anchor's sources, own listeners, a peer. */
export type ProbeKind = 'tsa' | 'ocsp' | 'conf-source' | 'listener' | 'peer'
export const PROBE_KINDS: readonly ProbeKind[] = ['tsa', 'ocsp', 'conf-source', 'listener', 'peer']

/**
 * One timed step of a probe: `route` (finding the provider's servers in global configuration), `dns`, `connect`, `tls`
 * (handshake), `answer` (request sent until the whole answer arrived), `verify` (checking the answer), `parts` (the
 * configuration parts and their hashes), `peer-auth` (the provider's authentication certificate, chain and OCSP), and
 * the steps the client proxy reports for a test call: `sign` (parse, sign, log), `peer` (the provider), `verify`.
 */
export type ProbeStepName = 'route' | 'dns' | 'connect' | 'tls' | 'answer' | 'verify' | 'parts' | 'peer-auth' | 'sign' | 'peer'

export interface ProbeStep {
  name: ProbeStepName
  /** Milliseconds, to a tenth. */
  ms: number
  ok: boolean
}

/** What a probe found; the GUI words it with the probe's `params` (names ending in `At` are ISO-8601 times). */
export type ProbeCode =
  | 'tsa-ok' | 'tsa-unreachable' | 'tsa-timeout' | 'tsa-http-error' | 'tsa-invalid' | 'tsa-none'
  | 'ocsp-good' | 'ocsp-not-good' | 'ocsp-unreachable' | 'ocsp-timeout' | 'ocsp-http-error' | 'ocsp-invalid' | 'ocsp-no-certificate' | 'ocsp-none'
  | 'conf-ok' | 'conf-expired' | 'conf-unreachable' | 'conf-timeout' | 'conf-http-error' | 'conf-invalid' | 'conf-no-anchor'
  | 'listener-ok' | 'listener-auth-cert' | 'listener-fallback-cert' | 'listener-closed' | 'listener-unreachable' | 'listener-timeout'
  | 'listener-unexpected-answer' | 'listener-none'
  | 'peer-ok' | 'peer-metaservice-unsupported' | 'peer-error' | 'peer-failed' | 'peer-unreachable' | 'peer-no-server' | 'peer-no-client-proxy'

export interface ProbeResult {
  kind: ProbeKind
  /** What was probed: a TSA's name, a responder's URL, a source's URL, a listener's name, a provider's id. */
  target: string
  /** Where it was reached: a URL or `host:port` ('' when there was nothing to reach). */
  address: string
  light: StatusLight
  code: ProbeCode
  params: Record<string, string | number | boolean>
  /** What it means and what to do, in plain English (the fallback for a code the GUI does not know). */
  explanation: string
  /** The steps taken, in order, up to the one that failed. */
  steps: ProbeStep[]
  /** Milliseconds from the start of the probe to its verdict. */
  totalMs: number
}

/** The REST metaservices of PR-MREST (xroad-protocols.md §8) a test call can ask for. */
export type PeerTestMethod = 'listMethods' | 'allowedMethods'

export interface PeerTestInput {
  /** The calling client of this server, path form `INSTANCE/CLASS/CODE/SUBSYSTEM` (or encoded). */
  client: string
  /** The provider subsystem or member, path form. */
  provider: string
  method: PeerTestMethod
}

export interface ProbeInput {
  /** Which probes to run; default every kind but `peer`, which runs when `peer` is given. */
  kinds?: ProbeKind[]
  peer?: PeerTestInput
}

export interface ProbeReport {
  startedAt: string
  finishedAt: string
  probes: ProbeResult[]
}

/** Whom a test call can be made as and to: registered clients of this server, providers in global configuration. */
export interface ProbeTargets {
  clients: string[]
  providers: Array<{ id: string; name: string }>
  methods: PeerTestMethod[]
}

/** The diagnostics bundle: a ZIP of recent logs, settings without secrets, versions, checks and probe results. */
export interface DiagnosticsBundleFile {
  fileName: string
  mimeType: 'application/zip'
  /** The ZIP in base64. */
  content: string
  encoding: 'base64'
  /** The entries of the ZIP, in order. */
  entries: string[]
}

/**
 * The health-check endpoint for load balancers (X-Road's `health-check-port`, ig-xlb §3.4): off unless a port is set
 * in the bootstrap file; 200 when this server should be able to process messages, 500 with the failed check otherwise,
 * 503 in maintenance mode.
 */
export interface HealthCheckStatus {
  enabled: boolean
  /** `host:port` from the bootstrap file, null when off. */
  address: string | null
  /** Where it answers now; null while it does not listen. */
  url: string | null
  maintenanceMode: boolean
  /** What the endpoint answers now (from the same cached checks the balancer sees). */
  httpStatus: 200 | 500 | 503
  /** The body X-Road sends with a 500 or 503; '' with 200. */
  message: string
  checks: Array<{ name: HealthCheckName; ok: boolean; message: string; checkedAt: string }>
}

export type HealthCheckName = 'global-conf' | 'auth-key-ocsp' | 'server-conf' | 'message-log'

export interface DiagnosticsApi {
  /** Every check at once; `windowMinutes` (1..1440, default 60) is the message-rate window. */
  run(input?: { windowMinutes?: number }): Promise<Diagnostics>
  /**
   * Probes now, each step timed: each approved TSA (a time-stamp request with a nonce, verified), each OCSP responder
   * (a request for an own certificate, verified), each source of the anchor (directory downloaded and its signature
   * checked, nothing stored), this server's listeners, and with `peer` a metaservice call through this server's client
   * proxy. @throws validation_failed (detail `client`, `provider`, `method`, `kinds`)
   */
  probe(input?: ProbeInput): Promise<ProbeReport>
  /** Clients and providers a test call can use. */
  probeTargets(): Promise<ProbeTargets>
  /** The ZIP to send to support; never holds PINs, passwords, keys or message bodies. */
  bundle(): Promise<DiagnosticsBundleFile>
  /** The health-check endpoint's configuration and what it answers now. */
  health(): Promise<HealthCheckStatus>
  /**
   * Switches the health check's maintenance mode (503 for the load balancer; X-Road's `/maintenance?targetState=`);
   * like X-Road's, it ends when the server restarts.
   */
  setMaintenanceMode(input: { enabled: boolean }): Promise<HealthCheckStatus>
}

// ---- settings -------------------------------------------------------------------------------------------

export interface SettingDto {
  name: string
  label: string
  description: string
  /**
   * `schedule`: a Quartz cron expression (`op-monitor.clean-interval`); `version`: a version `major.minor.patch`, or
   * empty for none (`proxy.server-min-supported-client-version`).
   */
  kind: 'integer' | 'boolean' | 'schedule' | 'version'
  unit: string | null
  min: number | null
  max: number | null
  defaultValue: string
  value: string
  isDefault: boolean
}

/**
 * The listener settings of the bootstrap file (`gatehouse.json` or `--config FILE`): where the server listens. They
 * take effect at a restart (`system.restart`); the log level applies at once. A null port switches a listener off;
 * 0 takes any free port.
 */
export interface BootstrapValues {
  internalHost: string
  clientProxyHttpPort: number | null
  clientProxyHttpsPort: number | null
  adminPort: number | null
  externalHost: string
  serverProxyPort: number | null
  ocspResponderPort: number | null
  /** The health-check endpoint for load balancers (X-Road `health-check-interface`/`health-check-port`); null: off. */
  healthCheckHost: string
  healthCheckPort: number | null
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
}

export interface BootstrapSettingsDto {
  /** The file that holds them. */
  file: string
  /** What the file says (defaults where it is silent). */
  values: BootstrapValues
  /** What the running server uses. */
  running: BootstrapValues
  /** Fields whose file value differs from the running one: they apply at the next restart. */
  pendingRestart: Array<keyof BootstrapValues>
}

export interface SettingsApi {
  /** System parameters; every change applies at once. */
  list(): Promise<SettingDto[]>
  /** @throws not_found (unknown parameter), validation_failed */
  set(input: { name: string; value: string }): Promise<SettingDto>
  /** Back to the default. */
  reset(input: { name: string }): Promise<SettingDto>
  /** The bootstrap file's listener settings and which of them wait for a restart. */
  bootstrap(): Promise<BootstrapSettingsDto>
  /** Writes the bootstrap file atomically (other fields of the file are kept). @throws validation_failed (field in `detail`), unsupported */
  setBootstrap(input: Partial<BootstrapValues>): Promise<BootstrapSettingsDto>
}
