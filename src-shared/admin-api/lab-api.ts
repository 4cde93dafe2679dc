/**
 * The lab admin group: "create a lab on this machine" from the first-run wizard. One guided operation builds a
 * small trust domain in `DATA_DIR/lab` (CA, OCSP responder, time-stamping authority, configuration source on
 * 127.0.0.1), registers the owner and this server in it, gives the server certified keys and, once the operator has
 * confirmed the anchor hash, joins it. The token PIN goes to the token only: never stored, logged or audited.
 */

export const LAB_STEP_IDS = ['lab', 'services', 'member', 'token', 'keys', 'certificates', 'register', 'confirm', 'join'] as const
export type LabStepId = (typeof LAB_STEP_IDS)[number]

export type LabStepState = 'pending' | 'running' | 'done' | 'failed'

export interface LabStepDto {
  id: LabStepId
  title: string
  state: LabStepState
  /** What the step did (or is doing), in plain words. */
  detail: string | null
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

export interface LabApi {
  /** The lab hosted by this server and the current create operation. Starts the lab's services if they should run. */
  status(): Promise<LabStatus>
  /** Starts creating the lab; poll `status()` for progress. It stops at the `confirm` step for the anchor hash.
   * @throws already_initialized (server initialized or lab exists), conflict (an operation is running), validation_failed */
  create(input: CreateLabInput): Promise<LabOperationDto>
  /** Confirms the anchor hash and joins the lab: initialization, global configuration download, OCSP of own certificates.
   * @throws conflict (nothing awaits confirmation), validation_failed (hash differs) */
  confirm(input: { confirmedHash: string }): Promise<LabOperationDto>
}
