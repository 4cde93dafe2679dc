import type { Element } from '@xmldom/xmldom'
import {
  IdentifierError, memberId, securityServerId, subsystemId, globalGroupId,
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
  const ctx: EntryContext = { byXmlId: new Map(), ignoredXmlIds: new Set(), ignored: [] }
  const members = present(children(root, 'member').map((el) => parseMember(el, instanceIdentifier, ctx)))
  const securityServers = present(children(root, 'securityServer').map((el) => parseSecurityServer(el, ctx, confVersion)))
  const globalGroups = present(children(root, 'globalGroup').map((el) => parseGlobalGroup(el, instanceIdentifier, ctx)))
  const centralServices = present(children(root, 'centralService').map((el) => parseCentralService(el, ctx)))

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
    ignoredEntries: ctx.ignored,
  }
}

/**
 * What parsing the entries of one shared-parameters file keeps track of: the identifiers behind XML IDs, the XML IDs
 * of entries left out, and why each was left out. An entry whose identifier is unusable here (empty, over 255
 * characters, a control character) is left out with everything naming it — one odd member never makes the
 * instance's whole configuration unusable; X-Road itself reads any identifier (`MessageProcessorBase.checkIdentifier`
 * only warns), so the characters it warns about are kept (`checkReceivedPart`).
 */
interface EntryContext {
  readonly byXmlId: Map<string, ClientId>
  readonly ignoredXmlIds: Set<string>
  readonly ignored: string[]
}

function present<T>(values: ReadonlyArray<T | undefined>): T[] {
  return values.filter((v): v is T => v !== undefined)
}

/** The identifier `make` builds, or undefined (recorded in `ctx.ignored`) when it is not usable. */
function usableIdentifier<T>(ctx: EntryContext, make: () => T, what: string): T | undefined {
  try {
    return make()
  } catch (cause) {
    const identifierError = cause instanceof IdentifierError ? cause : cause instanceof Error && cause.cause instanceof IdentifierError ? cause.cause : undefined
    if (identifierError === undefined) throw cause
    ctx.ignored.push(`${what} left out: ${identifierError.message}`)
    return undefined
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

function registerXmlId(ctx: EntryContext, xmlId: string, id: ClientId | undefined): void {
  if (ctx.byXmlId.has(xmlId) || ctx.ignoredXmlIds.has(xmlId)) throw confError(`Duplicate XML id '${xmlId}' in shared parameters`)
  if (id === undefined) ctx.ignoredXmlIds.add(xmlId)
  else ctx.byXmlId.set(xmlId, id)
}

function parseMember(el: Element, instance: string, ctx: EntryContext): Member | undefined {
  const memberClass = parseMemberClass(requiredChild(el, 'memberClass'))
  const code = requiredText(el, 'memberCode')
  const id = usableIdentifier(ctx, () => memberId(instance, memberClass.code, code), `member ${memberClass.code}/${code}`)
  registerXmlId(ctx, xmlIdOf(el), id)
  const subsystems: Subsystem[] = present(children(el, 'subsystem').map((s) => {
    const subsystemCode = requiredText(s, 'subsystemCode')
    // A member left out takes its subsystems with it.
    const sid = id === undefined
      ? undefined
      : usableIdentifier(ctx, () => subsystemId(instance, memberClass.code, code, subsystemCode), `subsystem ${memberClass.code}/${code}/${subsystemCode}`)
    registerXmlId(ctx, xmlIdOf(s), sid)
    if (sid === undefined) return undefined
    const name = optionalText(s, 'subsystemName')
    return { id: sid, subsystemCode, ...(name ? { name } : {}) }
  }))
  if (id === undefined) return undefined
  return { id, memberClass, name: text(requiredChild(el, 'name')), subsystems }
}

/** The member or subsystem an IDREF names; undefined when that entry was left out. An unknown IDREF is malformed. */
function resolveRef(ctx: EntryContext, ref: string, where: string): ClientId | undefined {
  if (ctx.ignoredXmlIds.has(ref)) return undefined
  const id = ctx.byXmlId.get(ref)
  if (id === undefined) throw confError(`${where} refers to unknown member or subsystem '${ref}'`)
  return id
}

function parseSecurityServer(el: Element, ctx: EntryContext, version: ConfVersion): SecurityServer | undefined {
  const serverCode = requiredText(el, 'serverCode')
  const ownerRef = resolveRef(ctx, requiredText(el, 'owner'), `securityServer ${serverCode} owner`)
  if (ownerRef === undefined) {
    ctx.ignored.push(`security server ${serverCode} left out: its owner was left out`)
    return undefined
  }
  if (ownerRef.objectType !== 'MEMBER') throw confError(`securityServer ${serverCode} owner must be a member, not a subsystem`)
  const owner: MemberId = ownerRef
  const id = usableIdentifier(ctx, () => securityServerId(owner, serverCode), `security server ${owner.memberClass}/${owner.memberCode}/${serverCode}`)
  if (id === undefined) return undefined
  const address = optionalText(el, 'address')
  const maintenance = version >= 5 ? child(el, 'inMaintenanceMode') : undefined
  const maintenanceMessage = maintenance === undefined ? undefined : optionalText(maintenance, 'message')
  return {
    id,
    owner,
    serverCode,
    ...(address ? { address } : {}),
    authCertHashes: children(el, 'authCertHash').map((h) => text(h).replace(/\s+/g, '')),
    // xroad-protocols.md §4.1: SHA-256 of the auth cert for conf V3+, SHA-1 for V2.
    authCertHashAlgorithm: version === 2 ? 'sha1' : 'sha256',
    clients: present(children(el, 'client').map((c) => resolveRef(ctx, text(c), `securityServer ${serverCode} client`))),
    inMaintenanceMode: maintenance !== undefined,
    ...(maintenanceMessage ? { maintenanceMessage } : {}),
  }
}

function parseGlobalGroup(el: Element, instance: string, ctx: EntryContext): GlobalGroup | undefined {
  const groupCode = requiredText(el, 'groupCode')
  const id = usableIdentifier(ctx, () => globalGroupId(instance, groupCode), `global group ${groupCode}`)
  if (id === undefined) return undefined
  return {
    id,
    description: text(requiredChild(el, 'description')),
    members: present(children(el, 'groupMember').map((m) => usableIdentifier(ctx, () => clientIdOf(m), `a member of global group ${groupCode}`))),
  }
}

function parseCentralService(el: Element, ctx: EntryContext): CentralService | undefined {
  const serviceCode = requiredText(el, 'serviceCode')
  const impl = child(el, 'implementingService')
  if (impl === undefined) return { serviceCode }
  const implementingService = usableIdentifier(ctx, () => identifierOf<ServiceId>(impl, ['SERVICE']), `central service ${serviceCode}`)
  return implementingService === undefined ? undefined : { serviceCode, implementingService }
}
