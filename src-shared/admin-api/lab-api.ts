/**
 * The lab admin group. "Create a lab on this machine" from the first-run wizard: one guided operation builds a
 * small trust domain in `DATA_DIR/lab` (CA, OCSP responder, time-stamping authority, configuration source on
 * 127.0.0.1), registers the owner and this server in it, gives the server certified keys and, once the operator has
 * confirmed the anchor hash, joins it. The token PIN goes to the token only: never stored, logged or audited.
 * Then the lab's administration, the central server's side as X-Road's central server UI has it: members and
 * subsystems, security servers with their authentication certificates and clients, certificates (sign a CSR another
 * server exported, revoke), global groups, trust services and the anchor other servers join with. Every change is
 * followed by a new signed global configuration, which joined servers see at their next download.
 */

export const LAB_STEP_IDS = ['lab', 'services', 'member', 'token', 'keys', 'certificates', 'register', 'confirm', 'join'] as const
export type LabStepId = (typeof LAB_STEP_IDS)[number]

export type LabStepState = 'pending' | 'running' | 'done' | 'failed'

export interface LabStepDto {
  id: LabStepId
  /** English title; the GUI translates `id`. */
  title: string
  state: LabStepState
  /** What the step did (or is doing), in plain English words: the fallback for `outcome` + `params`, and a failure's message. */
  detail: string | null
  /** Which outcome text describes the step (`done`, `created`, `existing`, `waiting`…); the GUI translates `<id>.<outcome>` with `params`. */
  outcome: string | null
  /** Values the outcome text names (URLs, identifiers, hashes). */
  params: Record<string, string>
}

export type LabOperationState = 'running' | 'awaiting-confirmation' | 'done' | 'failed'

export interface LabOperationDto {
  state: LabOperationState
  startedAt: string
  steps: LabStepDto[]
  /** The lab's configuration anchor, once it exists: compare the hash before joining. */
  anchor: { instance: string; hash: string } | null
  error: { code: string; message: string } | null
}

export interface LabServicesDto {
  running: boolean
  ocspUrl: string | null
  tsaUrl: string | null
  configurationUrl: string | null
  /** Why the services are not running (a port taken by another program), in words. */
  problem: string | null
}

export interface LabStatus {
  /** True when `DATA_DIR/lab` holds a lab this server created. */
  exists: boolean
  instance: string | null
  services: LabServicesDto
  /** The create operation of this session, if one ran. */
  operation: LabOperationDto | null
}

export interface CreateLabInput {
  /** X-Road instance identifier of the new trust domain, e.g. `LAB`. */
  instance: string
  /** Owner member: class (GOV, COM, ORG, EDU), code and name. */
  memberClass: string
  memberCode: string
  memberName: string
  /** A subsystem of the owner registered as this server's client; default `main`. */
  subsystemCode?: string
  serverCode: string
  /** PIN of the software token (created when missing, logged in otherwise). */
  softwareTokenPin: string
}

export interface LabApi extends LabAdminApi {
  /** The lab hosted by this server and the current create operation. Starts the lab's services if they should run. */
  status(): Promise<LabStatus>
  /** Starts creating the lab; poll `status()` for progress. It stops at the `confirm` step for the anchor hash.
   * @throws already_initialized (server initialized or lab exists), conflict (an operation is running), validation_failed */
  create(input: CreateLabInput): Promise<LabOperationDto>
  /** Confirms the anchor hash and joins the lab: initialization, global configuration download, OCSP of own certificates.
   * @throws conflict (nothing awaits confirmation), validation_failed (hash differs) */
  confirm(input: { confirmedHash: string }): Promise<LabOperationDto>
}

// ---- lab administration ---------------------------------------------------------------------------------

/** A subsystem of a lab member and the security servers that list it as a client. */
export interface LabSubsystemDto {
  /** Encoded identifier, `SUBSYSTEM:LAB/GOV/1234/portal`. */
  id: string
  code: string
  /** Encoded ids of the security servers it is a client of: while there are any, it cannot be deleted. */
  servers: string[]
  /** Codes of the global groups it is in (it leaves them when deleted). */
  globalGroups: string[]
}

export interface LabMemberDto {
  /** Encoded identifier, `MEMBER:LAB/GOV/1234`. */
  id: string
  memberClass: string
  memberCode: string
  name: string
  subsystems: LabSubsystemDto[]
  /** Encoded ids of the security servers it owns. */
  ownedServers: string[]
  /** Encoded ids of the security servers that list the member itself as a client. */
  clientOf: string[]
  globalGroups: string[]
}

export interface LabAuthCertificateDto {
  /** SHA-256 of the certificate, base64, as global configuration lists it. */
  hash: string
  /** The lab's record of it: null when the lab did not issue it. */
  serial: string | null
  subject: string | null
  notAfter: string | null
  revoked: boolean
}

