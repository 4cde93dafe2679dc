import type { ReadableDb, WritableDb } from '../platform'

/** SQL of the lab registry (tables from `migrations/0001-lab-state.ts`). */
export interface LabSettings {
  instance: string
  keyAlgorithm: string
  createdAt: string
  confExpireSeconds: number
  ocspFreshnessSeconds: number
  timeStampingIntervalSeconds: number
  /** `ocspFetchInterval`, published as the FETCHINTERVAL part when set (migration 0002). */
  ocspFetchIntervalSeconds: number | null
  confAddress: string
  ocspUrl: string
  tsaUrl: string
  /** X-Road's auto-approval options of the central server (migration 0003). */
  autoApproveAuthCertReg: boolean
  autoApproveClientReg: boolean
  autoApproveOwnerChange: boolean
  /** Where `lab serve` takes authCertReg over HTTPS (`authCertRegServiceAddress`); null until it first ran. */
  authCertRegUrl: string | null
  /** Where `lab serve` takes the other management requests, the service URL behind the management security server. */
  managementServiceUrl: string | null
  /** `managementRequestServiceProviderId` (encoded) once designated; null: the default ORG/LAB/MANAGEMENT. */
  managementProvider: string | null
}

export interface MemberRow {
  id: number
  memberClass: string
  memberCode: string
  name: string
}

export interface SubsystemRow {
  id: number
  memberId: number
  subsystemCode: string
}

export type CertificateUsage = 'ca' | 'ocsp' | 'tsa' | 'sign' | 'auth'

export interface CertificateRow {
  serial: string
  usage: CertificateUsage
  subject: string
  der: Uint8Array
  issuedAt: string
  revokedAt: string | null
  revocationReason: number | null
}

export interface SecurityServerRow {
  id: number
  ownerId: number
  serverCode: string
  address: string
}

export interface ServerClientRow {
  serverId: number
  memberId: number
  subsystemId: number | null
  /** Off after clientDisable (migration 0005): kept in the registry, not published. */
  enabled: boolean
}

type ManagedSettings = 'ocspFetchIntervalSeconds' | 'autoApproveAuthCertReg' | 'autoApproveClientReg' | 'autoApproveOwnerChange' | 'authCertRegUrl' | 'managementServiceUrl' | 'managementProvider'

