import { z } from 'zod'
import type { ClientId } from '@shared/domain/identifiers'
import type { DescriptionFileDto, ServiceDescriptionChangeDto, ServiceDescriptionDto, ServiceDescriptionsApi } from '@shared/admin-api/admin-api'
import { clientError } from '../platform'
import {
  DEFAULT_DESCRIPTION_TIMEOUT_MS, MAX_OPENAPI_BYTES, WSDL_LIMITS, descriptionUrl, downloadDescription, parseOpenApi, parseWsdl,
  type DescriptionChange, type ParsedOpenApi, type ServiceDescription,
} from '../server-conf'
import { accessRightDto, serviceDto } from './clients-admin'
import { validate } from './admin-validation'
import { encodeId, parseClientRef, type DomainsOf } from './domain-support'

/**
 * Service descriptions of a client (ug-ss §6, X-Road's `/clients/{id}/service-descriptions` and `/service-descriptions/{id}`):
 * WSDL and OpenAPI 3 descriptions are downloaded and read here, outside any transaction, then handed to server-conf,
 * whose use cases check them against the configuration in one transaction each.
 */
export interface ServiceDescriptionsAdminOptions {
  /** Longest a description download may take (X-Road's connection and read timeouts); 30 s by default. */
  downloadTimeoutMs?: number
}

const ref = z.string().min(1).max(1000)
const id = z.number().int().positive()
const urlSchema = z.string().trim().min(1, 'give the URL').max(2048)
const serviceCode = z.string().trim().min(1, 'give the service code').max(255)
const fileSchema = z.object({ name: z.string().trim().min(1).max(255), contentBase64: z.string().min(1).max(Math.ceil((MAX_OPENAPI_BYTES * 4) / 3) + 4) }).strict()

