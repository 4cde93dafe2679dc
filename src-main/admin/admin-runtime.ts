import { adminMethodPolicy } from '@shared/admin-api/admin-api-methods'
import type { AdminApi, LabApi } from '@shared/admin-api/admin-api'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { appendAuditEntry } from '../audit-log'
import { clientError, toSecurityServerError, type Clock, type Logger, type SqlWriter, type WritableDb } from '../platform'
import { createAdminAccounts, type AccountOptions, type AdminAccounts } from './admin-accounts'
import { createApiKeysAdmin } from './api-keys-admin'
import { createAuditAdmin } from './audit-admin'
import type { AdminCaller } from './caller-context'
import { dispatchAdminCall, type AuditRecord } from './dispatch'
import { createSystemAdmin, type SystemAdminDeps } from './system-admin'
import { createUsersAdmin } from './users-admin'
import { createAccessRightsAdmin, createClientsAdmin, createLocalGroupsAdmin, createServicesAdmin } from './clients-admin'
import { createServiceDescriptionsAdmin } from './service-descriptions-admin'
import { createDiagnosticsAdmin, type DiagnosticsHooks } from './diagnostics-admin'
import { domainsOf, pathOf, type AdminDomains } from './domain-support'
import { createGlobalConfAdmin } from './global-conf-admin'
import { createInitializationAdmin } from './initialization-admin'
import { createCertificatesAdmin, createCsrsAdmin, createKeysAdmin, createTokensAdmin } from './keys-admin'
import { createMessageLogAdmin, openEvidenceZipDownload, type EvidenceZipDownload } from './message-log-admin'
import { createCeremonyAdmin } from './ceremony-admin'
import { createLabAdmin, type LabAdmin } from './lab-admin'
import { createSettingsAdmin, type BootstrapFile } from './settings-admin'
import { createOperationsAdmin } from './operations-admin'
import { createAlertsAdmin } from './alerts-admin'
import { createManagementAdmin } from './management-admin'
import type { AlertCenter } from '../alerts'

/** The admin API plus `call`, the checked entry both transports use (allow-list, roles, audit log). */
export interface AdminService extends AdminApi {
  call(caller: AdminCaller, domain: string, method: string, args: unknown[]): Promise<IpcResult<unknown>>
}

export interface AdminRuntime {
  service: AdminService
  accounts: AdminAccounts
  /** Appends to the audit log; a failure to write is logged, never hidden. */
  audit(record: AuditRecord): void
  /** Stops what the admin groups run in the background (the lab's services); the composition root calls it on stop. */
  close(): Promise<void>
  /**
   * Downloads the HTTPS transport streams instead of answering JSON: the evidence ZIP of `messageLog.exportZip`, with
   * that method's roles from the allow-list and its audit entries. @throws forbidden, validation_failed, not_found
   */
  downloads: { evidenceZip(caller: AdminCaller, input: unknown): EvidenceZipDownload }
  /** This server's data directory (the key of its browser session cookie). */
  readonly dataDir: string
  /** This server's id (`INSTANCE/CLASS/MEMBER/SERVER`) once initialized; public, shown on the login page. */
  serverId(): string | null
}

export type { AdminDomains } from './domain-support'

export interface AdminDeps {
  system: SystemAdminDeps
  /** Optional so admin tests can run without the security-server domains. */
  domains?: AdminDomains
  /** This node's serverconf.sqlite (opened lazily by the composition root): admin accounts, API keys, audit log. */
  serverConfDb: () => WritableDb
  /**
   * The server configuration (system parameters, management requests): the PostgreSQL database the nodes share in
   * cluster mode; `serverConfDb` when absent.
   */
  configDb?: () => SqlWriter
  clock: Clock
  logger: Logger
  accounts?: AccountOptions
  /** The server proxy port (config external.serverProxyPort) a lab created here registers; DATA_DIR/gatehouse.json otherwise. */
  serverProxyPort?: number | null
  /** Told after every successful change made through `call` (event `domain.method`). */
  onChanged?: (event: string) => void
  /** The bootstrap file the settings group edits; absent: not editable here. */
  bootstrap?: BootstrapFile
  /** The server's alerts (the composition root's); absent: the alerts group answers `unsupported`. */
  alerts?: AlertCenter
  /** The running server's probes and health check; absent: the diagnostics group only reports. */
  diagnostics?: DiagnosticsHooks
  /** URL of the own client proxy while it listens: management requests other than authCertReg go through it. */
  clientProxyUrl?: () => string | undefined
}