export function insertSettings(db: WritableDb, s: Omit<LabSettings, ManagedSettings>): void {
  db.prepare(
    `INSERT INTO lab_settings (id, instance, key_algorithm, created_at, conf_expire_seconds, ocsp_freshness_seconds,
       timestamping_interval_seconds, conf_address, ocsp_url, tsa_url) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(s.instance, s.keyAlgorithm, s.createdAt, s.confExpireSeconds, s.ocspFreshnessSeconds, s.timeStampingIntervalSeconds, s.confAddress, s.ocspUrl, s.tsaUrl)
}

export function findSettings(db: ReadableDb): LabSettings | undefined {
  const row = db
    .prepare(
      `SELECT instance, key_algorithm AS keyAlgorithm, created_at AS createdAt, conf_expire_seconds AS confExpireSeconds,
         ocsp_freshness_seconds AS ocspFreshnessSeconds, timestamping_interval_seconds AS timeStampingIntervalSeconds,
         ocsp_fetch_interval_seconds AS ocspFetchIntervalSeconds, conf_address AS confAddress, ocsp_url AS ocspUrl, tsa_url AS tsaUrl,
         auto_approve_auth_cert_reg AS autoApproveAuthCertReg, auto_approve_client_reg AS autoApproveClientReg,
         auto_approve_owner_change AS autoApproveOwnerChange, auth_cert_reg_url AS authCertRegUrl, management_service_url AS managementServiceUrl,
         management_provider AS managementProvider
       FROM lab_settings WHERE id = 1`,
    )
    .get() as (Omit<LabSettings, 'autoApproveAuthCertReg' | 'autoApproveClientReg' | 'autoApproveOwnerChange'> & Record<'autoApproveAuthCertReg' | 'autoApproveClientReg' | 'autoApproveOwnerChange', number>) | undefined
  return row === undefined
    ? undefined
    : { ...row, autoApproveAuthCertReg: row.autoApproveAuthCertReg === 1, autoApproveClientReg: row.autoApproveClientReg === 1, autoApproveOwnerChange: row.autoApproveOwnerChange === 1 }
}

export function updateManagementAddresses(db: WritableDb, values: { authCertRegUrl: string; managementServiceUrl: string }): void {
  db.prepare('UPDATE lab_settings SET auth_cert_reg_url = ?, management_service_url = ? WHERE id = 1').run(values.authCertRegUrl, values.managementServiceUrl)
}

export function updateManagementProvider(db: WritableDb, provider: string): void {
  db.prepare('UPDATE lab_settings SET management_provider = ? WHERE id = 1').run(provider)
}

export function updateAutoApproval(db: WritableDb, values: Pick<LabSettings, 'autoApproveAuthCertReg' | 'autoApproveClientReg' | 'autoApproveOwnerChange'>): void {
  db.prepare('UPDATE lab_settings SET auto_approve_auth_cert_reg = ?, auto_approve_client_reg = ?, auto_approve_owner_change = ? WHERE id = 1')
    .run(values.autoApproveAuthCertReg ? 1 : 0, values.autoApproveClientReg ? 1 : 0, values.autoApproveOwnerChange ? 1 : 0)
}

export type ManagementRequestType =
  | 'authCertReg' | 'clientReg' | 'ownerChange' | 'clientDeletion' | 'authCertDeletion' | 'addressChange'
  | 'clientDisable' | 'clientEnable' | 'clientRename' | 'maintenanceModeEnable' | 'maintenanceModeDisable'

export type ManagementRequestStatus = 'WAITING' | 'APPROVED' | 'DECLINED'

export interface ManagementRequestRow {
  id: number
  type: ManagementRequestType
  status: ManagementRequestStatus
  /** Encoded security server identifier. */
  server: string
  /** Encoded client identifier (clientReg, clientDeletion, ownerChange, client*). */
  client: string | null
  address: string | null
  authCert: Uint8Array | null
  subsystemName: string | null
  /** maintenanceModeEnable's optional message. */
  maintenanceMessage: string | null
  /** The request's `xroad:id`. */
  messageId: string
  receivedAt: string
  decidedAt: string | null
  decidedBy: 'auto' | 'operator' | null
}

const REQUEST_COLUMNS = `id, type, status, server, client, address, auth_cert AS authCert, subsystem_name AS subsystemName, maintenance_message AS maintenanceMessage,
  message_id AS messageId, received_at AS receivedAt, decided_at AS decidedAt, decided_by AS decidedBy`

function requestRow(row: ManagementRequestRow): ManagementRequestRow {
  return { ...row, authCert: row.authCert === null ? null : new Uint8Array(row.authCert) }
}

export function insertManagementRequest(
  db: WritableDb,
  r: Pick<ManagementRequestRow, 'type' | 'server' | 'client' | 'address' | 'authCert' | 'subsystemName' | 'maintenanceMessage' | 'messageId' | 'receivedAt'>,
): number {
  return Number(
    db.prepare(
      `INSERT INTO management_requests (type, status, server, client, address, auth_cert, subsystem_name, maintenance_message, message_id, received_at)
       VALUES (?, 'WAITING', ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.type, r.server, r.client, r.address, r.authCert === null ? null : Buffer.from(r.authCert), r.subsystemName, r.maintenanceMessage, r.messageId, r.receivedAt,
    ).lastInsertRowid,
  )
}

export function findManagementRequest(db: ReadableDb, id: number): ManagementRequestRow | undefined {
  const row = db.prepare(`SELECT ${REQUEST_COLUMNS} FROM management_requests WHERE id = ?`).get(id) as ManagementRequestRow | undefined
  return row === undefined ? undefined : requestRow(row)
}

/** Newest first. */
export function listManagementRequests(db: ReadableDb, limit: number): ManagementRequestRow[] {
  return (db.prepare(`SELECT ${REQUEST_COLUMNS} FROM management_requests ORDER BY id DESC LIMIT ?`).all(limit) as ManagementRequestRow[]).map(requestRow)
}

export function listWaitingRequests(db: ReadableDb, type: ManagementRequestType): ManagementRequestRow[] {
  return (db.prepare(`SELECT ${REQUEST_COLUMNS} FROM management_requests WHERE status = 'WAITING' AND type = ? ORDER BY id`).all(type) as ManagementRequestRow[])
    .map(requestRow)
}

