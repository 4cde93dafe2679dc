import { decodeIdentifier, encodeIdentifier, validateIdentifierPart, type ClientId } from '@shared/domain/identifiers'
import { clientError, SecurityServerError, type SqlWriter } from '../platform'
import type { AccessRight, ConfiguredService } from './server-conf'
import type { ClientRow } from './client-repository'
import {
  deleteServiceDescriptionRow, findServiceDescriptionRow, insertServiceDescription, listServiceDescriptionRows, updateServiceDescriptionSource,
  updateServiceDescriptionState, type ServiceDescriptionRow,
} from './service-description-repository'
import {
  deleteEndpointRow, deleteServiceRow, insertEndpoint, insertService, listEndpointRows, listServiceRows, listServiceRowsOfDescription,
  setEndpointGenerated, updateService, updateServiceCode, updateServiceTitle, type ServiceRow,
} from './service-repository'
import { BASE_ENDPOINT, DEFAULT_SERVICE_TIMEOUT_SECONDS, toService, validateEndpointPath, validateServiceUrl, } from './service-rules'
import { invalidServiceIdentifiers, invalidServiceUrls, type WsdlService } from './wsdl-parser'
import type { ParsedOpenApi } from './openapi-parser'

/**
 * Service descriptions of a client (X-Road `ServiceDescriptionService`, ug-ss §6): adding a WSDL, an OpenAPI 3 or a
 * REST description, refreshing one from its source (the services or endpoints it adds and removes are warnings the
 * administrator confirms, because access rights go with what is removed), enabling and disabling it with a notice,
 * and deleting it. Descriptions are parsed before these run (downloads are asynchronous); each use case re-checks
 * against the database in one transaction, so nothing parsed earlier is applied over a changed configuration.
 */
export const SERVICE_DESCRIPTION_TYPES = ['WSDL', 'OPENAPI3', 'REST'] as const
export type ServiceDescriptionType = (typeof SERVICE_DESCRIPTION_TYPES)[number]

/** X-Road's warning deviations on adding and refreshing descriptions (`DeviationCodes.WARNING_*`). */
export const DESCRIPTION_WARNING_CODES = [
  'adding_services', 'deleting_services', 'adding_endpoints', 'deleting_endpoints', 'openapi_validation_warnings',
] as const
export type DescriptionWarningCode = (typeof DESCRIPTION_WARNING_CODES)[number]

export interface DescriptionWarning {
  code: DescriptionWarningCode
  metadata: string[]
}

export interface ServiceDescription {
  id: number
  client: ClientId
  type: ServiceDescriptionType
  /** Where it is read from; for an uploaded OpenAPI file, the file's name. */
  url: string
  uploaded: boolean
  disabled: boolean
  disabledNotice?: string
  refreshedAt: string
  services: ConfiguredService[]
}

/**
 * What an add or refresh did, or would do: with warnings not yet accepted nothing is applied (`applied: false`) and
 * the caller asks the administrator, then repeats with `ignoreWarnings` (X-Road's `ignore_warnings`).
 */
export interface DescriptionChange {
  applied: boolean
  warnings: DescriptionWarning[]
  /** The description as it is now (after the change when applied); undefined for an add that was not applied. */
  description?: ServiceDescription
  /** Access rights that go (or went) with removed services and endpoints. */
  accessRightsRemoved: AccessRight[]
}

/** X-Road's ServiceDescriptionService.DEFAULT_DISABLED_NOTICE: a new description starts disabled with it. */
export const DEFAULT_DISABLED_NOTICE = 'Out of order'
/** Codes the metaservices answer (PR-META, PR-MREST); a description cannot claim them (`service_code_reserved`). */
export const RESERVED_SERVICE_CODES = ['listMethods', 'allowedMethods', 'getWsdl', 'getOpenAPI'] as const

