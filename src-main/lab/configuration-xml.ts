import { identifierToXml, type ClientId } from '@shared/domain/identifiers'

/**
 * XML documents of the lab's global configuration: shared parameters V6 (xroad-protocols.md §5.4,
 * schemas/globalconf/v6/shared-parameters.xsd), private parameters V3 (§5.5, v3/private-parameters.xsd) and
 * configuration anchors (§5.1). Element order follows the XSD sequences.
 */
export const XROAD_CONF_NS = 'http://x-road.eu/xsd/xroad.xsd'
export const IDENTIFIERS_NS = 'http://x-road.eu/xsd/identifiers'
export const EJBCA_PROFILE = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

const HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
const ROOT_NS = `xmlns:ns2="${IDENTIFIERS_NS}" xmlns:ns3="${XROAD_CONF_NS}"`

export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function el(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`
}

function b64(der: Uint8Array): string {
  return Buffer.from(der).toString('base64')
}

export interface SharedParametersModel {
  instance: string
  source: { address: string; internalVerificationCert: Uint8Array; externalVerificationCert: Uint8Array }
  ca: { name: string; cert: Uint8Array; ocspUrl: string; ocspCert: Uint8Array }
  tsa: { name: string; url: string; cert: Uint8Array }
  memberClasses: Array<{ code: string; description: string }>
  members: Array<{ key: number; memberClass: string; memberCode: string; name: string; subsystems: Array<{ key: number; code: string; name?: string }> }>
  securityServers: Array<{
    ownerKey: number; serverCode: string; address: string; authCertHashes: string[]; clientKeys: Array<{ member: number; subsystem: number | null }>
    /** V6 `inMaintenanceMode`: present (with its optional message) while the server is in maintenance mode. */
    maintenance?: { message: string | null }
  }>
  globalGroups: Array<{ code: string; description: string; members: ClientId[] }>
  ocspFreshnessSeconds: number
}

/** Shared parameters V6. Members and subsystems get `id` attributes that `owner` and `client` reference (IDREF). */
export function sharedParametersXml(m: SharedParametersModel): string {
  const ids = new Map<string, string>()
  let next = 0
  const idOf = (kind: 'm' | 's', key: number): string => {
    const k = `${kind}${key}`
    let id = ids.get(k)
    if (id === undefined) {
      id = `id${next++}`
      ids.set(k, id)
    }
    return id
  }
  const classDescription = new Map(m.memberClasses.map((c) => [c.code, c.description]))
  const out: string[] = [HEADER, `<ns3:conf ${ROOT_NS}>`, el('instanceIdentifier', m.instance)]
  out.push(
    '<source>',
    el('address', m.source.address),
    el('internalVerificationCert', b64(m.source.internalVerificationCert)),
    el('externalVerificationCert', b64(m.source.externalVerificationCert)),
    '</source>',
  )
  out.push(
    '<approvedCA>',
    el('name', m.ca.name),
    el('authenticationOnly', false),
    '<topCA>',
    el('cert', b64(m.ca.cert)),
    '<ocsp>',
    el('url', m.ca.ocspUrl),
    el('cert', b64(m.ca.ocspCert)),
    el('costType', 'FREE'),
    '</ocsp>',
    '</topCA>',
    el('certificateProfileInfo', EJBCA_PROFILE),
    el('defaultCsrFormat', 'DER'),
    '</approvedCA>',
  )
  out.push('<approvedTSA>', el('name', m.tsa.name), el('url', m.tsa.url), el('cert', b64(m.tsa.cert)), el('costType', 'FREE'), '</approvedTSA>')
  for (const member of m.members) {
    out.push(
      `<member id="${idOf('m', member.key)}">`,
      '<memberClass>',
      el('code', member.memberClass),
      el('description', classDescription.get(member.memberClass) ?? member.memberClass),
      '</memberClass>',
      el('memberCode', member.memberCode),
      el('name', member.name),
    )
    for (const subsystem of member.subsystems) {
      out.push(`<subsystem id="${idOf('s', subsystem.key)}">`, el('subsystemCode', subsystem.code), ...(subsystem.name === undefined ? [] : [el('subsystemName', subsystem.name)]), '</subsystem>')
    }
    out.push('</member>')
  }
  for (const server of m.securityServers) {
    out.push('<securityServer>', el('owner', idOf('m', server.ownerKey)), el('serverCode', server.serverCode), el('address', server.address))
    for (const hash of server.authCertHashes) out.push(el('authCertHash', hash))
    for (const client of server.clientKeys) {
      out.push(el('client', client.subsystem === null ? idOf('m', client.member) : idOf('s', client.subsystem)))
    }
    if (server.maintenance !== undefined) {
      out.push('<inMaintenanceMode>', ...(server.maintenance.message === null ? [] : [el('message', server.maintenance.message)]), '</inMaintenanceMode>')
    }
    out.push('</securityServer>')
  }
  for (const group of m.globalGroups) {
    out.push('<globalGroup>', el('groupCode', group.code), el('description', group.description))
    for (const member of group.members) out.push(identifierToXml(member, 'groupMember', 'ns2'))
    out.push('</globalGroup>')
  }
  out.push('<globalSettings>')
  for (const c of m.memberClasses) out.push('<memberClass>', el('code', c.code), el('description', c.description), '</memberClass>')
  out.push(el('ocspFreshnessSeconds', m.ocspFreshnessSeconds), '</globalSettings>', '</ns3:conf>\n')
  return out.join('')
}

export interface PrivateParametersModel {
  instance: string
  managementServiceAddress: string
  /** The TLS certificate of `managementServiceAddress` the security server pins (pr-mserv §2.3). */
  authCertRegServiceCert?: Uint8Array
  managementServiceProvider: ClientId
  timeStampingIntervalSeconds: number
}

/** Private parameters V3: no federation anchors in a lab. */
export function privateParametersXml(m: PrivateParametersModel): string {
  return [
    HEADER,
    `<ns3:conf ${ROOT_NS}>`,
    el('instanceIdentifier', m.instance),
    '<managementService>',
    el('authCertRegServiceAddress', m.managementServiceAddress),
    ...(m.authCertRegServiceCert === undefined ? [] : [el('authCertRegServiceCert', b64(m.authCertRegServiceCert))]),
    identifierToXml(m.managementServiceProvider, 'managementRequestServiceProviderId', 'ns2'),
    '</managementService>',
    el('timeStampingIntervalSeconds', m.timeStampingIntervalSeconds),
    '</ns3:conf>\n',
  ].join('')
}

/** The optional FETCHINTERVAL part (`ocsp-fetchinterval-conf.xsd`): how often servers refresh OCSP responses. */
export function fetchIntervalXml(seconds: number): string {
  return [HEADER, `<ns3:conf ${ROOT_NS}>`, el('ocspFetchInterval', seconds), '</ns3:conf>\n'].join('')
}

/** A configuration anchor (§5.1; the element is `downloadURL`, not the spec example's `downloadURI`). */
export function anchorXml(m: { instance: string; generatedAt: Date; downloadUrl: string; verificationCert: Uint8Array }): string {
  return [
    HEADER,
    `<ns3:configurationAnchor ${ROOT_NS}>\n`,
    `    ${el('generatedAt', m.generatedAt.toISOString())}\n`,
    `    ${el('instanceIdentifier', m.instance)}\n`,
    '    <source>\n',
    `        ${el('downloadURL', m.downloadUrl)}\n`,
    `        ${el('verificationCert', b64(m.verificationCert))}\n`,
    '    </source>\n',
    '</ns3:configurationAnchor>\n',
  ].join('')
}