export function countManagementRequests(db: ReadableDb): { total: number; approved: number; waiting: number; declined: number } {
  return db.prepare(`SELECT COUNT(*) AS total, COALESCE(SUM(status = 'APPROVED'), 0) AS approved, COALESCE(SUM(status = 'WAITING'), 0) AS waiting,
    COALESCE(SUM(status = 'DECLINED'), 0) AS declined FROM management_requests`).get() as { total: number; approved: number; waiting: number; declined: number }
}

export function decideManagementRequest(db: WritableDb, id: number, status: 'APPROVED' | 'DECLINED', at: string, by: 'auto' | 'operator'): void {
  db.prepare('UPDATE management_requests SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?').run(status, at, by, id)
}

export function updateServiceAddresses(db: WritableDb, values: { confAddress: string; ocspUrl: string; tsaUrl: string }): void {
  db.prepare('UPDATE lab_settings SET conf_address = ?, ocsp_url = ?, tsa_url = ? WHERE id = 1').run(values.confAddress, values.ocspUrl, values.tsaUrl)
}

export function updateConfExpireSeconds(db: WritableDb, seconds: number): void {
  db.prepare('UPDATE lab_settings SET conf_expire_seconds = ? WHERE id = 1').run(seconds)
}

export function updateGlobalSettings(
  db: WritableDb, values: Pick<LabSettings, 'ocspFreshnessSeconds' | 'timeStampingIntervalSeconds' | 'ocspFetchIntervalSeconds'>,
): void {
  db.prepare('UPDATE lab_settings SET ocsp_freshness_seconds = ?, timestamping_interval_seconds = ?, ocsp_fetch_interval_seconds = ? WHERE id = 1')
    .run(values.ocspFreshnessSeconds, values.timeStampingIntervalSeconds, values.ocspFetchIntervalSeconds)
}

export function insertMemberClass(db: WritableDb, code: string, description: string): void {
  db.prepare('INSERT INTO member_classes (code, description) VALUES (?, ?)').run(code, description)
}

export function listMemberClasses(db: ReadableDb): Array<{ code: string; description: string }> {
  return db.prepare('SELECT code, description FROM member_classes ORDER BY code').all() as Array<{ code: string; description: string }>
}

export function findMember(db: ReadableDb, memberClass: string, memberCode: string): MemberRow | undefined {
  return db
    .prepare('SELECT id, member_class AS memberClass, member_code AS memberCode, name FROM members WHERE member_class = ? AND member_code = ?')
    .get(memberClass, memberCode) as MemberRow | undefined
}

export function insertMember(db: WritableDb, memberClass: string, memberCode: string, name: string): number {
  return Number(db.prepare('INSERT INTO members (member_class, member_code, name) VALUES (?, ?, ?)').run(memberClass, memberCode, name).lastInsertRowid)
}

export function listMembers(db: ReadableDb): MemberRow[] {
  return db.prepare('SELECT id, member_class AS memberClass, member_code AS memberCode, name FROM members ORDER BY id').all() as MemberRow[]
}

export function findSubsystem(db: ReadableDb, memberId: number, subsystemCode: string): SubsystemRow | undefined {
  return db
    .prepare('SELECT id, member_id AS memberId, subsystem_code AS subsystemCode FROM subsystems WHERE member_id = ? AND subsystem_code = ?')
    .get(memberId, subsystemCode) as SubsystemRow | undefined
}

export function insertSubsystem(db: WritableDb, memberId: number, subsystemCode: string): number {
  return Number(db.prepare('INSERT INTO subsystems (member_id, subsystem_code) VALUES (?, ?)').run(memberId, subsystemCode).lastInsertRowid)
}

export function listSubsystems(db: ReadableDb): SubsystemRow[] {
  return db.prepare('SELECT id, member_id AS memberId, subsystem_code AS subsystemCode FROM subsystems ORDER BY id').all() as SubsystemRow[]
}

export function insertCertificate(db: WritableDb, row: Omit<CertificateRow, 'revokedAt' | 'revocationReason'>): void {
  db.prepare('INSERT INTO certificates (serial, usage, subject, der, issued_at) VALUES (?, ?, ?, ?, ?)').run(
    row.serial,
    row.usage,
    row.subject,
    Buffer.from(row.der),
    row.issuedAt,
  )
}

export function findCertificate(db: ReadableDb, serial: string): CertificateRow | undefined {
  const row = db
    .prepare(
      `SELECT serial, usage, subject, der, issued_at AS issuedAt, revoked_at AS revokedAt, revocation_reason AS revocationReason
       FROM certificates WHERE serial = ?`,
    )
    .get(serial) as CertificateRow | undefined
  return row === undefined ? undefined : { ...row, der: new Uint8Array(row.der) }
}