export interface ServiceDescriptionUseCases {
  listServiceDescriptions(client?: ClientId): ServiceDescription[]
  findServiceDescription(id: number): ServiceDescription | undefined
  /** The uploaded OpenAPI file of a description (what the `getOpenAPI` metaservice serves); undefined for one read from its URL. */
  serviceDescriptionDocument(id: number): Uint8Array | undefined
  /** @throws wsdl_exists, invalid_wsdl_service_identifier, invalid_service_url, service_code_reserved, service_already_exists */
  addWsdlDescription(client: ClientId, url: string, services: readonly WsdlService[]): ServiceDescription
  /** @throws url_already_exists, service_code_already_exists, service_code_reserved, openapi_parsing_error */
  addOpenApiDescription(client: ClientId, input: { url: string; document?: Uint8Array; serviceCode: string; parsed: ParsedOpenApi; ignoreWarnings: boolean }): DescriptionChange
  /** @throws url_already_exists, service_code_already_exists, service_code_reserved, service_malformed_url */
  addRestDescription(client: ClientId, url: string, serviceCode: string): ServiceDescription
  /** Replaces the services with those of the re-read WSDL (optionally from a new URL). @throws wrong_servicedescription_type */
  refreshWsdlDescription(id: number, input: { url?: string; services: readonly WsdlService[]; ignoreWarnings: boolean }): DescriptionChange
  /** Replaces the generated endpoints with those of the re-read description. @throws wrong_servicedescription_type */
  refreshOpenApiDescription(id: number, input: { url?: string; document?: Uint8Array; parsed: ParsedOpenApi; ignoreWarnings: boolean }): DescriptionChange
  /** A REST description's URL (its service's too) or a REST/OpenAPI service's code. @throws wrong_servicedescription_type */
  updateServiceDescription(id: number, changes: { url?: string; serviceCode?: string }): ServiceDescription
  /** Disabled services answer `service_disabled` with the notice. */
  setServiceDescriptionEnabled(id: number, enabled: boolean, notice?: string): ServiceDescription
  /** Deletes the description with its services, endpoints and their access rights; returns those rights. */
  deleteServiceDescription(id: number): AccessRight[]
}

export interface ServiceDescriptionDeps {
  db: SqlWriter
  now: () => string
  tx: <T>(work: () => T) => T
  requireClientRow: (id: ClientId) => ClientRow
  rightsOf: (row: ServiceRow, endpointId?: number) => AccessRight[]
}

/** X-Road ServiceFormatter.getServiceFullName: `code` or `code.version`. */
function fullName(code: string, version: string | undefined): string {
  return version === undefined || version === '' ? code : `${code}.${version}`
}

