import type { AdminApi } from './admin-api'
import { ANY_ROLE, type AdminRole } from './admin-roles'

/**
 * Runtime allow-list of admin methods with the roles that may call each: the preload exposes exactly these,
 * the transports route only these, and `dispatchAdminCall` checks the caller's roles against them.
 * `audit: true` marks actions recorded in the audit log (every change; reads are not logged).
 */
export interface AdminMethodPolicy {
  readonly roles: readonly AdminRole[]
  readonly audit: boolean
  /**
   * A change of this node's own state (its token login, its admin accounts, alerts, message log, maintenance mode), not
   * of the server configuration the cluster shares: allowed on a secondary node, where every other change is refused
   * (`secondary_node_read_only`), as X-Road's secondaries refuse configuration changes.
   */
  readonly perNode?: true
}

type MethodPolicies<T> = { readonly [D in keyof T]: { readonly [M in keyof T[D] & string]: AdminMethodPolicy } }

const read = (roles: readonly AdminRole[] = ANY_ROLE): AdminMethodPolicy => ({ roles, audit: false })
const change = (...roles: AdminRole[]): AdminMethodPolicy => ({ roles, audit: true })
const nodeChange = (...roles: AdminRole[]): AdminMethodPolicy => ({ roles, audit: true, perNode: true })