/** The lab group's API methods without `close`, which only the composition root may call. */
function labApiOf(lab: LabAdmin): LabApi {
  const { close: _close, ...api } = lab
  return api
}

export function createAdminRuntime(deps: AdminDeps): AdminRuntime {
  const { serverConfDb: db, clock, logger } = deps
  const accounts = createAdminAccounts(db, clock, deps.accounts)
  const audit = (record: AuditRecord): void => {
    try {
      appendAuditEntry(db(), {
        at: clock.now().toISOString(), actor: record.actor, event: record.event, outcome: record.outcome, object: record.object ?? null,
        data: record.data ?? {}, errorCode: record.errorCode,
      })
    } catch (error) {
      logger.error({ err: error, event: record.event }, 'cannot write the audit log')
    }
  }
  const domains = domainsOf(deps.domains)
  const globalConf = createGlobalConfAdmin(domains, clock)
  const initialization = createInitializationAdmin(domains, logger)
  const lab = createLabAdmin({
    dataDir: deps.system.dataDir, domains, initialization, clock, logger,
    ...(deps.serverProxyPort === undefined ? {} : { serverProxyPort: deps.serverProxyPort }),
  })
  const ceremony = createCeremonyAdmin({ dataDir: deps.system.dataDir, clock, logger })
  const system = createSystemAdmin({ ...deps.system, audit })
  const configDb = deps.configDb ?? db
  const settings = createSettingsAdmin({ db: configDb, clock, ...(deps.bootstrap === undefined ? {} : { bootstrap: deps.bootstrap }) })
  const management = createManagementAdmin({
    domains, serverConfDb: configDb, clock, ...(deps.clientProxyUrl === undefined ? {} : { clientProxyUrl: deps.clientProxyUrl }),
  })
  const api: AdminApi = {
    system,
    users: createUsersAdmin({ db, accounts }),
    apiKeys: createApiKeysAdmin({ db, clock }),
    audit: createAuditAdmin({ db, clock, audit }),
    initialization,
    tokens: createTokensAdmin(domains),
    keys: createKeysAdmin(domains),
    csrs: createCsrsAdmin(domains, clock),
    certificates: createCertificatesAdmin(domains, clock),
    clients: createClientsAdmin({ domains, management, clock }),
    services: createServicesAdmin(domains),
    serviceDescriptions: createServiceDescriptionsAdmin(domains),
    accessRights: createAccessRightsAdmin(domains),
    localGroups: createLocalGroupsAdmin(domains),
    globalConf,
    diagnostics: createDiagnosticsAdmin({ domains, globalConf, clock, system, settings, ...(deps.diagnostics === undefined ? {} : { hooks: deps.diagnostics }) }),
    settings,
    messageLog: createMessageLogAdmin({ domains, clock, audit }),
    ceremony,
    lab: labApiOf(lab),
    operations: createOperationsAdmin(domains),
    alerts: createAlertsAdmin(deps.alerts),
    management,
  }
  const service: AdminService = {
    ...api,
    call: (caller, domain, method, args) => dispatchAdminCall(api, {
      caller, audit, logger, secondary: () => deps.system.cluster?.nodeType().nodeType === 'SECONDARY',
      ...(deps.onChanged === undefined ? {} : { onChanged: deps.onChanged }),
    }, domain, method, args),
  }
  const evidenceZip = (caller: AdminCaller, input: unknown): EvidenceZipDownload => {
    const event = 'messageLog.exportZip'
    try {
      const policy = adminMethodPolicy('messageLog', 'exportZip')
      if (policy === undefined || !policy.roles.some((role) => caller.roles.includes(role))) {
        throw clientError('forbidden', `Your roles do not allow ${event}`, { detail: policy?.roles.join(',') })
      }
      const download = openEvidenceZipDownload({ domains, clock, audit }, caller, input)
      download.manifest.then(
        () => audit({ actor: caller.actor, event, outcome: 'success', errorCode: null }),
        (error: unknown) => audit({ actor: caller.actor, event, outcome: 'failure', errorCode: toSecurityServerError(error).faultCode }),
      )
      return download
    } catch (error) {
      audit({ actor: caller.actor, event, outcome: 'failure', errorCode: toSecurityServerError(error).faultCode })
      throw error
    }
  }
  return {
    service,
    accounts,
    audit,
    downloads: { evidenceZip },
    dataDir: deps.system.dataDir,
    serverId: () => {
      const identity = deps.domains?.serverConf.identity()
      return identity === undefined ? null : pathOf(identity.serverId)
    },
    close: async () => {
      await ceremony.close()
      await lab.close()
    },
  }
}