export interface LabServerDto {
  /** Encoded identifier, `SERVER:LAB/GOV/1234/SS1`. */
  id: string
  owner: string
  ownerName: string
  serverCode: string
  /** Host name or IP address (with :port when several servers share a machine). */
  address: string
  authCertificates: LabAuthCertificateDto[]
  /** Encoded client identifiers (members or subsystems). */
  clients: string[]
  /**
   * Of `clients`, those a clientDisable request turned off: still registered, no longer published in global
   * configuration until a clientEnable.
   */
  disabledClients: string[]
  /** True for the security server that hosts this lab. */
  thisServer: boolean
}

export type LabCertificateUsage = 'ca' | 'ocsp' | 'tsa' | 'sign' | 'auth'
export type LabCertificateStatus = 'good' | 'revoked' | 'expired'

export interface LabCertificateDto {
  /** Serial number in hex, upper case. */
  serial: string
  usage: LabCertificateUsage
  subject: string
  issuedAt: string
  notBefore: string
  notAfter: string
  status: LabCertificateStatus
  revokedAt: string | null
  /** SHA-256 of the certificate, base64 (an auth certificate's hash in global configuration). */
  hash: string
  /** Encoded ids of the security servers registered with this (authentication) certificate. */
  registeredOn: string[]
}

export interface LabGlobalGroupDto {
  /** Encoded identifier, `GLOBALGROUP:LAB/partners`. */
  id: string
  code: string
  description: string
  /** Encoded client identifiers. */
  members: string[]
}

export interface LabTrustServicesDto {
  instance: string
  services: LabServicesDto
  caSubject: string
  ocspSubject: string
  tsaSubject: string
  /** How long a signed configuration directory stays valid (X-Road's default 600 s). */
  confExpireSeconds: number
  /** How old an OCSP response may be (global configuration's ocspFreshnessSeconds). */
  ocspFreshnessSeconds: number
  timeStampingIntervalSeconds: number
  /** The member classes members may have (X-Road's DEV instance's three). */
  memberClasses: Array<{ code: string; description: string }>
}

export interface LabAnchorDto {
  instance: string
  fileName: string
  /** The anchor XML as the joining server's first-run wizard takes it. */
  content: string
  /** SHA-256 of the file, `AB:CD:…`, exactly as the joining server shows it for confirmation. */
  hash: string
  generatedAt: string | null
  downloadUrl: string
}

/** A CSR (PEM text, or DER in base64) uploaded for signing. */
export interface LabCsrInput {
  content: string
  encoding: 'utf8' | 'base64'
  /** The certificate's usage; taken from the CSR (its key usage, else its subject) when omitted. */
  usage?: 'sign' | 'auth'
}

export interface LabCsrInspectionDto {
  usage: 'sign' | 'auth'
  usageFrom: 'key-usage' | 'subject' | 'chosen'
  requestedSubject: string
  /** The subject the certificate will carry (the certificate profile's). */
  subject: string
  keyAlgorithm: string
  /** Encoded member id (signing certificates). */
  member: string | null
  /** Server code (authentication certificates). */
  serverCode: string | null
}

/** A certificate ready to save: PEM text and DER bytes (base64). */
export interface LabCertificateFileDto {
  serial: string
  usage: LabCertificateUsage
  subject: string
  pem: string
  derBase64: string
  /** Suggested file name without extension, e.g. `LAB-GOV-1234-sign-1A2B`. */
  fileName: string
}

export interface RegisterLabServerInput {
  /** Owner member, encoded or `INSTANCE/CLASS/CODE`. */
  owner: string
  serverCode: string
  address: string
  /** Serial of an authentication certificate this lab issued… */
  certificateSerial?: string
  /** …or the certificate file (PEM text or DER in base64). */
  certificate?: { content: string; encoding: 'utf8' | 'base64' }
}

/** pr-mserv service codes the lab's management service takes (X-Road's `ManagementRequestType`). */
export type LabManagementRequestType =
  | 'authCertReg' | 'clientReg' | 'ownerChange' | 'clientDeletion' | 'authCertDeletion' | 'addressChange'
  | 'clientDisable' | 'clientEnable' | 'clientRename' | 'maintenanceModeEnable' | 'maintenanceModeDisable'

/** X-Road's request statuses the lab uses: WAITING (held for the operator), APPROVED, DECLINED. */
export type LabManagementRequestStatus = 'WAITING' | 'APPROVED' | 'DECLINED'

/** One management request a security server sent to the lab (the central server's side of pr-mserv). */
export interface LabManagementRequestDto {
  /** The request id the lab answered the security server with. */
  id: number
  type: LabManagementRequestType
  status: LabManagementRequestStatus
  /** Encoded security server identifier, `SERVER:LAB/GOV/1234/SS1`. */
  server: string
  /** Encoded client identifier (client registration and deletion). */
  client: string | null
  /** Server address (authCertReg, addressChange). */
  address: string | null
  /** SHA-256 of the authentication certificate, base64 (authCertReg, authCertDeletion). */
  authCertHash: string | null
  subsystemName: string | null
  receivedAt: string
  decidedAt: string | null
  /** `auto` when the lab's auto-approval approved it, `operator` when someone on this screen decided. */
  decidedBy: 'auto' | 'operator' | null
}

