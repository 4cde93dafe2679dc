import { gunzipSync } from 'node:zlib'
import { identifierToXml, serviceId, type ClientId } from '@shared/domain/identifiers'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage } from '../../src-main/soap'
import type { LabPair } from '../lib/lab-pair'
import type { RunningLabPair } from '../lib/lab-pair-servers'

/**
 * The consumer's information system asks the provider's security server for its operational data the X-Road way
 * (PR-OPMON §2: `getSecurityServerOperationalData` of the provider's owner, a SOAP request through the consumer's
 * client proxy). The consumer is not the owner, so it gets the records of its own exchanges: the demo's REST
 * requests as the provider recorded them, as gzip-compressed JSON in a SwA attachment.
 */
export async function showOpmonQuery(
  pair: LabPair, running: RunningLabPair, expectedAtLeast: number, print: (line: string) => void, fail: (message: string) => void,
): Promise<boolean> {
  try {
    // The last minute is held back by default (op-monitor.records-available-timestamp-offset-seconds): serve it now.
    await running.provider.admin.call('settings', 'set', [{ name: 'op-monitor.records-available-timestamp-offset-seconds', value: '0' }])
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const nowS = Math.floor(Date.now() / 1000)
    const request = operationalDataRequest(pair.consumer.subsystem, pair, nowS - 3600, nowS)
    const response = await fetch(`${running.consumer.clientProxyUrl}/`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=UTF-8' }, body: request })
    const bytes = Buffer.from(await response.arrayBuffer())
    const decoded = decodeSoapMessage(response.headers.get('content-type') ?? '', bytes, splitMultipart)
    if (decoded.soap.kind === 'fault') {
      fail(`getSecurityServerOperationalData answered the fault ${decoded.soap.faultCode}: ${decoded.soap.faultString}`)
      return false
    }
    const body = decoded.soap.bytes.toString('utf8')
    const count = Number(/<om:recordsCount>(\d+)<\/om:recordsCount>/.exec(body)?.[1] ?? -1)
    const attachment = decoded.attachments[0]
    const records = attachment === undefined ? [] : (JSON.parse(gunzipSync(attachment.body).toString('utf8')) as { records: Array<Record<string, unknown>> }).records
    const served = records.filter((r) => r.securityServerType === 'Producer' && r.serviceCode === 'pets' && r.succeeded === true).length
    const ownOnly = records.every((r) => names(r, 'client', pair.consumer.subsystem) || names(r, 'service', pair.consumer.subsystem))
    print(`getSecurityServerOperationalData from the provider: ${count} records (gzip JSON attachment ${attachment?.body.length ?? 0} bytes), ` +
      `${served} successful pets exchanges it served, ${ownOnly ? 'only the consumer\'s own' : 'records of others too'}`)
    const ok = attachment?.contentType === 'application/gzip' && count === records.length && served >= expectedAtLeast && ownOnly
    if (!ok) fail(`operational data answer: ${count} records, ${served} served pets exchanges (expected at least ${expectedAtLeast}), own only: ${ownOnly}`)
    return ok
  } catch (error) {
    fail(`getSecurityServerOperationalData: ${(error as Error).message}`)
    return false
  }
}

/** The record's client or service provider is `party` (X-Road's client filter: instance, class, code and subsystem). */
function names(r: Record<string, unknown>, role: 'client' | 'service', party: ClientId): boolean {
  return r[`${role}XRoadInstance`] === party.xRoadInstance && r[`${role}MemberClass`] === party.memberClass && r[`${role}MemberCode`] === party.memberCode &&
    r[`${role}SubsystemCode`] === (party.objectType === 'SUBSYSTEM' ? party.subsystemCode : undefined)
}

function operationalDataRequest(client: ClientId, pair: LabPair, fromS: number, toS: number): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd"
    xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:om="http://x-road.eu/xsd/op-monitoring.xsd">
  <SOAP-ENV:Header>
    ${identifierToXml(client, 'xroad:client')}
    ${identifierToXml(serviceId(pair.provider.member, 'getSecurityServerOperationalData'), 'xroad:service')}
    ${identifierToXml(pair.provider.server, 'xroad:securityServer')}
    <xroad:id>demo-opmon-${Date.now()}</xroad:id>
    <xroad:protocolVersion>4.0</xroad:protocolVersion>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>
    <om:getSecurityServerOperationalData>
      <om:searchCriteria><om:recordsFrom>${fromS}</om:recordsFrom><om:recordsTo>${toS}</om:recordsTo></om:searchCriteria>
    </om:getSecurityServerOperationalData>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`, 'utf8')
}