export const ADMIN_API_METHODS = {
  system: {
    status: read(),
    // X-Road GET /system/node-type.
    nodeType: read(),
    clusterNodes: read(),
    // Audited and not perNode: the registry is shared, so only the primary forgets a node.
    forgetClusterNode: change('system-administrator'),
    backup: change('system-administrator'),
    backups: read(['system-administrator']),
    // Recorded in the audit log by the implementation (at the first piece): who took a copy of the server.
    downloadBackup: read(['system-administrator']),
    deleteBackup: change('system-administrator'),
    setBackupSchedule: change('system-administrator'),
    // Pieces of a file to restore, kept aside until `restore` (which is the audited change).
    uploadBackup: read(['system-administrator']),
    restore: change('system-administrator'),
    restart: nodeChange('system-administrator'),
  },
  users: {
    list: read(['system-administrator', 'security-officer']),
    add: nodeChange('system-administrator'),
    setRoles: nodeChange('system-administrator'),
    setPassword: nodeChange('system-administrator'),
    // Every signed-in user, for their own account only (checked in the implementation).
    changeOwnPassword: nodeChange(...ANY_ROLE),
    remove: nodeChange('system-administrator'),
  },
  apiKeys: {
    list: read(['system-administrator']),
    create: nodeChange('system-administrator'),
    setRoles: nodeChange('system-administrator'),
    revoke: nodeChange('system-administrator'),
  },
  audit: {
    search: read(['system-administrator', 'security-officer', 'observer']),
    verify: read(['system-administrator', 'security-officer', 'observer']),
    // A read, recorded in the audit log by the implementation (who took a copy of the trail).
    export: read(['system-administrator', 'security-officer']),
  },
  initialization: {
    status: read(),
    importAnchor: read(['system-administrator']),
    initialize: change('system-administrator'),
  },
  tokens: {
    list: read(),
    login: nodeChange('security-officer', 'key-custodian'),
    logout: nodeChange('security-officer', 'key-custodian'),
    changePin: nodeChange('security-officer', 'key-custodian'),
    hsmModules: read(['security-officer', 'key-custodian', 'system-administrator']),
    addHsm: change('security-officer', 'key-custodian'),
  },
  keys: {
    list: read(),
    generate: change('security-officer', 'key-custodian'),
    delete: change('security-officer', 'key-custodian'),
  },
  csrs: {
    authorities: read(),
    generate: change('security-officer', 'key-custodian', 'registration-officer'),
    list: read(),
    delete: change('security-officer', 'key-custodian', 'registration-officer'),
  },
  certificates: {
    list: read(),
    import: change('security-officer', 'key-custodian', 'registration-officer'),
    activate: change('security-officer', 'key-custodian'),
    disable: change('security-officer', 'key-custodian'),
    delete: change('security-officer', 'key-custodian'),
  },
  clients: {
    list: read(),
    add: change('registration-officer'),
    setState: change('registration-officer'),
    register: change('registration-officer'),
    unregister: change('registration-officer'),
    setEnabled: change('registration-officer'),
    delete: change('registration-officer'),
    // X-Road permissions.yml: edit_client_internal_connection_type, add/delete_client_internal_cert.
    setIsAuthentication: change('service-administrator', 'registration-officer'),
    isCertificates: read(),
    addIsCertificate: change('service-administrator', 'registration-officer'),
    removeIsCertificate: change('service-administrator', 'registration-officer'),
    // export_internal_tls_cert: every role but the observer.
    internalTlsCertificate: read(['security-officer', 'system-administrator', 'service-administrator', 'registration-officer']),
  },
  services: {
    list: read(),
    add: change('service-administrator'),
    update: change('service-administrator'),
    setEnabled: change('service-administrator'),
    addEndpoint: change('service-administrator'),
    delete: change('service-administrator'),
    updateEndpoint: change('service-administrator'),
    deleteEndpoint: change('service-administrator'),
  },
  // X-Road's ADD_WSDL, REFRESH_WSDL, ADD_OPENAPI3, EDIT_REST…, ENABLE_DISABLE_WSDL, DELETE_WSDL: the service administrator's.
  serviceDescriptions: {
    list: read(),
    get: read(),
    addWsdl: change('service-administrator'),
    addOpenApi: change('service-administrator'),
    addRest: change('service-administrator'),
    refresh: change('service-administrator'),
    update: change('service-administrator'),
    setEnabled: change('service-administrator'),
    delete: change('service-administrator'),
  },
  accessRights: {
    list: read(),
    grant: change('service-administrator'),
    revoke: change('service-administrator'),
    matrix: read(),
  },
  localGroups: {
    list: read(),
    add: change('service-administrator'),
    addMember: change('service-administrator'),
    removeMember: change('service-administrator'),
    update: change('service-administrator'),
    delete: change('service-administrator'),
  },
  globalConf: {
    status: read(),
    members: read(),
    servers: read(),
    globalGroups: read(),
    // Each node downloads global configuration into its own data directory (ig-xlb: every node runs its confclient).
    refresh: nodeChange('system-administrator', 'security-officer'),
    anchor: read(),
    // X-Road: anchor upload and time-stamping services are the system administrator's (ug-ss §10).
    previewAnchor: read(['system-administrator']),
    replaceAnchor: change('system-administrator'),
    timestampingServices: read(),
    selectTimestampingServices: change('system-administrator'),
  },
  diagnostics: {
    run: read(),
    probe: read(),
    probeTargets: read(),
    // Recent logs leave the server in it: recorded in the audit log, like every export.
    bundle: nodeChange(...ANY_ROLE),
    health: read(),
    // X-Road: the proxy admin port's `/maintenance`, a system administrator's operation.
    setMaintenanceMode: nodeChange('system-administrator'),
  },
  settings: {
    list: read(),
    set: change('system-administrator'),
    reset: change('system-administrator'),
    bootstrap: read(),
    // The bootstrap file is each node's own (DATA_DIR/gatehouse.json).
    setBootstrap: nodeChange('system-administrator'),
  },
  messageLog: {
    search: read(),
    exchanges: read(),
    // Metadata for every role; the body only for these two (checked and audit-logged in the implementation).
    record: read(),
    // Containers carry the logged bodies: the same two roles, and every export is audit-logged.
    export: nodeChange('security-officer', 'system-administrator'),
    exportZip: nodeChange('security-officer', 'system-administrator'),
    verify: read(),
    status: read(),
    forecast: read(),
    archiveNow: nodeChange('system-administrator'),
    timestampNow: nodeChange('system-administrator', 'security-officer'),
    evidence: read(),
    // A full check reads every record: not for every role (each run is audit-logged).
    checkEvidence: nodeChange('system-administrator', 'security-officer'),
    // Accepting a loss of evidence is the security officer's or the system administrator's call, with its reason.
    acknowledgeGap: nodeChange('security-officer', 'system-administrator'),
  },
  ceremony: {
    list: read(['key-custodian', 'security-officer']),
    create: change('key-custodian', 'security-officer'),
    addParticipant: change('key-custodian', 'security-officer'),
    checkOffline: change('key-custodian', 'security-officer'),
    identifyToken: change('key-custodian', 'security-officer'),
    login: change('key-custodian', 'security-officer'),
    generateKey: change('key-custodian', 'security-officer'),
    createCsr: change('key-custodian', 'security-officer'),
    importCertificate: change('key-custodian', 'security-officer'),
    seal: change('key-custodian', 'security-officer'),
    transcript: read(['key-custodian', 'security-officer']),
    // The printable report leaves the machine to be signed: every download is audit-logged, like evidence exports.
    report: nodeChange('key-custodian', 'security-officer'),
  },
  lab: {
    status: read(),
    create: change('system-administrator'),
    confirm: change('system-administrator'),
    // The lab's administration (the central server's side): every role reads, the system administrator changes.
    members: read(),
    servers: read(),
    certificates: read(),
    globalGroups: read(),
    trustServices: read(),
    anchor: read(),
    inspectCsr: read(),
    certificate: read(),
    addMember: change('system-administrator'),
    addSubsystem: change('system-administrator'),
    deleteSubsystem: change('system-administrator'),
    deleteMember: change('system-administrator'),
    registerServer: change('system-administrator'),
    setServerAddress: change('system-administrator'),
    deleteServer: change('system-administrator'),
    deleteAuthCertificate: change('system-administrator'),
    addServerClient: change('system-administrator'),
    removeServerClient: change('system-administrator'),
    signCsr: change('system-administrator'),
    revokeCertificate: change('system-administrator'),
    addGlobalGroup: change('system-administrator'),
    deleteGlobalGroup: change('system-administrator'),
    addGlobalGroupMember: change('system-administrator'),
    removeGlobalGroupMember: change('system-administrator'),
    setConfExpiry: change('system-administrator'),
    managementRequests: read(),
    approveManagementRequest: change('system-administrator'),
    declineManagementRequest: change('system-administrator'),
    setManagementAutoApproval: change('system-administrator'),
    serveManagementServices: change('system-administrator'),
  },
  operations: {
    summary: read(),
    failures: read(),
  },
  alerts: {
    list: read(),
    // Acknowledging is a change of record, not of configuration: every role that acts, not the read-only observer.
    acknowledge: nodeChange('security-officer', 'registration-officer', 'service-administrator', 'system-administrator', 'key-custodian'),
    settings: read(['system-administrator', 'security-officer']),
    setSettings: nodeChange('system-administrator'),
    testDelivery: nodeChange('system-administrator'),
  },
  // X-Road permissions.yml: send_client_reg_req, send_client_del_req, send_owner_change_req (registration officer);
  // send_auth_cert_reg_req, send_auth_cert_del_req (security officer); address change and maintenance mode (system
  // administrator).
  management: {
    registerClient: change('registration-officer'),
    unregisterClient: change('registration-officer'),
    disableClient: change('registration-officer'),
    enableClient: change('registration-officer'),
    renameClient: change('registration-officer'),
    changeOwner: change('registration-officer'),
    changeAddress: change('system-administrator'),
    enableMaintenanceMode: change('system-administrator'),
    disableMaintenanceMode: change('system-administrator'),
    registerAuthCertificate: change('security-officer'),
    unregisterAuthCertificate: change('security-officer'),
    requests: read(),
    serviceProvider: read(),
  },
} as const satisfies MethodPolicies<AdminApi>

export type AdminDomain = keyof typeof ADMIN_API_METHODS

/** Every `[domain, method]` pair of the allow-list. */
export function adminMethodList(): Array<[AdminDomain, string]> {
  return (Object.keys(ADMIN_API_METHODS) as AdminDomain[]).flatMap((domain) =>
    Object.keys(ADMIN_API_METHODS[domain]).map((method) => [domain, method] as [AdminDomain, string]),
  )
}

/** The policy of `domain.method`, or undefined when the allow-list does not name it. */
export function adminMethodPolicy(domain: string, method: string): AdminMethodPolicy | undefined {
  if (!Object.hasOwn(ADMIN_API_METHODS, domain)) return undefined
  const methods = ADMIN_API_METHODS[domain as AdminDomain] as Record<string, AdminMethodPolicy>
  return Object.hasOwn(methods, method) ? methods[method] : undefined
}

/** IPC channel / RPC name of a method, e.g. `system:status`. */
export function adminChannel(domain: string, method: string): string {
  return `${domain}:${method}`
}
