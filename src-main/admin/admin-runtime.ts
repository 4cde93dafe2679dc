import type { AdminApi } from '@shared/admin-api/admin-api'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { appendAuditEntry } from '../audit-log'
import type { Clock, Logger, WritableDb } from '../platform'
import { createAdminAccounts, type AccountOptions, type AdminAccounts } from './admin-accounts'
import { createApiKeysAdmin } from './api-keys-admin'
import { createAuditAdmin } from './audit-admin'
import type { AdminCaller } from './caller-context'
import { dispatchAdminCall, type AuditRecord } from './dispatch'
import { createSystemAdmin, type SystemAdminDeps } from './system-admin'
import { createUsersAdmin } from './users-admin'
import { createAccessRightsAdmin, createClientsAdmin, createLocalGroupsAdmin, createServicesAdmin } from './clients-admin'
import { createDiagnosticsAdmin } from './diagnostics-admin'
import { domainsOf, type AdminDomains } from './domain-support'
import { createGlobalConfAdmin } from './global-conf-admin'
import { createInitializationAdmin } from './initialization-admin'
import { createCertificatesAdmin, createCsrsAdmin, createKeysAdmin, createTokensAdmin } from './keys-admin'
import { createMessageLogAdmin } from './message-log-admin'
import { createCeremonyAdmin } from './ceremony-admin'
import { createLabAdmin } from './lab-admin'
import { createSettingsAdmin, type BootstrapFile } from './settings-admin'

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
}

export type { AdminDomains } from './domain-support'

export interface AdminDeps {
  system: SystemAdminDeps
  /** Optional so admin tests can run without the security-server domains. */
  domains?: AdminDomains
  /** serverconf.sqlite (opened lazily by the composition root). */
  serverConfDb: () => WritableDb
  clock: Clock
  logger: Logger
  accounts?: AccountOptions
  /** The server proxy port (config external.serverProxyPort) a lab created here registers; DATA_DIR/gatehouse.json otherwise. */
  serverProxyPort?: number | null
  /** Told after every successful change made through `call` (event `domain.method`). */
  onChanged?: (event: string) => void
  /** The bootstrap file the settings group edits; absent: not editable here. */
  bootstrap?: BootstrapFile
}

export function createAdminRuntime(deps: AdminDeps): AdminRuntime {
  const { serverConfDb: db, clock, logger } = deps
  const accounts = createAdminAccounts(db, clock, deps.accounts)
  const audit = (record: AuditRecord): void => {
    try {
      appendAuditEntry(db(), { at: clock.now().toISOString(), actor: record.actor, event: record.event, outcome: record.outcome, data: record.data ?? {}, errorCode: record.errorCode })
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
  const api: AdminApi = {
    system: createSystemAdmin(deps.system),
    users: createUsersAdmin({ db, accounts }),
    apiKeys: createApiKeysAdmin({ db, clock }),
    audit: createAuditAdmin({ db }),
    initialization,
    tokens: createTokensAdmin(domains),
    keys: createKeysAdmin(domains),
    csrs: createCsrsAdmin(domains, clock),
    certificates: createCertificatesAdmin(domains, clock),
    clients: createClientsAdmin(domains),
    services: createServicesAdmin(domains),
    accessRights: createAccessRightsAdmin(domains),
    localGroups: createLocalGroupsAdmin(domains),
    globalConf,
    diagnostics: createDiagnosticsAdmin(domains, globalConf, clock),
    settings: createSettingsAdmin({ db, clock, ...(deps.bootstrap === undefined ? {} : { bootstrap: deps.bootstrap }) }),
    messageLog: createMessageLogAdmin({ domains, clock, audit }),
    ceremony,
    lab: { status: () => lab.status(), create: (input) => lab.create(input), confirm: (input) => lab.confirm(input) },
  }
  const service: AdminService = {
    ...api,
    call: (caller, domain, method, args) => dispatchAdminCall(api, { caller, audit, logger, ...(deps.onChanged === undefined ? {} : { onChanged: deps.onChanged }) }, domain, method, args),
  }
  return {
    service,
    accounts,
    audit,
    close: async () => {
      await ceremony.close()
      await lab.close()
    },
  }
}
