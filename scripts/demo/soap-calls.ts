import { randomBytes } from 'node:crypto'
import { formatIdPath, identifierToXml, serviceId, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage, multipartSegments, type DecodedSoapMessage, type SoapMessage } from '../../src-main/soap'
import type { AdminClient } from '../lib/admin-client'
import type { LabPair } from '../lib/lab-pair'
import { OPENAPI_PATH, SOAP_NAMESPACE, SOAP_OPERATION, SOAP_OPERATION_VERSION, SOAP_PATH } from '../lib/sample-service-soap'

/**
 * The demo's SOAP side (issue 12 item 5): the provider's administrator adds the sample service's WSDL and an OpenAPI
 * description of its REST side through the admin API (as the GUI and CLI do), opens the SOAP operation to the
 * consumer; then the consumer's information system sends SOAP through its client proxy — plain `text/xml`, SOAP with
 * attachments (multipart/related) and MTOM — and calls every metaservice (PR-META, PR-MREST).
 */
export interface DemoSoap {
  sent: number
  ok: number
  /** Attachments that went to the service and came back in its answer byte for byte. */
  attachments: number
}

export interface DemoMetaservices {
  listClients: boolean
  /** SOAP and REST listMethods both listed what the provider offers. */
  listMethods: boolean
  /** SOAP and REST allowedMethods both listed what the consumer may call. */
  allowedMethods: boolean
  getWsdl: boolean
  getOpenAPI: boolean
}

/** The provider's services the demo (and `demo --serve`) sets up beside the REST service `pets`. */
export interface DemoServices {
  /** The SOAP operation, without its version (the version is `soapVersion`). */
  soap: ServiceId
  soapVersion: string
  /** The REST service read from the sample service's OpenAPI description. */
  openApi: ServiceId
}

export const OPENAPI_SERVICE_CODE = 'petsOpenApi'

interface DescriptionDto {
  id: number
  services: Array<{ id: string; serviceCode: string; serviceVersion: string | null }>
}

/** Adds the WSDL (enabled, the operation open to the consumer) and the OpenAPI description on the provider. */
export async function addSoapServices(admin: AdminClient, pair: LabPair, sampleUrl: string): Promise<DemoServices> {
  const provider = formatIdPath(pair.provider.subsystem)
  const wsdl = await admin.call<DescriptionDto>('serviceDescriptions', 'addWsdl', [{ client: provider, url: `${sampleUrl}${SOAP_PATH}?wsdl` }])
  await admin.call('serviceDescriptions', 'setEnabled', [{ id: wsdl.id, enabled: true }])
  const operation = wsdl.services.find((s) => s.serviceCode === SOAP_OPERATION && s.serviceVersion === SOAP_OPERATION_VERSION)
  if (operation === undefined) throw new Error(`the sample WSDL gave ${wsdl.services.map((s) => s.id).join(', ')}, not ${SOAP_OPERATION}/${SOAP_OPERATION_VERSION}`)
  await admin.call('accessRights', 'grant', [{ service: operation.id, subject: formatIdPath(pair.consumer.subsystem) }])
  await admin.call('serviceDescriptions', 'addOpenApi', [{ client: provider, serviceCode: OPENAPI_SERVICE_CODE, url: `${sampleUrl}${OPENAPI_PATH}`, ignoreWarnings: true }])
  return {
    soap: serviceId(pair.provider.subsystem, SOAP_OPERATION),
    soapVersion: SOAP_OPERATION_VERSION,
    openApi: serviceId(pair.provider.subsystem, OPENAPI_SERVICE_CODE),
  }
}

interface Answer {
  status: number
  contentType: string
  body: Buffer
  decoded?: DecodedSoapMessage
  problem?: string
}

