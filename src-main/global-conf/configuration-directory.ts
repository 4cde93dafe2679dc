import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { validateIdentifierPart } from '@shared/domain/identifiers'
import type { ClientId } from '@shared/domain/identifiers'
import type { GlobalConfSnapshot, InstanceConfiguration, PartMetadata, PrivateParameters } from './conf-model'
import { DEFAULT_OCSP_FETCH_INTERVAL_SECONDS } from './conf-model'
import { parseJson } from '../platform'
import { confError } from './conf-xml'
import { parseSharedParameters } from './shared-parameters-parser'
import {
  parseFetchIntervalParameters, parseMonitoringParameters, parseNextUpdateParameters, parsePrivateParameters,
} from './private-parameters-parser'

/**
 * Reads a stored global configuration in X-Road's on-disk layout (xroad-protocols.md §5.6):
 * `instance-identifier`, `<INSTANCE>/shared-params.xml` (+ `.metadata` JSON), `private-params.xml`
 * and the optional parts of the own instance.
 */
export const INSTANCE_IDENTIFIER_FILE = 'instance-identifier'
export const SHARED_PARAMS_FILE = 'shared-params.xml'
export const PRIVATE_PARAMS_FILE = 'private-params.xml'
export const MONITORING_PARAMS_FILE = 'monitoring-params.xml'
export const FETCHINTERVAL_PARAMS_FILE = 'fetchinterval-params.xml'
export const NEXTUPDATE_PARAMS_FILE = 'nextupdate-params.xml'

const metadataSchema = z.object({
  contentIdentifier: z.string().optional(),
  instanceIdentifier: z.string().optional(),
  expirationDate: z.string().optional(),
  configurationVersion: z.union([z.string(), z.number()]).optional(),
})

export function parsePartMetadata(json: string, what: string): PartMetadata {
  let raw: unknown
  try {
    // A metadata object is flat: a few kilobytes and two levels at most.
    raw = parseJson(json, { maxLength: 64 * 1024, maxDepth: 4 }, 'malformed_global_conf', `Metadata ${what}`)
  } catch (cause) {
    throw confError(`Metadata ${what} is not JSON: ${(cause as Error).message}`, cause)
  }
  const parsed = metadataSchema.safeParse(raw)
  if (!parsed.success) throw confError(`Metadata ${what} is malformed: ${parsed.error.issues.map((i) => i.message).join('; ')}`)
  const m = parsed.data
  let expirationDate: Date | undefined
  if (m.expirationDate !== undefined) {
    expirationDate = new Date(m.expirationDate)
    if (Number.isNaN(expirationDate.getTime())) throw confError(`Metadata ${what} has an invalid expirationDate '${m.expirationDate}'`)
  }
  let configurationVersion: number | undefined
  if (m.configurationVersion !== undefined) {
    configurationVersion = Number(m.configurationVersion)
    if (!Number.isInteger(configurationVersion)) throw confError(`Metadata ${what} has an invalid configurationVersion`)
  }
  return {
    ...(m.contentIdentifier ? { contentIdentifier: m.contentIdentifier } : {}),
    ...(m.instanceIdentifier ? { instanceIdentifier: m.instanceIdentifier } : {}),
    ...(expirationDate ? { expirationDate } : {}),
    ...(configurationVersion !== undefined ? { configurationVersion } : {}),
  }
}

function readMetadata(file: string): PartMetadata | undefined {
  const path = `${file}.metadata`
  return existsSync(path) ? parsePartMetadata(readFileSync(path, 'utf8'), path) : undefined
}

function earliest(dates: Array<Date | undefined>): Date | undefined {
  let out: Date | undefined
  for (const d of dates) if (d !== undefined && (out === undefined || d < out)) out = d
  return out
}

/** Reads the own instance identifier and every instance directory below `dir`. */
export function readConfigurationDirectory(dir: string): GlobalConfSnapshot {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw confError(`Global configuration directory ${dir} does not exist`)
  const idFile = join(dir, INSTANCE_IDENTIFIER_FILE)
  if (!existsSync(idFile)) throw confError(`Global configuration directory ${dir} has no ${INSTANCE_IDENTIFIER_FILE} file`)
  const own = readFileSync(idFile, 'utf8').trim()
  try {
    validateIdentifierPart('xRoadInstance', own)
  } catch (cause) {
    throw confError(`${idFile} does not hold a valid instance identifier`, cause)
  }

  const instances = new Map<string, InstanceConfiguration>()
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const instanceDir = join(dir, entry.name)
    const sharedFile = join(instanceDir, SHARED_PARAMS_FILE)
    if (!existsSync(sharedFile)) continue
    const sharedMeta = readMetadata(sharedFile)
    const shared = withFile(sharedFile, () => parseSharedParameters(readFileSync(sharedFile), sharedMeta?.configurationVersion ?? undefined))
    const privateFile = join(instanceDir, PRIVATE_PARAMS_FILE)
    let privateParams: PrivateParameters | undefined
    let privateMeta: PartMetadata | undefined
    if (existsSync(privateFile)) {
      privateMeta = readMetadata(privateFile)
      // A part without configurationVersion is V2 (X-Road's ConfigurationPartMetadata default).
      privateParams = withFile(privateFile, () => parsePrivateParameters(readFileSync(privateFile), privateMeta?.configurationVersion ?? 2))
    }
    if (instances.has(shared.instanceIdentifier)) throw confError(`Instance ${shared.instanceIdentifier} appears twice in ${dir}`)
    const expiresAt = earliest([sharedMeta?.expirationDate, privateMeta?.expirationDate])
    instances.set(shared.instanceIdentifier, {
      instanceIdentifier: shared.instanceIdentifier,
      shared,
      ...(privateParams ? { private: privateParams } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    })
  }
  if (!instances.has(own)) throw confError(`Global configuration in ${dir} has no shared parameters for the own instance ${own}`)

  const ownDir = join(dir, own)
  const optional = <T>(name: string, parse: (xml: Buffer) => T): T | undefined => {
    const file = join(ownDir, name)
    return existsSync(file) ? withFile(file, () => parse(readFileSync(file))) : undefined
  }
  const monitoringClient: ClientId | undefined = optional(MONITORING_PARAMS_FILE, parseMonitoringParameters)
  const fetchInterval = optional(FETCHINTERVAL_PARAMS_FILE, parseFetchIntervalParameters)
  const verifyNextUpdate = optional(NEXTUPDATE_PARAMS_FILE, parseNextUpdateParameters)
  const expiresAt = earliest([...instances.values()].map((i) => i.expiresAt))
  return {
    instanceIdentifier: own,
    instances,
    ...(expiresAt ? { expiresAt } : {}),
    ...(monitoringClient ? { monitoringClient } : {}),
    ocspFetchIntervalSeconds: fetchInterval ?? DEFAULT_OCSP_FETCH_INTERVAL_SECONDS,
    verifyNextUpdate: verifyNextUpdate ?? true,
  }
}

function withFile<T>(file: string, parse: () => T): T {
  try {
    return parse()
  } catch (cause) {
    if (cause instanceof Error && 'code' in cause) {
      const coded = cause as Error & { code: string }
      if (coded.code === 'malformed_optional_parts_conf') throw confError(`${file}: ${coded.message}`, cause, 'malformed_optional_parts_conf')
    }
    throw confError(`${file}: ${cause instanceof Error ? cause.message : String(cause)}`, cause)
  }
}
