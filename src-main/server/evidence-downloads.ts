import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import * as yazl from 'yazl'
import {
  clientId as makeClientId, decodeIdentifier, describeIdentifier, encodeIdentifier, serviceProvider, type ClientId, type ServiceId,
} from '@shared/domain/identifiers'
import { currentGenerationDir } from '../global-conf'
import { findRecordsByQueryId } from '../message-log'
import { clientError, SecurityServerError, toSecurityServerError } from '../platform'
import { checkIsAuthentication, type EvidenceCaller, type EvidenceDownload, type EvidenceDownloads, type ServerConfView } from '../proxy'
import type { SecurityServerCore } from './security-server-core'

/**
 * The client proxy's evidence downloads (xroad-protocols.md §6.3, X-Road's `AsicContainerClientRequestProcessor`):
 * `GET /asic?queryId=…&xRoadInstance=…&memberClass=…&memberCode=…[&subsystemCode=…][&requestOnly|&responseOnly]
 * [&unique][&force]` — the ASiC-E containers of the query id's logged messages of a client of this server, given
 * only to that client's information system connected as its connection type asks (ug-ss §9.4; X-Road answers 401
 * otherwise) — and `GET /verificationconf`, the shared parameters an offline verifier (`gatehouse asic verify`) needs,
 * public configuration that X-Road serves to any caller of the client proxy.
 */
export const ASIC_MIME_TYPE = 'application/vnd.etsi.asic-e+zip'

export function createEvidenceDownloads(core: SecurityServerCore, serverConf: ServerConfView): EvidenceDownloads {
  return {
    asic: (params, caller) => asicDownload(core, serverConf, params, caller),
    verificationConf: async () => verificationConfDownload(core.layout.globalConfDir),
  }
}

function flag(params: URLSearchParams, name: string): boolean {
  return params.has(name) && params.get(name) !== 'false'
}

/** Parameter faults are X-Road's `bad_request` (`AsicContainerClientRequestProcessor`), answered 400. */
function requiredParam(params: URLSearchParams, name: string): string {
  const value = params.get(name)
  if (value === null || value.trim() === '') throw clientError('bad_request', `Missing parameter "${name}"`, { detail: name })
  return value
}