async function postSoap(clientProxyUrl: string, contentType: string, body: Buffer): Promise<Answer> {
  const response = await fetch(`${clientProxyUrl}/`, { method: 'POST', headers: { 'Content-Type': contentType }, body, signal: AbortSignal.timeout(15_000) })
  const bytes = Buffer.from(await response.arrayBuffer())
  const type = response.headers.get('content-type') ?? ''
  try {
    const decoded = decodeSoapMessage(type, bytes, splitMultipart)
    if (decoded.soap.kind === 'fault') return { status: response.status, contentType: type, body: bytes, decoded, problem: `fault ${decoded.soap.faultCode}: ${decoded.soap.faultString}` }
    return { status: response.status, contentType: type, body: bytes, decoded }
  } catch (error) {
    return { status: response.status, contentType: type, body: bytes, problem: `unreadable answer (${type}): ${(error as Error).message}` }
  }
}

let sequence = 0

/** An X-Road SOAP 4.0 request from `client` to `service` whose body is `bodyXml`. */
export function soapEnvelope(client: ClientId, service: ServiceId, bodyXml: string, id = `demo-soap-${++sequence}-${Date.now()}`): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
  <SOAP-ENV:Header>
    ${identifierToXml(client, 'xroad:client')}
    ${identifierToXml(service, 'xroad:service')}
    <xroad:id>${id}</xroad:id>
    <xroad:userId>EE:PIN:demo</xroad:userId>
    <xroad:protocolVersion>4.0</xroad:protocolVersion>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body>${bodyXml}</SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`
}

function echoRequest(pair: LabPair, text: string, extra = ''): Buffer {
  const service = serviceId(pair.provider.subsystem, SOAP_OPERATION, SOAP_OPERATION_VERSION)
  return Buffer.from(soapEnvelope(pair.consumer.subsystem, service, `<e:${SOAP_OPERATION} xmlns:e="${SOAP_NAMESPACE}"><e:text>${text}</e:text>${extra}</e:${SOAP_OPERATION}>`), 'utf8')
}

function echoed(soap: SoapMessage): string | undefined {
  return /<(?:\w+:)?echo>([^<]*)<\/(?:\w+:)?echo>/.exec(soap.bytes.toString('utf8'))?.[1]
}

/** Three SOAP exchanges with the sample operation: plain, with two attachments, MTOM with one. */
export async function sendSoap(pair: LabPair, clientProxyUrl: string, print: (line: string) => void, fail: (message: string) => void): Promise<DemoSoap> {
  const counts: DemoSoap = { sent: 0, ok: 0, attachments: 0 }
  const binary = randomBytes(64 * 1024)
  const cases: Array<{ name: string; text: string; contentType: string; body: Buffer; attachments: Buffer[] }> = []
  cases.push({ name: 'plain text/xml', text: 'plain SOAP', contentType: 'text/xml; charset=UTF-8', body: echoRequest(pair, 'plain SOAP'), attachments: [] })
  {
    const boundary = `demo-swa-${randomBytes(6).toString('hex')}`
    const attachments = [binary, Buffer.from('a second, text attachment', 'utf8')]
    const body = Buffer.concat(multipartSegments<Buffer>(boundary, [
      { contentType: 'text/xml; charset=UTF-8', headers: [['Content-ID', '<root@demo>']], body: echoRequest(pair, 'SOAP with attachments') },
      { contentType: 'application/octet-stream', headers: [['Content-ID', '<bin@demo>']], body: attachments[0]! },
      { contentType: 'text/plain; charset=UTF-8', headers: [['Content-ID', '<txt@demo>']], body: attachments[1]! },
    ]))
    cases.push({ name: 'SOAP with attachments', text: 'SOAP with attachments', contentType: `multipart/related; type="text/xml"; start="<root@demo>"; boundary=${boundary}`, body, attachments })
  }
  {
    const boundary = `demo-mtom-${randomBytes(6).toString('hex')}`
    const data = binary.subarray(0, 4096)
    const include = '<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:data@demo"/>'
    const body = Buffer.concat(multipartSegments<Buffer>(boundary, [
      { contentType: 'application/xop+xml; charset=UTF-8; type="text/xml"', headers: [['Content-ID', '<root@demo>']], body: echoRequest(pair, 'MTOM', `<e:data>${include}</e:data>`) },
      { contentType: 'application/octet-stream', headers: [['Content-ID', '<data@demo>'], ['Content-Transfer-Encoding', 'binary']], body: data },
    ]))
    cases.push({
      name: 'MTOM', text: 'MTOM', body, attachments: [data],
      contentType: `multipart/related; type="application/xop+xml"; start="<root@demo>"; start-info="text/xml"; boundary=${boundary}`,
    })
  }
  for (const c of cases) {
    counts.sent++
    const answer = await postSoap(clientProxyUrl, c.contentType, c.body).catch((error: Error) => ({ problem: error.message }) as Answer)
    const soap = answer.decoded?.soap
    let problem = answer.problem
    if (problem === undefined && soap?.kind === 'message') {
      if (echoed(soap) !== c.text) problem = `the answer does not echo "${c.text}": ${soap.bytes.toString('utf8').slice(0, 300)}`
      else if (soap.header.requestHash === undefined) problem = 'the answer has no xroad:requestHash'
    }
    const back = answer.decoded?.attachments ?? []
    const intact = c.attachments.filter((a, i) => back[i]?.body.equals(a) === true).length
    if (problem === undefined && intact !== c.attachments.length) problem = `${intact} of ${c.attachments.length} attachments came back intact`
    if (problem !== undefined) fail(`SOAP ${c.name}: ${problem}`)
    else {
      counts.ok++
      counts.attachments += intact
    }
    print(`SOAP ${c.name.padEnd(22)} ${c.body.length} bytes, ${c.attachments.length} attachment(s) → ${problem === undefined ? `${answer.contentType.split(';')[0]}, echo "${c.text}", requestHash, ${intact} attachment(s) back` : problem}`)
  }
  return counts
}

function xroadList(soap: SoapMessage, element: string): string[] | undefined {
  const text = soap.bytes.toString('utf8')
  const start = text.search(new RegExp(`<(?:\\w+:)?${element}[\\s>]`))
  if (start < 0) return undefined
  return [...text.slice(start).matchAll(/<(?:\w+:)?service\b[\s\S]*?<(?:\w+:)?serviceCode>([^<]*)<\/(?:\w+:)?serviceCode>(?:\s*<(?:\w+:)?serviceVersion>([^<]*)<)?/g)]
    .map((m) => (m[2] === undefined ? m[1]! : `${m[1]!}/${m[2]}`))
}

/** Each metaservice once, checked against what the provider offers and what the consumer may call. */
export async function callMetaservices(
  pair: LabPair, clientProxyUrl: string, services: DemoServices, print: (line: string) => void, fail: (message: string) => void,
): Promise<DemoMetaservices> {
  const result: DemoMetaservices = { listClients: false, listMethods: false, allowedMethods: false, getWsdl: false, getOpenAPI: false }
  const soapOperation = `${SOAP_OPERATION}/${SOAP_OPERATION_VERSION}`
  const check = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    try {
      print(`  ${name.padEnd(22)} ${await run()}`)
      return true
    } catch (error) {
      fail(`${name}: ${(error as Error).message}`)
      return false
    }
  }
  const soapMeta = async (code: string, body: string): Promise<Answer & { soap: SoapMessage }> => {
    const request = Buffer.from(soapEnvelope(pair.consumer.subsystem, serviceId(pair.provider.subsystem, code), body), 'utf8')
    const answer = await postSoap(clientProxyUrl, 'text/xml; charset=UTF-8', request)
    if (answer.problem !== undefined || answer.decoded?.soap.kind !== 'message') throw new Error(answer.problem ?? 'no answer')
    return { ...answer, soap: answer.decoded.soap }
  }
  const restMeta = async (path: string, accept = 'application/json'): Promise<{ contentType: string; text: string }> => {
    const response = await fetch(`${clientProxyUrl}/r1/${formatIdPath(pair.provider.subsystem)}/${path}`, {
      headers: { 'X-Road-Client': formatIdPath(pair.consumer.subsystem), Accept: accept }, signal: AbortSignal.timeout(15_000),
    })
    const text = await response.text()
    if (response.status !== 200) throw new Error(`REST ${path}: HTTP ${response.status} ${text.slice(0, 200)}`)
    return { contentType: response.headers.get('content-type') ?? '', text }
  }
  const restCodes = (text: string): string[] => (JSON.parse(text) as { service: Array<{ service_code: string }> }).service.map((s) => s.service_code)
  const expectAll = (what: string, got: string[] | undefined, wanted: string[]): string => {
    if (got === undefined || wanted.some((w) => !got.includes(w))) throw new Error(`${what} listed ${JSON.stringify(got)}, expected ${wanted.join(', ')} among them`)
    return got.join(', ')
  }

  print('Metaservices, asked by the consumer\'s information system:')
  result.listClients = await check('listClients', async () => {
    const xml = await fetch(`${clientProxyUrl}/listClients`, { signal: AbortSignal.timeout(15_000) })
    const text = await xml.text()
    const json = await fetch(`${clientProxyUrl}/listClients?xRoadInstance=${pair.provider.member.xRoadInstance}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(15_000) })
    const members = (await json.json() as { member: Array<{ id: { subsystem_code?: string } }> }).member
    const subsystems = members.flatMap((m) => (m.id.subsystem_code === undefined ? [] : [m.id.subsystem_code]))
    const wanted = [pair.consumer.subsystem, pair.provider.subsystem].map((s) => (s.objectType === 'SUBSYSTEM' ? s.subsystemCode : ''))
    if (xml.status !== 200 || !text.includes('clientList') || wanted.some((w) => !subsystems.includes(w))) {
      throw new Error(`GET /listClients answered ${xml.status}; JSON subsystems ${subsystems.join(', ')}`)
    }
    return `XML (${text.length} bytes) and JSON: ${members.length} clients, subsystems ${subsystems.join(', ')}`
  })
  const soapList = await check('SOAP listMethods', async () => expectAll('listMethods', xroadList((await soapMeta('listMethods', '<xroad:listMethods/>')).soap, 'listMethodsResponse'), [soapOperation]))
  const restList = await check('REST listMethods', async () => expectAll('listMethods', restCodes((await restMeta('listMethods')).text), ['pets', OPENAPI_SERVICE_CODE]))
  result.listMethods = soapList && restList
  const soapAllowed = await check('SOAP allowedMethods', async () => expectAll('allowedMethods', xroadList((await soapMeta('allowedMethods', '<xroad:allowedMethods/>')).soap, 'allowedMethodsResponse'), [soapOperation]))
  const restAllowed = await check('REST allowedMethods', async () => expectAll('allowedMethods', restCodes((await restMeta('allowedMethods')).text), ['pets']))
  result.allowedMethods = soapAllowed && restAllowed
  result.getWsdl = await check('SOAP getWsdl', async () => {
    const answer = await soapMeta('getWsdl', `<xroad:getWsdl><xroad:serviceCode>${services.soap.serviceCode}</xroad:serviceCode><xroad:serviceVersion>${services.soapVersion}</xroad:serviceVersion></xroad:getWsdl>`)
    const wsdl = answer.decoded?.attachments[0]?.body.toString('utf8') ?? ''
    if (!wsdl.includes(`<wsdl:operation name="${SOAP_OPERATION}">`)) throw new Error(`getWsdl answered no WSDL of ${SOAP_OPERATION} (${answer.contentType})`)
    return `the WSDL as an attachment (${wsdl.length} bytes), operation ${SOAP_OPERATION}`
  })
  result.getOpenAPI = await check('REST getOpenAPI', async () => {
    const answer = await restMeta(`getOpenAPI?serviceCode=${services.openApi.serviceCode}`, '*/*')
    if (!answer.text.includes('/pets/{id}')) throw new Error(`getOpenAPI answered no /pets/{id}: ${answer.text.slice(0, 200)}`)
    return `${answer.contentType}, ${answer.text.length} bytes, path /pets/{id}`
  })
  return result
}
