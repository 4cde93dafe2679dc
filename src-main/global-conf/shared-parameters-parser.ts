import type { Element } from '@xmldom/xmldom'
import {
  memberId, securityServerId, subsystemId, globalGroupId,
  type ClientId, type MemberId, type ServiceId,
} from '@shared/domain/identifiers'
import type {
  AcmeServer, ApprovedCa, ApprovedTsa, CaInfo, CentralService, ConfVersion, ConfigurationSource, CostType,
  GlobalGroup, Member, MemberClass, OcspResponder, SecurityServer, SharedParameters, Subsystem,
} from './conf-model'
import { DEFAULT_OCSP_FRESHNESS_SECONDS } from './conf-model'
import {
  booleanText, certText, child, clientIdOf, children, confError, decodeCertificate, identifierOf, integerText, optionalCertText,
  optionalText, parseConfRoot, requiredChild, requiredText, text,
} from './conf-xml'

/**
 * Parses shared parameters V2–V6 (`shared-parameters.xsd` v2..v6, xroad-protocols.md §5.4) into the read model.
 * `version` comes from the directory's `Version` header or the part's metadata; when absent it is inferred
 * from the elements present (V2 has no `source`).
 */
export function parseSharedParameters(xml: string | Uint8Array, version?: number): SharedParameters {
  const root = parseConfRoot(xml, 'conf')
  const instanceIdentifier = requiredText(root, 'instanceIdentifier')
  const confVersion = version === undefined ? inferVersion(root) : checkVersion(version)

  const sources = children(root, 'source').map(parseSource)
  // shared-parameters.xsd v3+: `source` maxOccurs unbounded, minOccurs 1.
  if (confVersion >= 3 && sources.length === 0) throw confError(`Shared parameters V${confVersion} of ${instanceIdentifier} list no source`)

  const approvedCas = children(root, 'approvedCA').map(parseApprovedCa)
  const approvedTsas = children(root, 'approvedTSA').map(parseApprovedTsa)

  // Members carry XML IDs referenced by securityServer/owner and client (IDREF, §5.4).
  const byXmlId = new Map<string, ClientId>()
  const members = children(root, 'member').map((el) => parseMember(el, instanceIdentifier, byXmlId))
  const securityServers = children(root, 'securityServer').map((el) => parseSecurityServer(el, byXmlId, confVersion))
  const globalGroups = children(root, 'globalGroup').map((el) => parseGlobalGroup(el, instanceIdentifier))
  const centralServices = children(root, 'centralService').map(parseCentralService)

  const settings = requiredChild(root, 'globalSettings')
  const memberClasses = children(settings, 'memberClass').map(parseMemberClass)
  const freshness = child(settings, 'ocspFreshnessSeconds') === undefined
    ? DEFAULT_OCSP_FRESHNESS_SECONDS
    : integerText(settings, 'ocspFreshnessSeconds')
  if (freshness < 0) throw confError(`ocspFreshnessSeconds must not be negative, got ${freshness}`)

  return {
    version: confVersion,
    instanceIdentifier,
    sources,
    approvedCas,
    approvedTsas,
    members,
    securityServers,
    globalGroups,
    centralServices,
    memberClasses,
    ocspFreshnessSeconds: freshness,
  }
}

function checkVersion(version: number): ConfVersion {
  if (![2, 3, 4, 5, 6].includes(version)) throw confError(`Unsupported shared-parameters version ${version} (supported: 2–6)`)
  return version as ConfVersion
}

/** Features each version added (shared-parameters.xsd v3..v6), used only when no version is known. */
function inferVersion(root: Element): ConfVersion {
  if (children(root, 'source').length === 0) return 2
  const xml = root.toString()
  if (/<costType>|<defaultCsrFormat>/.test(xml)) return 6
  if (/<subsystemName>|<inMaintenanceMode/.test(xml)) return 5
  if (/<authenticationCertificateProfileId>|<signingCertificateProfileId>/.test(xml)) return 4
  return 3
}

function parseSource(el: Element): ConfigurationSource {
  return {
    address: requiredText(el, 'address'),
    internalVerificationCerts: children(el, 'internalVerificationCert').map((c) => decodeCertificate(text(c), 'internalVerificationCert')),
    externalVerificationCerts: children(el, 'externalVerificationCert').map((c) => decodeCertificate(text(c), 'externalVerificationCert')),
  }
}

function parseCostType(el: Element): CostType | undefined {
  const value = optionalText(el, 'costType')
  if (value === undefined) return undefined
  // shared-parameters.xsd v6 CostType enumeration.
  if (value !== 'FREE' && value !== 'PAID' && value !== 'UNDEFINED') throw confError(`Unknown costType '${value}'`)
  return value
}

function parseCaInfo(el: Element): CaInfo {
  const ocsp: OcspResponder[] = children(el, 'ocsp').map((o) => {
    const cert = optionalCertText(o, 'cert')
    const costType = parseCostType(o)
    return { url: requiredText(o, 'url'), ...(cert ? { cert } : {}), ...(costType ? { costType } : {}) }
  })
  return { cert: certText(el, 'cert'), ocsp }
}