export function createServiceDescriptionUseCases(deps: ServiceDescriptionDeps): ServiceDescriptionUseCases {
  const { db, now, tx, requireClientRow, rightsOf } = deps

  const requireRow = (id: number): ServiceDescriptionRow => {
    const row = findServiceDescriptionRow(db, id)
    if (row === undefined) throw clientError('service_description_not_found', `Service description ${id} was not found`)
    return row
  }
  const toDescription = (row: ServiceDescriptionRow): ServiceDescription => ({
    id: row.id,
    client: decodeIdentifier(row.client_identifier) as ClientId,
    type: row.type as ServiceDescriptionType,
    url: row.url,
    uploaded: row.document !== null,
    disabled: row.disabled === 1,
    ...(row.disabled_notice === null ? {} : { disabledNotice: row.disabled_notice }),
    refreshedAt: row.refreshed_at,
    services: listServiceRowsOfDescription(db, row.id).map(toService),
  })
  const expectType = (row: ServiceDescriptionRow, ...types: ServiceDescriptionType[]): void => {
    if (!(types as string[]).includes(row.type)) {
      throw clientError('wrong_servicedescription_type', `Service description ${row.id} is ${row.type}, expected ${types.join(' or ')}`)
    }
  }
  /** WSDL URLs are compared ignoring case (`checkForExistingWsdl`: wsdl_exists), others exactly (`checkDuplicateUrl`). */
  const checkUrlFree = (client: ClientRow, url: string, type: ServiceDescriptionType, exceptId?: number): void => {
    for (const other of listServiceDescriptionRows(db, client.identifier)) {
      if (other.id === exceptId) continue
      if (type === 'WSDL' && other.url.toLowerCase() === url.toLowerCase()) {
        throw clientError('wsdl_exists', `WSDL URL already exists: ${url}`, { detail: 'url' })
      }
      if (type !== 'WSDL' && other.url === url) throw clientError('url_already_exists', `URL already exists: ${url}`, { detail: 'url' })
    }
  }
  /**
   * WSDL services clash with another description's service of the same full name (`checkForExistingServices`:
   * service_already_exists); a REST or OpenAPI service code with any service of that code (`checkDuplicateServiceCodes`:
   * service_code_already_exists). Both ignore case, as X-Road does.
   */
  const checkServicesFree = (client: ClientRow, candidates: ReadonlyArray<{ code: string; version?: string }>, byCode: boolean, exceptId?: number): void => {
    const existing = listServiceRows(db, client.identifier).filter((s) => s.description_id !== exceptId)
    const clashes = existing.filter((s) => candidates.some((c) =>
      fullName(s.service_code, s.service_version).toLowerCase() === fullName(c.code, c.version).toLowerCase() ||
      (byCode && s.service_code.toLowerCase() === c.code.toLowerCase())))
    if (clashes.length === 0) return
    const urls = new Map(listServiceDescriptionRows(db, client.identifier).map((d) => [d.id, d.url]))
    const named = clashes.map((s) => `${fullName(s.service_code, s.service_version)} (${urls.get(s.description_id) ?? ''})`).join(', ')
    throw byCode
      ? clientError('service_code_already_exists', `Service code already exists: ${named}`, { detail: 'serviceCode' })
      : clientError('service_already_exists', `Service already exists: ${named}`, { detail: 'url' })
  }
  const checkNotReserved = (codes: readonly string[], detail: string): void => {
    const reserved = codes.filter((c) => (RESERVED_SERVICE_CODES as readonly string[]).includes(c))
    if (reserved.length > 0) throw clientError('service_code_reserved', `Service code is reserved for a metaservice: ${reserved.join(', ')}`, { detail })
  }
  const checkWsdlServices = (services: readonly WsdlService[]): void => {
    const invalid = invalidServiceIdentifiers(services)
    if (invalid.length > 0) {
      throw clientError('invalid_wsdl_service_identifier', `The WSDL names services with invalid identifiers: ${invalid.slice(0, 10).join(', ')}`, { detail: 'url' })
    }
    const urls = invalidServiceUrls(services)
    if (urls.length > 0) {
      throw clientError('invalid_service_url', `Service URLs in the WSDL must be http or https: ${urls.slice(0, 5).map((u) => u.slice(0, 100)).join(', ')}`, { detail: 'url' })
    }
    checkNotReserved(services.map((s) => s.code), 'url')
  }
  const checkServiceCode = (code: string): string => {
    try {
      validateIdentifierPart('serviceCode', code)
    } catch (error) {
      throw clientError('validation_failed', `Invalid service code: ${(error as Error).message}`, { detail: 'serviceCode', cause: error })
    }
    checkNotReserved([code], 'serviceCode')
    return code
  }
  const insertWsdlService = (client: ClientRow, descriptionId: number, s: WsdlService): void => {
    const serviceRowId = insertService(db, {
      clientRowId: client.id, descriptionRowId: descriptionId, code: s.code, version: s.version ?? '', title: s.title ?? null,
      url: s.url ?? '', timeoutSeconds: DEFAULT_SERVICE_TIMEOUT_SECONDS, sslVerify: true,
    }, now())
    insertEndpoint(db, serviceRowId, BASE_ENDPOINT.method, BASE_ENDPOINT.path, true)
  }
  const openApiEndpoints = (parsed: ParsedOpenApi): Array<{ method: string; path: string }> => {
    const seen = new Set<string>()
    const out: Array<{ method: string; path: string }> = []
    for (const e of parsed.endpoints) {
      let path: string
      try {
        path = validateEndpointPath(e.path)
      } catch {
        throw new SecurityServerError('openapi_parsing_error', `The path ${JSON.stringify(e.path.slice(0, 100))} cannot be an endpoint (query, ';', '\\' or dot segments)`, { clientFault: true })
      }
      const key = `${e.method} ${path}`
      if (!seen.has(key)) {
        seen.add(key)
        out.push({ method: e.method, path })
      }
    }
    return out
  }
  const validationWarnings = (parsed: ParsedOpenApi): DescriptionWarning[] =>
    parsed.warnings.length === 0 ? [] : [{ code: 'openapi_validation_warnings', metadata: parsed.warnings }]

  return {
    listServiceDescriptions(client) {
      return listServiceDescriptionRows(db, client === undefined ? undefined : encodeIdentifier(client)).map(toDescription)
    },
    serviceDescriptionDocument(id) {
      const document = findServiceDescriptionRow(db, id)?.document
      return document === null || document === undefined ? undefined : new Uint8Array(document)
    },
    findServiceDescription(id) {
      const row = findServiceDescriptionRow(db, id)
      return row === undefined ? undefined : toDescription(row)
    },

    addWsdlDescription(client, url, services) {
      return tx(() => {
        const clientRow = requireClientRow(client)
        checkUrlFree(clientRow, url, 'WSDL')
        checkWsdlServices(services)
        checkServicesFree(clientRow, services, false)
        const id = insertServiceDescription(db, {
          clientRowId: clientRow.id, type: 'WSDL', url, document: null, disabled: true, disabledNotice: DEFAULT_DISABLED_NOTICE,
        }, now())
        for (const s of services) insertWsdlService(clientRow, id, s)
        return toDescription(requireRow(id))
      })
    },

    addOpenApiDescription(client, input) {
      return tx(() => {
        const clientRow = requireClientRow(client)
        const code = checkServiceCode(input.serviceCode)
        if (input.parsed.baseUrl === undefined) {
          throw clientError('openapi_parsing_error', 'The description names no absolute server URL (servers[0].url) for the service', { detail: 'file' })
        }
        const baseUrl = validateServiceUrl(input.parsed.baseUrl)
        checkUrlFree(clientRow, input.url, 'OPENAPI3')
        checkServicesFree(clientRow, [{ code }], true)
        const endpoints = openApiEndpoints(input.parsed)
        const warnings = validationWarnings(input.parsed)
        if (warnings.length > 0 && !input.ignoreWarnings) return { applied: false, warnings, accessRightsRemoved: [] }
        const id = insertServiceDescription(db, {
          clientRowId: clientRow.id, type: 'OPENAPI3', url: input.url, document: input.document ?? null, disabled: true,
          disabledNotice: DEFAULT_DISABLED_NOTICE,
        }, now())
        const serviceRowId = insertService(db, {
          clientRowId: clientRow.id, descriptionRowId: id, code, version: '', title: null, url: baseUrl,
          timeoutSeconds: DEFAULT_SERVICE_TIMEOUT_SECONDS, sslVerify: true,
        }, now())
        insertEndpoint(db, serviceRowId, BASE_ENDPOINT.method, BASE_ENDPOINT.path, true)
        for (const e of endpoints) insertEndpoint(db, serviceRowId, e.method, e.path, true)
        return { applied: true, warnings, description: toDescription(requireRow(id)), accessRightsRemoved: [] }
      })
    },

    addRestDescription(client, url, serviceCode) {
      return tx(() => {
        const clientRow = requireClientRow(client)
        const code = checkServiceCode(serviceCode)
        validateServiceUrl(url)
        checkUrlFree(clientRow, url, 'REST')
        checkServicesFree(clientRow, [{ code }], true)
        const id = insertServiceDescription(db, {
          clientRowId: clientRow.id, type: 'REST', url, document: null, disabled: true, disabledNotice: DEFAULT_DISABLED_NOTICE,
        }, now())
        const serviceRowId = insertService(db, {
          clientRowId: clientRow.id, descriptionRowId: id, code, version: '', title: null, url,
          timeoutSeconds: DEFAULT_SERVICE_TIMEOUT_SECONDS, sslVerify: true,
        }, now())
        insertEndpoint(db, serviceRowId, BASE_ENDPOINT.method, BASE_ENDPOINT.path, true)
        return toDescription(requireRow(id))
      })
    },

    refreshWsdlDescription(id, input) {
      return tx(() => {
        const row = requireRow(id)
        expectType(row, 'WSDL')
        const clientRow = requireClientRow(decodeIdentifier(row.client_identifier) as ClientId)
        const url = input.url ?? row.url
        checkUrlFree(clientRow, url, 'WSDL', id)
        checkWsdlServices(input.services)
        checkServicesFree(clientRow, input.services, false, id)
        // ServiceChangeChecker: services compared by full name (code.version).
        const old = listServiceRowsOfDescription(db, id)
        const oldNames = new Map(old.map((s) => [fullName(s.service_code, s.service_version), s]))
        const newNames = new Map(input.services.map((s) => [fullName(s.code, s.version), s]))
        const added = [...newNames.keys()].filter((n) => !oldNames.has(n))
        const removed = old.filter((s) => !newNames.has(fullName(s.service_code, s.service_version)))
        const warnings: DescriptionWarning[] = []
        if (added.length > 0) warnings.push({ code: 'adding_services', metadata: added })
        if (removed.length > 0) warnings.push({ code: 'deleting_services', metadata: removed.map((s) => fullName(s.service_code, s.service_version)) })
        const accessRightsRemoved = removed.flatMap((s) => rightsOf(s))
        if (warnings.length > 0 && !input.ignoreWarnings) {
          return { applied: false, warnings, description: toDescription(row), accessRightsRemoved }
        }
        for (const s of removed) deleteServiceRow(db, s.id)
        // On refresh a kept service keeps its URL, timeout and TLS verification (X-Road updateServiceProperties).
        for (const [name, parsed] of newNames) {
          const kept = oldNames.get(name)
          if (kept === undefined) insertWsdlService(clientRow, id, parsed)
          else updateServiceTitle(db, kept.id, parsed.title ?? null)
        }
        updateServiceDescriptionSource(db, id, url, null, now())
        return { applied: true, warnings, description: toDescription(requireRow(id)), accessRightsRemoved }
      })
    },

    refreshOpenApiDescription(id, input) {
      return tx(() => {
        const row = requireRow(id)
        expectType(row, 'OPENAPI3')
        const clientRow = requireClientRow(decodeIdentifier(row.client_identifier) as ClientId)
        const url = input.url ?? row.url
        checkUrlFree(clientRow, url, 'OPENAPI3', id)
        const service = listServiceRowsOfDescription(db, id)[0]
        if (service === undefined) throw new SecurityServerError('internal_error', `Service description ${id} has no service`)
        const parsed = openApiEndpoints(input.parsed)
        const current = listEndpointRows(db, service.id).filter((e) => !(e.method === BASE_ENDPOINT.method && e.path === BASE_ENDPOINT.path))
        const key = (e: { method: string; path: string }): string => `${e.method} ${e.path}`
        const parsedKeys = new Set(parsed.map(key))
        const currentKeys = new Map(current.map((e) => [key(e), e]))
        const added = parsed.filter((e) => !currentKeys.has(key(e)))
        // EndpointEntityChangeChecker: only generated endpoints go; a hand-made one that the description now has becomes generated.
        const removed = current.filter((e) => e.generated === 1 && !parsedKeys.has(key(e)))
        const warnings: DescriptionWarning[] = [...validationWarnings(input.parsed)]
        if (added.length > 0) warnings.push({ code: 'adding_endpoints', metadata: added.map(key) })
        if (removed.length > 0) warnings.push({ code: 'deleting_endpoints', metadata: removed.map(key) })
        const accessRightsRemoved = removed.flatMap((e) => rightsOf(service, e.id))
        if (warnings.length > 0 && !input.ignoreWarnings) {
          return { applied: false, warnings, description: toDescription(row), accessRightsRemoved }
        }
        for (const e of removed) deleteEndpointRow(db, e.id)
        for (const e of current) if (e.generated === 0 && parsedKeys.has(key(e))) setEndpointGenerated(db, e.id, true)
        for (const e of added) insertEndpoint(db, service.id, e.method, e.path, true)
        updateServiceDescriptionSource(db, id, url, input.document ?? (input.url === undefined ? row.document : null), now())
        return { applied: true, warnings, description: toDescription(requireRow(id)), accessRightsRemoved }
      })
    },

    updateServiceDescription(id, changes) {
      return tx(() => {
        const row = requireRow(id)
        expectType(row, ...(changes.url === undefined ? ['REST', 'OPENAPI3'] as const : ['REST'] as const))
        const clientRow = requireClientRow(decodeIdentifier(row.client_identifier) as ClientId)
        const service = listServiceRowsOfDescription(db, id)[0]
        if (service === undefined) throw new SecurityServerError('internal_error', `Service description ${id} has no service`)
        if (changes.serviceCode !== undefined && changes.serviceCode !== service.service_code) {
          const code = checkServiceCode(changes.serviceCode)
          checkServicesFree(clientRow, [{ code }], true, id)
          updateServiceCode(db, service.id, code)
        }
        if (changes.url !== undefined && changes.url !== row.url) {
          const url = validateServiceUrl(changes.url)
          checkUrlFree(clientRow, url, 'REST', id)
          updateServiceDescriptionSource(db, id, url, null, now())
          updateService(db, service.id, { url, timeoutSeconds: service.timeout_seconds, sslVerify: service.ssl_verify === 1 })
        }
        return toDescription(requireRow(id))
      })
    },

    setServiceDescriptionEnabled(id, enabled, notice) {
      return tx(() => {
        const row = requireRow(id)
        // X-Road toggleServices: the notice is set when disabling and kept when enabling.
        updateServiceDescriptionState(db, id, !enabled, enabled ? row.disabled_notice : (notice ?? null))
        return toDescription(requireRow(id))
      })
    },

    deleteServiceDescription(id) {
      return tx(() => {
        requireRow(id)
        const rights = listServiceRowsOfDescription(db, id).flatMap((s) => rightsOf(s))
        deleteServiceDescriptionRow(db, id)
        return rights
      })
    },
  }
}
