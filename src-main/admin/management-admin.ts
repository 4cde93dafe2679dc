import { z } from 'zod'
import { encodeIdentifier } from '@shared/domain/identifiers'
import type { ManagementApi, ManagementRequestDto, ManagementSendResultDto } from '@shared/admin-api/management-api'
import {
  createManagementRequests, type ManagementOutcome, type ManagementRequestRecord, type ManagementRequests,
} from '../management'
import type { Clock, SqlWriter } from '../platform'
import { validate } from './admin-validation'
import { parseClientRef, parseMemberRef, type DomainsOf } from './domain-support'

/**
 * The management group: pr-mserv requests sent through `src-main/management` (X-Road's ClientService,
 * TokenCertificateService, SecurityServerAddressService, MaintenanceModeService). A refusal reaches the caller with
 * the central server's own fault text and changes nothing; `dryRun` answers with the exact message.
 */
export interface ManagementAdminDeps {
  readonly domains: DomainsOf
  readonly serverConfDb: () => SqlWriter
  readonly clock: Clock
  /** URL of this server's own client proxy while it listens. */
  readonly clientProxyUrl?: () => string | undefined
}

const dryRun = { dryRun: z.boolean().optional() }
const client = z.string().min(1).max(1200)

export function createManagementAdmin(deps: ManagementAdminDeps): ManagementApi {
  const requests = (): ManagementRequests => {
    const d = deps.domains()
    return createManagementRequests({
      db: deps.serverConfDb(), serverConf: d.serverConf, signer: d.signer, clock: deps.clock,
      globalConf: () => d.globalConf.current(), serverId: () => d.serverConf.identity()?.serverId,
      clientProxyUrl: () => deps.clientProxyUrl?.(),
    })
  }
  return {
    async registerClient(input) {
      const v = validate(z.object({ client, subsystemName: z.string().trim().min(1).max(255).optional(), ...dryRun }).strict(), input, 'client')
      return result(await requests().registerClient(parseClientRef(v.client), { ...options(v), ...(v.subsystemName === undefined ? {} : { subsystemName: v.subsystemName }) }))
    },
    async unregisterClient(input) {
      const v = validate(z.object({ client, ...dryRun }).strict(), input, 'client')
      return result(await requests().unregisterClient(parseClientRef(v.client), options(v)))
    },
    async disableClient(input) {
      const v = validate(z.object({ client, ...dryRun }).strict(), input, 'client')
      return result(await requests().disableClient(parseClientRef(v.client), options(v)))
    },
    async enableClient(input) {
      const v = validate(z.object({ client, ...dryRun }).strict(), input, 'client')
      return result(await requests().enableClient(parseClientRef(v.client), options(v)))
    },
    async renameClient(input) {
      const v = validate(z.object({ client, subsystemName: z.string().trim().min(1, 'give the new name').max(255), ...dryRun }).strict(), input, 'subsystemName')
      return result(await requests().renameClient(parseClientRef(v.client), v.subsystemName, options(v)))
    },
    async changeOwner(input) {
      const v = validate(z.object({ member: client, ...dryRun }).strict(), input, 'member')
      return result(await requests().changeOwner(parseMemberRef(v.member), options(v)))
    },
    async changeAddress(input) {
      const v = validate(z.object({ address: z.string().trim().min(1, 'give the address').max(255), ...dryRun }).strict(), input, 'address')
      return result(await requests().changeAddress(v.address, options(v)))
    },
    async enableMaintenanceMode(input) {
      const v = validate(z.object({ message: z.string().max(1000).optional(), ...dryRun }).strict(), input, 'message')
      return result(await requests().enableMaintenanceMode(v.message, options(v)))
    },
    async disableMaintenanceMode(input) {
      const v = validate(z.object({ ...dryRun }).strict(), input ?? {}, 'dryRun')
      return result(await requests().disableMaintenanceMode(options(v)))
    },
    async registerAuthCertificate(input) {
      const v = validate(z.object({ certificate: z.string().min(1).max(200), address: z.string().trim().min(1, 'give the server address').max(255), ...dryRun }).strict(), input, 'certificate')
      return result(await requests().registerAuthCertificate(v.certificate, v.address, options(v)))
    },
    async unregisterAuthCertificate(input) {
      const v = validate(z.object({ certificate: z.string().min(1).max(200), ...dryRun }).strict(), input, 'certificate')
      return result(await requests().unregisterAuthCertificate(v.certificate, options(v)))
    },
    async requests(input) {
      const v = validate(z.object({ subject: z.string().max(1200).optional(), openOnly: z.boolean().optional() }).strict(), input ?? {}, 'subject')
      return requests().list({ ...(v.subject === undefined ? {} : { subject: v.subject }), ...(v.openOnly === undefined ? {} : { openOnly: v.openOnly }) }).map(requestDto)
    },
    async serviceProvider() {
      const provider = deps.domains().globalConf.current()?.managementService?.managementRequestServiceProviderId
      return { providerId: provider === undefined ? null : encodeIdentifier(provider) }
    },
  }
}

function options(v: { dryRun?: boolean | undefined }): { dryRun?: boolean } {
  return v.dryRun === undefined ? {} : { dryRun: v.dryRun }
}

export function requestDto(r: ManagementRequestRecord): ManagementRequestDto {
  return {
    id: r.id, service: r.service, subject: r.subject, detail: r.detail ?? null, messageId: r.messageId, requestId: r.requestId ?? null,
    sentAt: r.sentAt, sentBy: r.sentBy ?? null, status: r.status, settledAt: r.settledAt ?? null,
  }
}

export function managementResultDto(outcome: ManagementOutcome): ManagementSendResultDto {
  return result(outcome)
}

function result(outcome: ManagementOutcome): ManagementSendResultDto {
  const p = outcome.prepared
  return {
    dryRun: outcome.dryRun, service: p.message.body.service, via: p.via, target: p.target, messageId: p.message.header.id,
    requestId: outcome.dryRun ? null : outcome.requestId ?? null,
    request: outcome.dryRun ? null : requestDto(outcome.record),
    message: outcome.dryRun ? { contentType: p.encoded.contentType, base64: p.encoded.body.toString('base64') } : null,
  }
}
