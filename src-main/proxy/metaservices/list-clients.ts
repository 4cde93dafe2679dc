import { IDENTIFIERS_NS, type ClientId } from '@shared/domain/identifiers'
import { XROAD_NS } from '../../soap'

/**
 * `GET /listClients` on the client proxy (PR-META §2; X-Road's `MetadataClientRequestProcessor`): the members and
 * subsystems of the instance the `xRoadInstance` parameter names (this server's own when it is absent or blank; a
 * federated instance's from its shared parameters; none for an instance global configuration does not have), each
 * member followed by its subsystems, as in the shared parameters. Each entry has the member's name, and a subsystem
 * also its own name when global configuration gives one (`subsystemName`).
 *
 * XML by default (`text/xml; charset=UTF-8`, `xroad:clientList` of `ClientListType` with the identifiers in their
 * namespace, formatted as JAXB writes it), JSON (`application/json; charset=utf-8`, Jackson's snake_case names, absent
 * values left out) when any `Accept` value names `application/json` — quality parameters ignored, as X-Road does.
 */
export interface ListedClient {
  id: ClientId
  /** The member's name. */
  name?: string
  /** A subsystem's own name (global configuration V5+). */
  subsystemName?: string
}

export const LIST_CLIENTS_PATH = '/listClients'
export const XROAD_INSTANCE_PARAMETER = 'xRoadInstance'

/** `MetadataClientRequestProcessor.acceptsJson`: any listed media type, parameters dropped, is `application/json`. */
export function acceptsJson(accept: readonly string[]): boolean {
  return accept
    .flatMap((value) => value.split(','))
    .some((item) => (item.split(';')[0] ?? '').trim().toLowerCase() === 'application/json')
}

/** The `xRoadInstance` parameter, or undefined when absent or blank (`StringUtils.isBlank`): the own instance. */
export function requestedInstance(query: URLSearchParams): string | undefined {
  const value = query.get(XROAD_INSTANCE_PARAMETER)
  return value === null || value.trim() === '' ? undefined : value
}

export function listClientsResponse(clients: readonly ListedClient[], accept: readonly string[]): { status: number; headers: Array<[string, string]>; body: Buffer } {
  if (acceptsJson(accept)) {
    const member = clients.map((c) => ({
      id: {
        member_class: c.id.memberClass,
        member_code: c.id.memberCode,
        object_type: c.id.objectType,
        ...(c.id.objectType === 'SUBSYSTEM' ? { subsystem_code: c.id.subsystemCode } : {}),
        xroad_instance: c.id.xRoadInstance,
      },
      ...(c.name === undefined ? {} : { name: c.name }),
      ...(c.subsystemName === undefined ? {} : { subsystem_name: c.subsystemName }),
    }))
    return { status: 200, headers: [['Content-Type', 'application/json; charset=utf-8']], body: Buffer.from(JSON.stringify({ member }), 'utf8') }
  }
  return { status: 200, headers: [['Content-Type', 'text/xml; charset=UTF-8']], body: Buffer.from(clientListXml(clients), 'utf8') }
}

/** `xroad:clientList` as JAXB's formatted output (PR-META Annex C.1). */
export function clientListXml(clients: readonly ListedClient[]): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    `<ns2:clientList xmlns:ns1="${IDENTIFIERS_NS}" xmlns:ns2="${XROAD_NS}">`,
  ]
  for (const c of clients) {
    lines.push('    <ns2:member>', `        <ns2:id ns1:objectType="${c.id.objectType}">`)
    lines.push(`            <ns1:xRoadInstance>${escapeXml(c.id.xRoadInstance)}</ns1:xRoadInstance>`)
    lines.push(`            <ns1:memberClass>${escapeXml(c.id.memberClass)}</ns1:memberClass>`)
    lines.push(`            <ns1:memberCode>${escapeXml(c.id.memberCode)}</ns1:memberCode>`)
    if (c.id.objectType === 'SUBSYSTEM') lines.push(`            <ns1:subsystemCode>${escapeXml(c.id.subsystemCode)}</ns1:subsystemCode>`)
    lines.push('        </ns2:id>')
    if (c.name !== undefined) lines.push(`        <ns2:name>${escapeXml(c.name)}</ns2:name>`)
    if (c.subsystemName !== undefined) lines.push(`        <ns2:subsystemName>${escapeXml(c.subsystemName)}</ns2:subsystemName>`)
    lines.push('    </ns2:member>')
  }
  lines.push('</ns2:clientList>')
  return `${lines.join('\n')}\n`
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
}
