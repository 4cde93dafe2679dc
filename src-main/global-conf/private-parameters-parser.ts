import type { Element } from '@xmldom/xmldom'
import type { ClientId } from '@shared/domain/identifiers'
import type { ConfigurationAnchor, ManagementService, PrivateParameters } from './conf-model'
import { DEFAULT_OCSP_FETCH_INTERVAL_SECONDS } from './conf-model'
import { parseAnchorElement } from './anchor'
import {
  booleanText, child, childrenOf, children, confError, identifierOf, integerText, optionalCertText, parseConfRoot,
  requiredChild, requiredText, text,
} from './conf-xml'

/**
 * Private parameters V2–V3 (`private-parameters.xsd`, xroad-protocols.md §5.5) and the optional parts
 * MONITORING, FETCHINTERVAL and NEXTUPDATE (`monitoring-conf.xsd`, `ocsp-fetchinterval-conf.xsd`,
 * `ocsp-nextupdate-conf.xsd`).
 */
export function parsePrivateParameters(xml: string | Uint8Array, version?: number): PrivateParameters {
  const root = parseConfRoot(xml, 'conf')
  const confVersion = version ?? 3
  // Configuration versions 3–6 all carry private parameters in the V3 schema (PR-GCONF §2.7).
  if (!Number.isInteger(confVersion) || confVersion < 2 || confVersion > 6) {
    throw confError(`Unsupported private-parameters version ${confVersion} (supported: 2–6)`)
  }
  const anchors: ConfigurationAnchor[] = children(root, 'configurationAnchor').map((el) => parseAnchorElement(el, 'malformed_global_conf'))
  return {
    version: confVersion === 2 ? 2 : 3,
    instanceIdentifier: requiredText(root, 'instanceIdentifier'),
    configurationAnchors: anchors,
    managementService: parseManagementService(requiredChild(root, 'managementService')),
    timeStampingIntervalSeconds: integerText(root, 'timeStampingIntervalSeconds'),
  }
}

function parseManagementService(el: Element): ManagementService {
  const cert = optionalCertText(el, 'authCertRegServiceCert')
  return {
    authCertRegServiceAddress: requiredText(el, 'authCertRegServiceAddress'),
    ...(cert ? { authCertRegServiceCert: cert } : {}),
    managementRequestServiceProviderId: identifierOf<ClientId>(requiredChild(el, 'managementRequestServiceProviderId'), ['MEMBER', 'SUBSYSTEM']),
  }
}

const OPTIONAL = 'malformed_optional_parts_conf' as const

/** The schemas of the optional parts are closed: any other element is an error. */
function onlyChildren(root: Element, allowed: readonly string[]): void {
  for (const el of childrenOf(root)) {
    if (!allowed.includes(el.localName ?? '')) throw confError(`Unexpected element '${el.localName}' in optional configuration part`, undefined, OPTIONAL)
  }
}

/** MONITORING part: `conf/monitoringClient/monitoringClientId`; undefined when no client is set. */
export function parseMonitoringParameters(xml: string | Uint8Array): ClientId | undefined {
  const root = parseConfRoot(xml, 'conf', OPTIONAL)
  onlyChildren(root, ['monitoringClient'])
  const client = child(root, 'monitoringClient', OPTIONAL)
  if (client === undefined) return undefined
  onlyChildren(client, ['monitoringClientId'])
  const id = child(client, 'monitoringClientId', OPTIONAL)
  return id === undefined ? undefined : identifierOf<ClientId>(id, ['MEMBER', 'SUBSYSTEM'], OPTIONAL)
}

/** FETCHINTERVAL part: `conf/ocspFetchInterval` seconds (default 1200, xroad-protocols.md §4.8). */
export function parseFetchIntervalParameters(xml: string | Uint8Array): number {
  const root = parseConfRoot(xml, 'conf', OPTIONAL)
  onlyChildren(root, ['ocspFetchInterval'])
  if (child(root, 'ocspFetchInterval', OPTIONAL) === undefined) return DEFAULT_OCSP_FETCH_INTERVAL_SECONDS
  const value = integerText(root, 'ocspFetchInterval', OPTIONAL)
  if (value <= 0) throw confError(`ocspFetchInterval must be positive, got ${value}`, undefined, OPTIONAL)
  return value
}

/** NEXTUPDATE part: `conf/verifyNextUpdate` (default true, xroad-protocols.md §4.8). */
export function parseNextUpdateParameters(xml: string | Uint8Array): boolean {
  const root = parseConfRoot(xml, 'conf', OPTIONAL)
  onlyChildren(root, ['verifyNextUpdate'])
  const el = child(root, 'verifyNextUpdate', OPTIONAL)
  return el === undefined ? true : booleanText(text(el), 'verifyNextUpdate', OPTIONAL)
}
