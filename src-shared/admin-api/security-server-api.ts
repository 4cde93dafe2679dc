/**
 * The admin API groups over the security-server domains: initialization, tokens/keys/CSRs/certificates,
 * clients/services/access rights/local groups, global configuration, diagnostics and settings.
 * Identifiers travel as X-Road's canonical strings (`SUBSYSTEM:LAB/GOV/1234/SUB`, `LOCALGROUP:admins`,
 * `GLOBALGROUP:LAB/security-server-owners`); client inputs also accept the path form `LAB/GOV/1234/SUB`.
 * PINs go in and never come out, and are never written to a log or the audit log.
 */

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
  /** Deletes the key from the token and the configuration. @throws key_not_found */
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

export interface CsrsApi {
  /** Approved CAs of the own instance that can issue for this server (from global configuration). */
  authorities(): Promise<CertificateAuthorityDto[]>
  /** @throws not_initialized (no global configuration yet), not_found (CA), key_not_found, validation_failed */
  generate(input: CsrRequestInput): Promise<GeneratedCsrDto>
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
  /** Imports a PEM (text) or DER (base64) certificate issued for one of our keys. @throws key_not_found, cert_exists, incorrect_certificate, wrong_cert_usage */
  import(input: { content: string; encoding?: 'utf8' | 'base64'; member?: string }): Promise<CertificateDto>
  /** @throws cert_not_found, cert_validation */
  activate(input: { certId: string }): Promise<CertificateDto>
  disable(input: { certId: string }): Promise<CertificateDto>
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
  isAuthentication: 'NOSSL' | 'SSLNOAUTH' | 'SSLAUTH'
  owner: boolean
  /** Member name from global configuration when known. */
  name: string | null
  createdAt: string
}

export interface ClientsApi {
  list(): Promise<ClientDto[]>
  /** @throws validation_failed, conflict */
  add(input: { client: string; state?: ClientStateValue }): Promise<ClientDto>
  /** @throws not_found, validation_failed */
  setState(input: { client: string; state: ClientStateValue }): Promise<ClientDto>
}

export interface EndpointDto {
  method: string
  path: string
  generated: boolean
}

export interface ServiceDto {
  /** Encoded service id. */
  id: string
  provider: string
  serviceCode: string
  url: string
  timeoutSeconds: number
  sslVerify: boolean
  disabled: boolean
  disabledNotice: string | null
  endpoints: EndpointDto[]
}

export interface ServicesApi {
  /** Services of one client (encoded or path form), or of every client. */
  list(input?: { client?: string }): Promise<ServiceDto[]>
  /** Adds a REST service with the base endpoint. @throws service_malformed_url, conflict, not_found */
  add(input: { client: string; serviceCode: string; url: string; timeoutSeconds?: number; sslVerify?: boolean }): Promise<ServiceDto>
  update(input: { service: string; url?: string; timeoutSeconds?: number; sslVerify?: boolean }): Promise<ServiceDto>
  /** Disabling shows `notice` to callers. */
  setEnabled(input: { service: string; enabled: boolean; notice?: string }): Promise<ServiceDto>
  /** @throws validation_failed, conflict */
  addEndpoint(input: { service: string; method: string; path: string }): Promise<ServiceDto>
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
  clients: string[]
}

export interface GlobalConfApi {
  status(): Promise<GlobalConfStatus>
  members(): Promise<GlobalMemberDto[]>
  servers(): Promise<GlobalServerDto[]>
  /** Downloads now instead of waiting for the next interval. @throws not_initialized */
  refresh(): Promise<GlobalConfStatus>
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

export interface DiagnosticsApi {
  /** Every check at once; `windowMinutes` (1..1440, default 60) is the message-rate window. */
  run(input?: { windowMinutes?: number }): Promise<Diagnostics>
}

// ---- settings -------------------------------------------------------------------------------------------

export interface SettingDto {
  name: string
  label: string
  description: string
  kind: 'integer' | 'boolean'
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
