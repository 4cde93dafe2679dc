/**
 * Management requests to the central server (pr-mserv; ug-ss §4, §5, §10): registering and unregistering clients,
 * disabling, enabling and renaming them, changing the owner, the address and maintenance mode, and registering and
 * unregistering authentication certificates. Each is sent once; the answer's request id is kept and the state
 * follows global configuration. `dryRun` builds and signs the exact message without sending it.
 */
export const MANAGEMENT_SERVICES = [
  'authCertReg', 'clientReg', 'ownerChange', 'clientDeletion', 'authCertDeletion', 'addressChange',
  'clientDisable', 'clientEnable', 'clientRename', 'maintenanceModeEnable', 'maintenanceModeDisable',
] as const
export type ManagementServiceName = (typeof MANAGEMENT_SERVICES)[number]

export interface ManagementRequestDto {
  id: number
  service: ManagementServiceName
  /** Encoded client id, `authcert:{sha256 hex}` or `server`. */
  subject: string
  /** The request's free-text field (subsystem name, address, maintenance message, new owner). */
  detail: string | null
  /** `xroad:id` of the message. */
  messageId: string
  /** The central server's request id. */
  requestId: number | null
  sentAt: string
  sentBy: string | null
  /** SUBMITTED until global configuration shows the change (CONFIRMED); SUPERSEDED by a later request on the same subject. */
  status: 'SUBMITTED' | 'CONFIRMED' | 'SUPERSEDED'
  settledAt: string | null
}

export interface ManagementSendResultDto {
  dryRun: boolean
  service: ManagementServiceName
  /** `central-server` (authCertReg, HTTPS) or `client-proxy` (an X-Road message). */
  via: 'central-server' | 'client-proxy'
  target: string
  messageId: string
  requestId: number | null
  /** The stored request (null on a dry run). */
  request: ManagementRequestDto | null
  /** The exact HTTP body (base64) and content type; on a dry run only. */
  message: { contentType: string; base64: string } | null
}

/** Global configuration's `managementRequestServiceProviderId`: the subsystem serving the management services. */
export interface ManagementServiceProviderDto {
  /** Encoded subsystem id; null without a global configuration that names one. */
  providerId: string | null
}

export interface ManagementDryRun {
  dryRun?: boolean
}

export interface ManagementApi {
  /** clientReg: SAVED → REGISTRATION_IN_PROGRESS. @throws cannot_register_owner, action_not_possible, and the central server's fault */
  registerClient(input: { client: string; subsystemName?: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  /** clientDeletion: → DELETION_IN_PROGRESS. @throws cannot_unregister_owner, action_not_possible */
  unregisterClient(input: { client: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  /** clientDisable: REGISTERED → DISABLING_IN_PROGRESS → DISABLED once the instance drops it. */
  disableClient(input: { client: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  /** clientEnable: DISABLED → ENABLING_IN_PROGRESS → REGISTERED once the instance lists it again. */
  enableClient(input: { client: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  renameClient(input: { client: string; subsystemName: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  /** ownerChange: the new owner, a registered member client of this server. */
  changeOwner(input: { member: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  changeAddress(input: { address: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  enableMaintenanceMode(input: { message?: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  disableMaintenanceMode(input: ManagementDryRun): Promise<ManagementSendResultDto>
  /** authCertReg, straight to the central server: saved → registration in progress → registered. */
  registerAuthCertificate(input: { certificate: string; address: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  /** authCertDeletion: registered → deletion in progress. */
  unregisterAuthCertificate(input: { certificate: string } & ManagementDryRun): Promise<ManagementSendResultDto>
  /** Requests sent, newest first. */
  requests(input?: { subject?: string; openOnly?: boolean }): Promise<ManagementRequestDto[]>
  /** Who serves the management services (its client row offers no Disable nor Unregister). */
  serviceProvider(): Promise<ManagementServiceProviderDto>
}