export function listCertificates(db: ReadableDb): CertificateRow[] {
  const rows = db
    .prepare(
      `SELECT serial, usage, subject, der, issued_at AS issuedAt, revoked_at AS revokedAt, revocation_reason AS revocationReason
       FROM certificates ORDER BY issued_at, serial`,
    )
    .all() as CertificateRow[]
  return rows.map((row) => ({ ...row, der: new Uint8Array(row.der) }))
}

export function markRevoked(db: WritableDb, serial: string, at: string, reason: number): void {
  db.prepare('UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE serial = ?').run(at, reason, serial)
}

export function findSecurityServer(db: ReadableDb, ownerId: number, serverCode: string): SecurityServerRow | undefined {
  return db
    .prepare('SELECT id, owner_id AS ownerId, server_code AS serverCode, address FROM security_servers WHERE owner_id = ? AND server_code = ?')
    .get(ownerId, serverCode) as SecurityServerRow | undefined
}

export function insertSecurityServer(db: WritableDb, ownerId: number, serverCode: string, address: string): number {
  return Number(
    db.prepare('INSERT INTO security_servers (owner_id, server_code, address) VALUES (?, ?, ?)').run(ownerId, serverCode, address).lastInsertRowid,
  )
}

export function listSecurityServers(db: ReadableDb): SecurityServerRow[] {
  return db.prepare('SELECT id, owner_id AS ownerId, server_code AS serverCode, address FROM security_servers ORDER BY id').all() as SecurityServerRow[]
}

export function insertAuthCertHash(db: WritableDb, serverId: number, hash: string): void {
  db.prepare('INSERT OR IGNORE INTO server_auth_certs (server_id, cert_hash) VALUES (?, ?)').run(serverId, hash)
}

export function listAuthCertHashes(db: ReadableDb): Array<{ serverId: number; certHash: string }> {
  return db.prepare('SELECT server_id AS serverId, cert_hash AS certHash FROM server_auth_certs ORDER BY rowid').all() as Array<{
    serverId: number
    certHash: string
  }>
}

export function hasServerClient(db: ReadableDb, serverId: number, memberId: number, subsystemId: number | null): boolean {
  return (
    db
      .prepare('SELECT 1 FROM server_clients WHERE server_id = ? AND member_id = ? AND subsystem_id IS ?')
      .get(serverId, memberId, subsystemId) !== undefined
  )
}

export function insertServerClient(db: WritableDb, serverId: number, memberId: number, subsystemId: number | null): void {
  db.prepare(
    `INSERT INTO server_clients (server_id, member_id, subsystem_id, position)
     VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM server_clients WHERE server_id = ?))`,
  ).run(serverId, memberId, subsystemId, serverId)
}

export function listServerClients(db: ReadableDb): ServerClientRow[] {
  const rows = db
    .prepare('SELECT server_id AS serverId, member_id AS memberId, subsystem_id AS subsystemId, enabled FROM server_clients ORDER BY server_id, position')
    .all() as Array<Omit<ServerClientRow, 'enabled'> & { enabled: number }>
  return rows.map((r) => ({ ...r, enabled: r.enabled === 1 }))
}

/** clientDisable / clientEnable (migration 0005). Returns whether the server has that client. */
export function updateServerClientEnabled(db: WritableDb, serverId: number, memberId: number, subsystemId: number | null, enabled: boolean): boolean {
  return db.prepare('UPDATE server_clients SET enabled = ? WHERE server_id = ? AND member_id = ? AND subsystem_id IS ?')
    .run(enabled ? 1 : 0, serverId, memberId, subsystemId).changes > 0
}

/** ownerChange: the server (with its authentication certificates and clients) gets another owner member. */
export function updateServerOwner(db: WritableDb, serverId: number, ownerId: number): void {
  db.prepare('UPDATE security_servers SET owner_id = ? WHERE id = ?').run(ownerId, serverId)
}

export function findGlobalGroup(db: ReadableDb, groupCode: string): { groupCode: string; description: string } | undefined {
  return db.prepare('SELECT group_code AS groupCode, description FROM global_groups WHERE group_code = ?').get(groupCode) as
    | { groupCode: string; description: string }
    | undefined
}