export function createServiceDescriptionsAdmin(domains: DomainsOf, options: ServiceDescriptionsAdminOptions = {}): ServiceDescriptionsApi {
  const timeoutMs = options.downloadTimeoutMs ?? DEFAULT_DESCRIPTION_TIMEOUT_MS
  const toDto = (d: ServiceDescription): ServiceDescriptionDto => ({
    id: d.id, client: encodeId(d.client), type: d.type, url: d.url, uploaded: d.uploaded, disabled: d.disabled,
    disabledNotice: d.disabledNotice ?? null, refreshedAt: d.refreshedAt, services: d.services.map((s) => serviceDto(domains, s)),
  })
  const changeDto = (c: DescriptionChange): ServiceDescriptionChangeDto => ({
    applied: c.applied, warnings: c.warnings, description: c.description === undefined ? null : toDto(c.description),
    accessRightsRemoved: c.accessRightsRemoved.map((r) => accessRightDto(domains, r)),
  })
  const one = (descriptionId: number): ServiceDescriptionDto => {
    const found = domains().serverConf.findServiceDescription(descriptionId)
    if (found === undefined) throw clientError('service_description_not_found', `Service description ${descriptionId} was not found`)
    return toDto(found)
  }
  const provider = (value: string): ClientId => {
    const client = parseClientRef(value)
    if (client.objectType !== 'SUBSYSTEM') throw clientError('validation_failed', 'Services are provided by subsystems: choose a subsystem', { detail: 'client' })
    return client
  }
  const readWsdl = async (url: string) => parseWsdl(await downloadDescription(url, {
    maxBytes: WSDL_LIMITS.maxBytes, timeoutMs, failureCode: 'wsdl_download_failed', what: 'Reading the WSDL failed',
  }))
  /** The OpenAPI description from a URL or a file, with where it came from. */
  const readOpenApi = async (source: { url?: string; file?: DescriptionFileDto }): Promise<{ url: string; document?: Uint8Array; parsed: ParsedOpenApi }> => {
    if ((source.url === undefined) === (source.file === undefined)) throw clientError('validation_failed', 'Give either the URL or the file of the OpenAPI description', { detail: 'url' })
    if (source.file !== undefined) {
      const bytes = Buffer.from(source.file.contentBase64, 'base64')
      if (bytes.length > MAX_OPENAPI_BYTES) throw clientError('openapi_parsing_error', `Error reading OpenAPI description: Size exceeds ${MAX_OPENAPI_BYTES} bytes.`, { detail: 'file' })
      const parsed = parseOpenApi(bytes.toString('utf8'), { name: source.file.name })
      return { url: source.file.name, document: new Uint8Array(bytes), parsed }
    }
    const url = descriptionUrl(source.url as string).toString()
    const body = await downloadDescription(url, { maxBytes: MAX_OPENAPI_BYTES, timeoutMs, failureCode: 'openapi_parsing_error', what: 'Error reading OpenAPI description' })
    return { url: source.url as string, parsed: parseOpenApi(body.toString('utf8'), { url, name: url }) }
  }

  return {
    async list(input) {
      const value = validate(z.object({ client: ref }).strict(), input, 'client')
      return domains().serverConf.listServiceDescriptions(parseClientRef(value.client)).map(toDto)
    },
    async get(input) {
      const value = validate(z.object({ id }).strict(), input, 'service description')
      return one(value.id)
    },
    async addWsdl(input) {
      const value = validate(z.object({ client: ref, url: urlSchema }).strict(), input, 'WSDL')
      const client = provider(value.client)
      descriptionUrl(value.url)
      const services = await readWsdl(value.url)
      return toDto(domains().serverConf.addWsdlDescription(client, value.url, services))
    },
    async addOpenApi(input) {
      const value = validate(
        z.object({ client: ref, serviceCode, url: urlSchema.optional(), file: fileSchema.optional(), ignoreWarnings: z.boolean().optional() }).strict(),
        input, 'OpenAPI description',
      )
      const client = provider(value.client)
      const read = await readOpenApi(value)
      return changeDto(domains().serverConf.addOpenApiDescription(client, {
        url: read.url, serviceCode: value.serviceCode, parsed: read.parsed, ignoreWarnings: value.ignoreWarnings ?? false,
        ...(read.document === undefined ? {} : { document: read.document }),
      }))
    },
    async addRest(input) {
      const value = validate(z.object({ client: ref, serviceCode, url: urlSchema }).strict(), input, 'REST service')
      return toDto(domains().serverConf.addRestDescription(provider(value.client), value.url, value.serviceCode))
    },
    async refresh(input) {
      const value = validate(
        z.object({ id, url: urlSchema.optional(), file: fileSchema.optional(), ignoreWarnings: z.boolean().optional() }).strict(),
        input, 'refresh',
      )
      const { serverConf } = domains()
      const current = one(value.id)
      const ignoreWarnings = value.ignoreWarnings ?? false
      if (current.type === 'WSDL') {
        if (value.file !== undefined) throw clientError('validation_failed', 'A WSDL is read from its URL', { detail: 'file' })
        const url = value.url ?? current.url
        return changeDto(serverConf.refreshWsdlDescription(value.id, { ...(value.url === undefined ? {} : { url }), services: await readWsdl(url), ignoreWarnings }))
      }
      if (current.type === 'OPENAPI3') {
        if (current.uploaded && value.url === undefined && value.file === undefined) {
          throw clientError('validation_failed', 'This description was uploaded as a file: give the new file (or a URL) to refresh it', { detail: 'file' })
        }
        const source = value.file !== undefined ? { file: value.file } : { url: value.url ?? current.url }
        const read = await readOpenApi(source)
        const changed = value.url !== undefined || value.file !== undefined
        return changeDto(serverConf.refreshOpenApiDescription(value.id, {
          ...(changed ? { url: read.url } : {}), ...(read.document === undefined ? {} : { document: read.document }), parsed: read.parsed, ignoreWarnings,
        }))
      }
      throw clientError('wrong_servicedescription_type', 'A REST description has nothing to refresh: edit its URL instead')
    },
    async update(input) {
      const value = validate(z.object({ id, url: urlSchema.optional(), serviceCode: serviceCode.optional() }).strict(), input, 'service description')
      return toDto(domains().serverConf.updateServiceDescription(value.id, {
        ...(value.url === undefined ? {} : { url: value.url }), ...(value.serviceCode === undefined ? {} : { serviceCode: value.serviceCode }),
      }))
    },
    async setEnabled(input) {
      const value = validate(z.object({ id, enabled: z.boolean(), notice: z.string().max(1000).optional() }).strict(), input, 'service description state')
      return toDto(domains().serverConf.setServiceDescriptionEnabled(value.id, value.enabled, value.notice))
    },
    async delete(input) {
      const value = validate(z.object({ id }).strict(), input, 'service description')
      return domains().serverConf.deleteServiceDescription(value.id).map((r) => accessRightDto(domains, r))
    },
  }
}