function parseApprovedCa(el: Element): ApprovedCa {
  const authOnly = optionalText(el, 'authenticationOnly')
  const csrFormat = optionalText(el, 'defaultCsrFormat')
  if (csrFormat !== undefined && csrFormat !== 'PEM' && csrFormat !== 'DER') throw confError(`Unknown defaultCsrFormat '${csrFormat}'`)
  const acmeEl = child(el, 'acmeServer')
  let acmeServer: AcmeServer | undefined
  if (acmeEl !== undefined) {
    const ip = optionalText(acmeEl, 'ipAddress')
    const authProfile = optionalText(acmeEl, 'authenticationCertificateProfileId')
    const signProfile = optionalText(acmeEl, 'signingCertificateProfileId')
    acmeServer = {
      directoryUrl: requiredText(acmeEl, 'directoryURL'),
      ...(ip ? { ipAddress: ip } : {}),
      ...(authProfile ? { authenticationCertificateProfileId: authProfile } : {}),
      ...(signProfile ? { signingCertificateProfileId: signProfile } : {}),
    }
  }
  return {
    name: requiredText(el, 'name'),
    authenticationOnly: authOnly === undefined ? false : booleanText(authOnly, 'authenticationOnly'),
    topCa: parseCaInfo(requiredChild(el, 'topCA')),
    intermediateCas: children(el, 'intermediateCA').map(parseCaInfo),
    certificateProfileInfo: requiredText(el, 'certificateProfileInfo'),
    ...(csrFormat ? { defaultCsrFormat: csrFormat } : {}),
    ...(acmeServer ? { acmeServer } : {}),
  }
}

function parseApprovedTsa(el: Element): ApprovedTsa {
  const costType = parseCostType(el)
  return {
    name: requiredText(el, 'name'),
    url: requiredText(el, 'url'),
    cert: certText(el, 'cert'),
    ...(costType ? { costType } : {}),
  }
}

function parseMemberClass(el: Element): MemberClass {
  return { code: requiredText(el, 'code'), description: text(requiredChild(el, 'description')) }
}

function xmlIdOf(el: Element): string {
  const id = el.getAttribute('id')
  if (id === null || id === '') throw confError(`Element '${el.localName}' lacks its id attribute`)
  return id
}

function registerXmlId(byXmlId: Map<string, ClientId>, xmlId: string, id: ClientId): void {
  if (byXmlId.has(xmlId)) throw confError(`Duplicate XML id '${xmlId}' in shared parameters`)
  byXmlId.set(xmlId, id)
}

function identifier<T>(make: () => T, what: string): T {
  try {
    return make()
  } catch (cause) {
    throw confError(`Invalid ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause)
  }
}

function parseMember(el: Element, instance: string, byXmlId: Map<string, ClientId>): Member {
  const memberClass = parseMemberClass(requiredChild(el, 'memberClass'))
  const code = requiredText(el, 'memberCode')
  const id = identifier(() => memberId(instance, memberClass.code, code), 'member identifier')
  registerXmlId(byXmlId, xmlIdOf(el), id)
  const subsystems: Subsystem[] = children(el, 'subsystem').map((s) => {
    const subsystemCode = requiredText(s, 'subsystemCode')
    const sid = identifier(() => subsystemId(instance, memberClass.code, code, subsystemCode), 'subsystem identifier')
    registerXmlId(byXmlId, xmlIdOf(s), sid)
    const name = optionalText(s, 'subsystemName')
    return { id: sid, subsystemCode, ...(name ? { name } : {}) }
  })
  return { id, memberClass, name: text(requiredChild(el, 'name')), subsystems }
}

function resolveRef(byXmlId: Map<string, ClientId>, ref: string, where: string): ClientId {
  const id = byXmlId.get(ref)
  if (id === undefined) throw confError(`${where} refers to unknown member or subsystem '${ref}'`)
  return id
}

function parseSecurityServer(el: Element, byXmlId: Map<string, ClientId>, version: ConfVersion): SecurityServer {
  const serverCode = requiredText(el, 'serverCode')
  const ownerRef = resolveRef(byXmlId, requiredText(el, 'owner'), `securityServer ${serverCode} owner`)
  if (ownerRef.objectType !== 'MEMBER') throw confError(`securityServer ${serverCode} owner must be a member, not a subsystem`)
  const owner: MemberId = ownerRef
  const address = optionalText(el, 'address')
  const maintenance = version >= 5 ? child(el, 'inMaintenanceMode') : undefined
  const maintenanceMessage = maintenance === undefined ? undefined : optionalText(maintenance, 'message')
  return {
    id: identifier(() => securityServerId(owner, serverCode), 'security server identifier'),
    owner,
    serverCode,
    ...(address ? { address } : {}),
    authCertHashes: children(el, 'authCertHash').map((h) => text(h).replace(/\s+/g, '')),
    // xroad-protocols.md §4.1: SHA-256 of the auth cert for conf V3+, SHA-1 for V2.
    authCertHashAlgorithm: version === 2 ? 'sha1' : 'sha256',
    clients: children(el, 'client').map((c) => resolveRef(byXmlId, text(c), `securityServer ${serverCode} client`)),
    inMaintenanceMode: maintenance !== undefined,
    ...(maintenanceMessage ? { maintenanceMessage } : {}),
  }
}

function parseGlobalGroup(el: Element, instance: string): GlobalGroup {
  const groupCode = requiredText(el, 'groupCode')
  return {
    id: identifier(() => globalGroupId(instance, groupCode), 'global group identifier'),
    description: text(requiredChild(el, 'description')),
    members: children(el, 'groupMember').map((m) => clientIdOf(m)),
  }
}

function parseCentralService(el: Element): CentralService {
  const impl = child(el, 'implementingService')
  return {
    serviceCode: requiredText(el, 'serviceCode'),
    ...(impl ? { implementingService: identifierOf<ServiceId>(impl, ['SERVICE']) } : {}),
  }
}