export function insertGlobalGroup(db: WritableDb, groupCode: string, description: string): void {
  db.prepare('INSERT INTO global_groups (group_code, description) VALUES (?, ?)').run(groupCode, description)
}

export function listGlobalGroups(db: ReadableDb): Array<{ groupCode: string; description: string }> {
  return db.prepare('SELECT group_code AS groupCode, description FROM global_groups ORDER BY rowid').all() as Array<{
    groupCode: string
    description: string
  }>
}

export function insertGroupMember(db: WritableDb, groupCode: string, client: string): boolean {
  const result = db
    .prepare(
      `INSERT OR IGNORE INTO global_group_members (group_code, client, position)
       VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM global_group_members WHERE group_code = ?))`,
    )
    .run(groupCode, client, groupCode)
  return result.changes > 0
}

export function listGroupMembers(db: ReadableDb): Array<{ groupCode: string; client: string }> {
  return db.prepare('SELECT group_code AS groupCode, client FROM global_group_members ORDER BY group_code, position').all() as Array<{
    groupCode: string
    client: string
  }>
}

export function deleteSubsystem(db: WritableDb, id: number): void {
  db.prepare('DELETE FROM subsystems WHERE id = ?').run(id)
}

export function deleteMember(db: WritableDb, id: number): void {
  db.prepare('DELETE FROM subsystems WHERE member_id = ?').run(id)
  db.prepare('DELETE FROM members WHERE id = ?').run(id)
}

export function updateServerAddress(db: WritableDb, serverId: number, address: string): void {
  db.prepare('UPDATE security_servers SET address = ? WHERE id = ?').run(address, serverId)
}

/** Deletes a security server; its auth-cert hashes and client registrations go with it (ON DELETE CASCADE). */
export function deleteSecurityServer(db: WritableDb, serverId: number): void {
  db.prepare('DELETE FROM security_servers WHERE id = ?').run(serverId)
}

export function deleteAuthCertHash(db: WritableDb, serverId: number, hash: string): boolean {
  return db.prepare('DELETE FROM server_auth_certs WHERE server_id = ? AND cert_hash = ?').run(serverId, hash).changes > 0
}

export function deleteServerClient(db: WritableDb, serverId: number, memberId: number, subsystemId: number | null): boolean {
  return db.prepare('DELETE FROM server_clients WHERE server_id = ? AND member_id = ? AND subsystem_id IS ?').run(serverId, memberId, subsystemId).changes > 0
}

/** Deletes a global group; its member list goes with it (ON DELETE CASCADE). */
export function deleteGlobalGroup(db: WritableDb, groupCode: string): void {
  db.prepare('DELETE FROM global_groups WHERE group_code = ?').run(groupCode)
}

export function deleteGroupMember(db: WritableDb, groupCode: string, client: string): boolean {
  return db.prepare('DELETE FROM global_group_members WHERE group_code = ? AND client = ?').run(groupCode, client).changes > 0
}

/** Removes `client` (an encoded identifier) from every global group. */
export function deleteGroupMemberships(db: WritableDb, client: string): void {
  db.prepare('DELETE FROM global_group_members WHERE client = ?').run(client)
}

/** Subsystem names (migration 0004) by subsystem row id, for those that have one. */
export function listSubsystemNames(db: ReadableDb): Map<number, string> {
  const rows = db.prepare('SELECT id, subsystem_name AS name FROM subsystems WHERE subsystem_name IS NOT NULL').all() as Array<{ id: number; name: string }>
  return new Map(rows.map((r) => [r.id, r.name]))
}

export function updateSubsystemName(db: WritableDb, id: number, name: string): void {
  db.prepare('UPDATE subsystems SET subsystem_name = ? WHERE id = ?').run(name, id)
}

/** Servers in maintenance mode (migration 0004) by row id, with their optional message. */
export function listMaintenanceModes(db: ReadableDb): Map<number, string | null> {
  const rows = db.prepare('SELECT id, maintenance_message AS message FROM security_servers WHERE maintenance_mode = 1').all() as Array<{ id: number; message: string | null }>
  return new Map(rows.map((r) => [r.id, r.message]))
}

export function updateMaintenanceMode(db: WritableDb, serverId: number, enabled: boolean, message: string | null): void {
  db.prepare('UPDATE security_servers SET maintenance_mode = ?, maintenance_message = ? WHERE id = ?').run(enabled ? 1 : 0, enabled ? message : null, serverId)
}