/** The lab's management service: where security servers send requests, the auto-approval options, the requests. */
export interface LabManagementDto {
  /** `managementRequestServiceProviderId` (encoded subsystem). */
  providerId: string
  /** The security server that serves the provider (encoded), null until the lab operator designates one. */
  managementSecurityServer: string | null
  /** `authCertRegServiceAddress`, null until the lab services ran. */
  authCertRegUrl: string | null
  /** The URL the management security server calls for the provider's services, null until the lab services ran. */
  managementServiceUrl: string | null
  /** X-Road's central server auto-approval options; the other requests are applied when they arrive. */
  autoApproval: { authCertReg: boolean; clientReg: boolean; ownerChange: boolean }
  counts: { total: number; waiting: number; approved: number; declined: number }
  /** Newest first, at most 500. */
  requests: LabManagementRequestDto[]
}

export interface LabAdminApi {
  members(): Promise<LabMemberDto[]>
  servers(): Promise<LabServerDto[]>
  certificates(): Promise<LabCertificateDto[]>
  globalGroups(): Promise<LabGlobalGroupDto[]>
  trustServices(): Promise<LabTrustServicesDto>
  /** The configuration anchor other servers join with. */
  anchor(): Promise<LabAnchorDto>
  /** @throws validation_failed (class unknown, codes), conflict (registered already) */
  addMember(input: { memberClass: string; memberCode: string; name: string; subsystemCode?: string }): Promise<LabMemberDto>
  /** @throws unknown_member, conflict */
  addSubsystem(input: { member: string; subsystemCode: string }): Promise<LabMemberDto>
  /** @throws unknown_member, conflict (a server serves it) */
  deleteSubsystem(input: { subsystem: string }): Promise<void>
  /** @throws unknown_member, conflict (it owns a server, or it or a subsystem is a server's client) */
  deleteMember(input: { member: string }): Promise<void>
  /** Registers a security server (or another authentication certificate of it). @throws unknown_member, wrong_cert_usage, cert_not_found, conflict, validation_failed */
  registerServer(input: RegisterLabServerInput): Promise<LabServerDto>
  /** @throws invalid_security_server, validation_failed */
  setServerAddress(input: { server: string; address: string }): Promise<LabServerDto>
  /** @throws invalid_security_server */
  deleteServer(input: { server: string }): Promise<void>
  /** @throws invalid_security_server, cert_not_found */
  deleteAuthCertificate(input: { server: string; hash: string }): Promise<LabServerDto>
  /** @throws invalid_security_server, unknown_member, conflict */
  addServerClient(input: { server: string; client: string }): Promise<LabServerDto>
  /** @throws invalid_security_server, not_found */
  removeServerClient(input: { server: string; client: string }): Promise<LabServerDto>
  /** What signing the CSR would issue, without issuing. @throws bad_request (not a CSR), validation_failed, unknown_member, incorrect_certificate */
  inspectCsr(input: LabCsrInput): Promise<LabCsrInspectionDto>
  /** Issues the certificate. @throws as inspectCsr, key_not_found (CA key on a token) */
  signCsr(input: LabCsrInput): Promise<LabCertificateFileDto>
  /** One issued certificate as files. @throws cert_not_found */
  certificate(input: { serial: string }): Promise<LabCertificateFileDto>
  /** @throws cert_not_found, validation_failed (the CA certificate) */
  revokeCertificate(input: { serial: string }): Promise<LabCertificateDto>
  /** @throws validation_failed, conflict */
  addGlobalGroup(input: { code: string; description: string }): Promise<LabGlobalGroupDto>
  /** @throws not_found */
  deleteGlobalGroup(input: { code: string }): Promise<void>
  /** @throws not_found, unknown_member, conflict */
  addGlobalGroupMember(input: { code: string; member: string }): Promise<LabGlobalGroupDto>
  /** @throws not_found */
  removeGlobalGroupMember(input: { code: string; member: string }): Promise<LabGlobalGroupDto>
  /** @throws validation_failed */
  setConfExpiry(input: { seconds: number }): Promise<LabTrustServicesDto>
  /** The management service and the requests security servers sent. */
  managementRequests(): Promise<LabManagementDto>
  /** Approves a held request: the registry changes and a new global configuration is signed.
   * @throws management_request_not_found, management_request_invalid_state_for_approval, and the refusals of the request's type */
  approveManagementRequest(input: { id: number }): Promise<LabManagementRequestDto>
  /** Declines a held request: nothing changes. @throws management_request_not_found, management_request_invalid_state_for_approval */
  declineManagementRequest(input: { id: number }): Promise<LabManagementRequestDto>
  setManagementAutoApproval(input: { authCertReg?: boolean; clientReg?: boolean; ownerChange?: boolean }): Promise<LabManagementDto>
  /**
   * Makes this server (the lab's host) the management security server: its owner's subsystem MANAGEMENT becomes the
   * management service provider, and this server serves the management services for the lab, so other servers can
   * send their management requests. @throws invalid_security_server (this server is not registered in the lab), conflict (lab services not running yet)
   */
  serveManagementServices(): Promise<LabManagementDto>
}
