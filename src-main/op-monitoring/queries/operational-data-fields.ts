import { decodeIdentifier, type XRoadId } from '@shared/domain/identifiers'
import type { OperationalRecord } from '../operational-record'

/**
 * The operational data record as `getSecurityServerOperationalData` returns it (PR-OPMON Annex B,
 * query_operational_data_response_payload_schema.yaml; X-Road's `OperationalDataRecord`): identifiers split into their
 * parts, fields without a value left out (X-Road writes the payload with Jackson's NON_NULL inclusion).
 */
export type XRoadOperationalRecord = Record<string, string | number | boolean>

/**
 * Every output field (X-Road's `OperationalDataOutputSpecFields.OUTPUT_FIELDS`: the declared fields of
 * `OperationalDataRecord` but its id). `outputSpec` may name only these; `xRequestId` is one of them though the
 * protocol document's list omits it.
 */
export const OUTPUT_FIELDS: ReadonlySet<string> = new Set([
  'monitoringDataTs', 'securityServerInternalIp', 'securityServerType', 'requestInTs', 'requestOutTs', 'responseInTs',
  'responseOutTs', 'clientXRoadInstance', 'clientMemberClass', 'clientMemberCode', 'clientSubsystemCode',
  'serviceXRoadInstance', 'serviceMemberClass', 'serviceMemberCode', 'serviceSubsystemCode', 'serviceCode', 'restMethod',
  'restPath', 'xRoadVersion', 'serviceVersion', 'representedPartyClass', 'representedPartyCode', 'messageId',
  'messageUserId', 'messageIssue', 'messageProtocolVersion', 'clientSecurityServerAddress', 'serviceSecurityServerAddress',
  'requestSize', 'responseSize', 'requestMimeSize', 'requestAttachmentCount', 'responseMimeSize', 'responseAttachmentCount',
  'succeeded', 'faultCode', 'faultString', 'xRequestId', 'statusCode', 'serviceType',
])

/** The one field only the owner and the central monitoring client see (`PUBLIC_OUTPUT_FIELDS` leaves it out). */
export const PRIVATE_OUTPUT_FIELD = 'securityServerInternalIp'

function decoded(encoded: string | undefined): XRoadId | undefined {
  if (encoded === undefined) return undefined
  try {
    return decodeIdentifier(encoded)
  } catch {
    return undefined
  }
}

/**
 * A stored record in X-Road's field names. Gatehouse stores no internal IP, MIME sizes, attachment counts or
 * X-Road version for a record, so those fields are never present. `representedParty` is stored as `class/code`.
 */
export function toXRoadRecord(r: OperationalRecord): XRoadOperationalRecord {
  const out: XRoadOperationalRecord = {
    monitoringDataTs: r.monitoringDataTs,
    securityServerType: r.securityServerType,
    requestInTs: r.requestInTs,
  }
  const put = (name: string, value: string | number | boolean | undefined): void => {
    if (value !== undefined) out[name] = value
  }
  put('requestOutTs', r.requestOutTs)
  put('responseInTs', r.responseInTs)
  put('responseOutTs', r.responseOutTs)
  const client = decoded(r.clientId)
  if (client !== undefined && (client.objectType === 'MEMBER' || client.objectType === 'SUBSYSTEM')) {
    put('clientXRoadInstance', client.xRoadInstance)
    put('clientMemberClass', client.memberClass)
    put('clientMemberCode', client.memberCode)
    if (client.objectType === 'SUBSYSTEM') put('clientSubsystemCode', client.subsystemCode)
  }
  const service = decoded(r.serviceId)
  if (service !== undefined && service.objectType === 'SERVICE') {
    put('serviceXRoadInstance', service.xRoadInstance)
    put('serviceMemberClass', service.memberClass)
    put('serviceMemberCode', service.memberCode)
    put('serviceSubsystemCode', service.subsystemCode)
    put('serviceCode', service.serviceCode)
    put('serviceVersion', service.serviceVersion)
  }
  put('restMethod', r.restMethod)
  put('restPath', r.restPath)
  if (r.representedParty !== undefined) {
    const slash = r.representedParty.indexOf('/')
    if (slash < 0) put('representedPartyCode', r.representedParty)
    else {
      if (slash > 0) put('representedPartyClass', r.representedParty.slice(0, slash))
      put('representedPartyCode', r.representedParty.slice(slash + 1))
    }
  }
  put('messageId', r.messageId)
  put('messageUserId', r.messageUserId)
  put('messageIssue', r.messageIssue)
  put('messageProtocolVersion', r.messageProtocolVersion)
  put('clientSecurityServerAddress', r.clientSecurityServerAddress)
  put('serviceSecurityServerAddress', r.serviceSecurityServerAddress)
  put('requestSize', r.requestSize)
  put('responseSize', r.responseSize)
  put('succeeded', r.succeeded)
  put('faultCode', r.faultCode)
  put('faultString', r.faultString)
  put('xRequestId', r.xRequestId)
  put('statusCode', r.statusCode)
  put('serviceType', r.serviceType)
  return out
}

/**
 * The fields a response carries (`OperationalDataRecordQuery.configureOutputFields` and
 * `OperationalDataRecordManager.removeMonitoringDataTsIfNotSpecified`): the requested ones, all when none are
 * requested; a client that sees only its own records never gets the internal IP.
 */
export function responseFields(outputFields: ReadonlySet<string>, publicOnly: boolean): ReadonlySet<string> {
  const fields = new Set(outputFields.size === 0 ? OUTPUT_FIELDS : outputFields)
  if (publicOnly) fields.delete(PRIVATE_OUTPUT_FIELD)
  return fields
}

export function projectRecord(record: XRoadOperationalRecord, fields: ReadonlySet<string>): XRoadOperationalRecord {
  const out: XRoadOperationalRecord = {}
  for (const [name, value] of Object.entries(record)) if (fields.has(name)) out[name] = value
  return out
}