function clientParam(params: URLSearchParams): ClientId {
  const parts = ['xRoadInstance', 'memberClass', 'memberCode'].map((n) => requiredParam(params, n)) as [string, string, string]
  const subsystem = params.get('subsystemCode')
  try {
    return makeClientId(...parts, subsystem === null || subsystem === '' ? undefined : subsystem)
  } catch (error) {
    throw clientError('invalid_client_identifier', `Invalid client identifier: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * X-Road's `verifyClientAuthentication` for evidence: the client must be one of this server's (401 otherwise), and the
 * caller must have connected as the client's connection type asks (NOSSL: any; SSLNOAUTH: HTTPS; SSLAUTH: HTTPS with
 * one of the client's IS certificates).
 */
function authenticate(client: ClientId, caller: EvidenceCaller, serverConf: ServerConfView): void {
  if (serverConf.isAuthentication(client) === undefined) {
    throw clientError('unauthorized', `Client ${describeIdentifier(client)} is not a client of this security server`)
  }
  checkIsAuthentication(client, caller.tls, serverConf)
}

async function asicDownload(core: SecurityServerCore, serverConf: ServerConfView, params: URLSearchParams, caller: EvidenceCaller): Promise<EvidenceDownload> {
  // AsicContainerClientRequestProcessor's order: the client's parameters, the caller's authentication, then the query.
  const client = clientParam(params)
  authenticate(client, caller, serverConf)
  const queryId = requiredParam(params, 'queryId')
  const requestOnly = flag(params, 'requestOnly')
  const responseOnly = flag(params, 'responseOnly')
  const unique = flag(params, 'unique')
  if (requestOnly && responseOnly) throw clientError('bad_request', 'Parameters "requestOnly" and "responseOnly" exclude each other')
  if (unique && !requestOnly && !responseOnly) {
    throw clientError('bad_request', 'Parameter "unique" needs "requestOnly" or "responseOnly"')
  }
  const encoded = encodeIdentifier(client)
  // The client's records: those it sent (consumer side) or whose service it provides (provider side).
  const ownIds = new Set(
    findRecordsByQueryId(core.databases.messageLog, queryId)
      .filter((r) => r.client === encoded || encodeIdentifier(serviceProvider(decodeIdentifier(r.service) as ServiceId)) === encoded)
      .filter((r) => !(requestOnly && r.response) && !(responseOnly && !r.response))
      .map((r) => r.id),
  )
  if (ownIds.size === 0) {
    throw clientError('not_found', `No logged message of ${describeIdentifier(client)} has query id '${queryId}'`)
  }
  if (unique && ownIds.size > 1) throw clientError('bad_request', `${ownIds.size} messages have query id '${queryId}'; "unique" needs one`)
  let containers = await listContainers(core, queryId, requestOnly, responseOnly, ownIds)
  if (containers.some((c) => !c.timestamped)) {
    // `force`: time-stamp the waiting records now; otherwise a container without its time-stamp is refused.
    if (!flag(params, 'force')) {
      throw new SecurityServerError('timestamping_failed', `A message with query id '${queryId}' is not time-stamped yet; add "force" to time-stamp it now`)
    }
    const outcome = await core.messageLog.timestampNow()
    if (outcome.error !== undefined) {
      throw new SecurityServerError('timestamping_failed', 'Time-stamping the requested messages failed', { cause: outcome.error })
    }
    containers = await listContainers(core, queryId, requestOnly, responseOnly, ownIds)
    if (containers.some((c) => !c.timestamped)) throw new SecurityServerError('timestamping_failed', 'The requested messages could not be time-stamped')
  }
  if (unique) {
    const only = containers[0] as (typeof containers)[number]
    return { contentType: ASIC_MIME_TYPE, fileName: only.fileName, body: Buffer.from(only.container) }
  }
  const body = await zipOf(containers.map((c) => [c.fileName, Buffer.from(c.container)]))
  return { contentType: 'application/zip', fileName: `${safeFileName(queryId)}.zip`, body }
}

async function listContainers(core: SecurityServerCore, queryId: string, requestOnly: boolean, responseOnly: boolean, ids: ReadonlySet<number>) {
  try {
    const all = await core.messageLog.exportEvidence(queryId, { requestOnly, responseOnly })
    return all.filter((c) => ids.has(c.recordId))
  } catch (error) {
    throw toSecurityServerError(error)
  }
}

/**
 * The verification configuration: `verificationconf/instance-identifier` and `verificationconf/{INSTANCE}/shared-params.xml`
 * (+ `.metadata`) for every instance in the stored global configuration (X-Road's `VerificationConfWriter`).
 */
async function verificationConfDownload(globalConfDir: string): Promise<EvidenceDownload> {
  const root = currentGenerationDir(globalConfDir) ?? globalConfDir
  const entries: Array<[string, Buffer]> = []
  const identifierFile = join(root, 'instance-identifier')
  if (existsSync(identifierFile)) entries.push(['verificationconf/instance-identifier', readFileSync(identifierFile)])
  const instances = existsSync(root) ? readdirSync(root).filter((name) => statSync(join(root, name)).isDirectory()).sort() : []
  for (const instance of instances) {
    for (const name of ['shared-params.xml', 'shared-params.xml.metadata']) {
      const file = join(root, instance, name)
      if (existsSync(file)) entries.push([`verificationconf/${instance}/${name}`, readFileSync(file)])
    }
  }
  if (!entries.some(([name]) => name.endsWith('/shared-params.xml'))) {
    throw new SecurityServerError('not_found', 'No global configuration has been downloaded yet')
  }
  return { contentType: 'application/zip', fileName: 'verificationconf.zip', body: await zipOf(entries) }
}

function safeFileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'asic'
}

function zipOf(entries: ReadonlyArray<readonly [string, Buffer]>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, data] of entries) zip.addBuffer(data, name, { compress: true })
  zip.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('error', reject)
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
  })
}
