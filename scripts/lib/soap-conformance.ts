import 'reflect-metadata'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeIdentifier, serviceProvider, type ClientId, type ServiceId } from '@shared/domain/identifiers'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage, multipartSegments } from '../../src-main/soap'
import { startLabPair, type LabPair } from '../../tests/integration/lab-pair'
import { fixturePath, HAVE_FIXTURES, readFixture } from '../../tests/support/fixtures'
import {
  KNOWN_PAIR_DIFFERENCES, NOT_RUN_ON_PAIR, SOAP_PROXY_CASES, SOAP_PROXY_QUERIES_DIR, XML, type CaseService, type SoapProxyCase,
} from '../../tests/support/soap-proxy-cases'

/**
 * X-Road's proxy test suite against a real Gatehouse pair (issue 12 item 4): every case of the shared table
 * (tests/support/soap-proxy-cases.ts) whose files are present is sent by an information system to the consumer's
 * client proxy, over TLS to the provider, to a loopback service answering as X-Road's DummyService does (the case's
 * answer file with the request's query id), and the outcome — the fault code, or a normal response carrying its
 * `requestHash` — is compared with the one X-Road's test case class expects. A client-side fault also must not have
 * reached the service.
 *
 * The queries name X-Road's test identities (instance EE, members `consumer` and `producer`, subsystems `subsys1` and
 * `subsys2`); the lab pair is built with those names, except the member class: the lab knows COM, GOV and ORG, so
 * `BUSINESS` becomes `COM` in queries and answers (ASCII for ASCII, every other byte as it was). Per case the provider's
 * configuration is changed as the case needs (access right withdrawn, service removed or disabled, an address that does
 * not resolve, a token logged out) and put back afterwards.
 */
export interface ConformanceDifference {
  case: string
  expected: string
  got: string
  reason: string
}

export interface ConformanceResult {
  cases: number
  agree: number
  differ: ConformanceDifference[]
  /** Cases of the table not run, and why (files absent, or only runnable with an emulated proxy). */
  notRun: Record<string, string>
}

/** X-Road's test provider (its queries name member class BUSINESS; see retarget). */
const PRODUCER = { memberClass: 'COM', memberCode: 'producer', subsystems: ['subsys2'] }
const METASERVICES = new Set(['listMethods', 'allowedMethods', 'getWsdl'])
const UNRESOLVABLE_SERVICE_URL = 'http://non.existing.site.com.pom/service'
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** The lab knows no member class BUSINESS; the same bytes otherwise. */
function retarget(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/BUSINESS/g, 'COM'), 'latin1')
}

function readCaseFile(name: string): Buffer {
  return retarget(readFixture(...SOAP_PROXY_QUERIES_DIR, name))
}

function present(name: string): boolean {
  return existsSync(fixturePath(...SOAP_PROXY_QUERIES_DIR, name))
}

/** The service and client a case's query names, when its SOAP can be read at all. */
function addressing(c: SoapProxyCase): { client: ClientId; service: ServiceId } | undefined {
  try {
    const soap = decodeSoapMessage(c.contentType ?? XML, readCaseFile(c.query), splitMultipart).soap
    if (soap.kind !== 'message') return undefined
    return { client: soap.header.client, service: soap.header.service }
  } catch {
    return undefined
  }
}

interface MockService {
  url: string
  calls(): number
  answerWith(service: CaseService, bom: boolean): void
  close(): Promise<void>
}

/** X-Road's DummyService: answers the case's file with the request's `xroad:id` (MessageTestCase.changeQueryId). */
async function startMockService(): Promise<MockService> {
  let calls = 0
  let current: { service: CaseService; bom: boolean } = { service: { file: 'getstate.answer' }, bom: false }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      calls++
      const { service, bom } = current
      if (service.abort === true) {
        // ServiceConnectionAborted: 1000 bytes announced (and no content type), none sent, the connection closed.
        res.writeHead(200, { 'Content-Length': '1000' })
        res.flushHeaders()
        setImmediate(() => res.socket?.destroy())
        return
      }
      const queryId = /<xroad:id>([^<]*)<\/xroad:id>/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? ''
      const file = service.file === undefined ? Buffer.alloc(0) : readCaseFile(service.file)
      const body = Buffer.concat([
        bom ? UTF8_BOM : Buffer.alloc(0),
        Buffer.from(file.toString('latin1').replace(/<xroad:id>[^<]*<\/xroad:id>/g, `<xroad:id>${queryId}</xroad:id>`), 'latin1'),
      ])
      res.writeHead(service.status ?? 200, { 'Content-Type': service.contentType ?? XML, 'Content-Length': String(body.length) })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    answerWith: (service, bom) => void (current = { service, bom }),
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}

/** The cases of the table this run takes (X-Road's, with their files present), and those it leaves out with why. */
export function selectCases(only?: readonly string[]): { run: Array<[string, SoapProxyCase]>; notRun: Record<string, string> } {
  const notRun: Record<string, string> = { ...NOT_RUN_ON_PAIR }
  const run: Array<[string, SoapProxyCase]> = []
  for (const [name, c] of Object.entries(SOAP_PROXY_CASES)) {
    if (c.origin === 'gatehouse') continue
    if (only !== undefined && !only.includes(name)) continue
    const files = [c.query, ...(c.service?.file === undefined ? [] : [c.service.file])]
    const missing = HAVE_FIXTURES ? files.filter((f) => !present(f)) : files
    if (missing.length > 0) notRun[name] = `fixture file(s) absent: ${missing.join(', ')}`
    else run.push([name, c])
  }
  if (only !== undefined) for (const name of Object.keys(notRun)) if (!only.includes(name)) delete notRun[name]
  return { run, notRun }
}

interface Pair {
  pair: LabPair
  mock: MockService
  /** The services the queries name, each open to the clients that call it. */
  services: Map<string, { id: ServiceId; clients: ClientId[] }>
  /** Each service's own WSDL description (so one can be removed alone), by encoded service id. */
  descriptions: Map<string, number>
}

/** A service in a WSDL description of its own, enabled and open to `clients` (the description is not fetched). */
function addService(p: Pair, id: ServiceId, url: string, clients: readonly ClientId[]): void {
  const conf = p.pair.provider.server.core.serverConf
  const description = conf.addWsdlDescription(serviceProvider(id), `${p.mock.url}/wsdl/${randomUUID()}`, [{
    code: id.serviceCode, ...(id.serviceVersion === undefined ? {} : { version: id.serviceVersion }), url,
  }])
  conf.setServiceDescriptionEnabled(description.id, true)
  for (const client of clients) conf.grantAccess(id, client)
  p.descriptions.set(encodeIdentifier(id), description.id)
}

async function startPair(cases: Array<[string, SoapProxyCase]>): Promise<Pair> {
  const mock = await startMockService()
  let pair: LabPair | undefined
  try {
    pair = await startLabPair({
      identities: {
        instance: 'EE',
        consumer: { memberClass: 'COM', memberCode: 'consumer', subsystems: ['subsys1'] },
        provider: PRODUCER,
      },
    })
    // The owners are clients of their own servers, as X-Road's test suite has them (its queries come from the member).
    for (const side of [pair.consumer, pair.provider]) {
      const conf = side.server.core.serverConf
      if (conf.findClient(side.member) === undefined) conf.addClient(side.member, 'REGISTERED')
      else if (!conf.isRegisteredClient(side.member)) conf.setClientState(side.member, 'REGISTERED')
    }
    const services = new Map<string, { id: ServiceId; clients: ClientId[] }>()
    for (const [, c] of cases) {
      const named = addressing(c)
      if (named === undefined || METASERVICES.has(named.service.serviceCode)) continue
      if (named.service.memberCode !== PRODUCER.memberCode) continue
      const key = encodeIdentifier(named.service)
      const entry = services.get(key) ?? { id: named.service, clients: [] }
      if (!entry.clients.some((cl) => encodeIdentifier(cl) === encodeIdentifier(named.client))) entry.clients.push(named.client)
      services.set(key, entry)
    }
    const p: Pair = { pair, mock, services, descriptions: new Map() }
    for (const s of services.values()) addService(p, s.id, `${mock.url}/service`, s.clients)
    return p
  } catch (error) {
    await pair?.close()
    await mock.close()
    throw error
  }
}

/** Changes the provider (or a token) as the case needs; returns how to put it back. */
async function arrange(p: Pair, c: SoapProxyCase, named: { client: ClientId; service: ServiceId } | undefined): Promise<() => Promise<void>> {
  const conf = p.pair.provider.server.core.serverConf
  const entry = named === undefined ? undefined : p.services.get(encodeIdentifier(named.service))
  if (c.signingFails !== undefined) {
    // No signing key for the member (KeyConf.getSigningInfo fails): its signing certificate disabled. The token stays
    // logged in, so the authentication key still opens TLS.
    const side = c.signingFails === 'client' ? p.pair.consumer : p.pair.provider
    const signer = side.server.core.signer
    const certs = signer.listCertificates().filter((cert) => cert.memberId !== undefined && cert.storedState !== 'disabled')
    for (const cert of certs) signer.disableCertificate(cert.id)
    return async () => certs.forEach((cert) => signer.activateCertificate(cert.id))
  }
  if (entry === undefined) return async () => {}
  const { id, clients } = entry
  if (c.rights === 'deny') {
    for (const client of clients) conf.revokeAccess(id, client)
    return async () => void clients.forEach((client) => conf.grantAccess(id, client))
  }
  if (c.rights === 'disabled') {
    conf.setServiceEnabled(id, false, 'Out of order')
    return async () => void conf.setServiceEnabled(id, true)
  }
  if (c.rights === 'unknown') {
    const url = conf.findService(id)?.url ?? `${p.mock.url}/service`
    conf.deleteServiceDescription(p.descriptions.get(encodeIdentifier(id))!)
    return async () => addService(p, id, url, clients)
  }
  if (c.provider === 'unknown-host') {
    const url = conf.findService(id)?.url ?? `${p.mock.url}/service`
    conf.updateService(id, { url: UNRESOLVABLE_SERVICE_URL })
    return async () => void conf.updateService(id, { url })
  }
  return async () => {}
}

/** The request as the case's information system sends it: a fresh query id (MessageTestCase.changeQueryId). */
function requestOf(c: SoapProxyCase): { body: Buffer; contentType: string } {
  const id = `conformance-${randomUUID()}`
  const query = Buffer.from(readCaseFile(c.query).toString('latin1').replace(/<xroad:id>[^<]*<\/xroad:id>/, `<xroad:id>${id}</xroad:id>`), 'latin1')
  if (c.bigAttachmentMiB !== undefined) {
    const boundary = `big${randomBytes(8).toString('hex')}`
    const block = randomBytes(1024 * 1024)
    const body = Buffer.concat(multipartSegments<Buffer>(boundary, [
      { contentType: 'text/xml; charset=UTF-8', headers: [], body: query },
      { contentType: 'application/octet-stream', headers: [['Content-Transfer-Encoding', 'binary']], body: Buffer.concat(Array.from({ length: c.bigAttachmentMiB }, () => block)) },
    ]))
    return { body, contentType: `multipart/related; charset=UTF-8; boundary=${boundary}` }
  }
  return { body: c.bom === true ? Buffer.concat([UTF8_BOM, query]) : query, contentType: c.contentType ?? XML }
}

async function runCase(p: Pair, c: SoapProxyCase): Promise<string> {
  const named = addressing(c)
  p.mock.answerWith(c.service ?? { file: 'getstate.answer' }, c.bom === true)
  const restore = await arrange(p, c, named)
  try {
    const before = p.mock.calls()
    const request = requestOf(c)
    const method = c.method ?? 'POST'
    const response = await fetch(`${p.pair.consumer.clientProxyUrl}/`, {
      method,
      headers: { 'Content-Type': request.contentType, ...Object.fromEntries(c.headers ?? []) },
      ...(method === 'GET' ? {} : { body: request.body }),
      signal: AbortSignal.timeout(60_000),
    })
    const text = Buffer.from(await response.arrayBuffer()).toString('latin1')
    const fault = /<faultcode>([^<]*)<\/faultcode>/.exec(text)?.[1]
    let got = fault ?? (/<(?:\w+:)?requestHash\b/.test(text) ? 'message' : `message without requestHash (HTTP ${response.status})`)
    if (fault?.startsWith('client.') === true && p.mock.calls() !== before) got += ' (reached the service)'
    return got
  } finally {
    await restore()
  }
}

/** Runs the selected cases (all by default) against one pair; `print` gets a line per case. */
export async function runSoapConformance(options: { only?: readonly string[]; print?: (line: string) => void } = {}): Promise<ConformanceResult> {
  const print = options.print ?? (() => {})
  const { run, notRun } = selectCases(options.only)
  const differ: ConformanceDifference[] = []
  let agree = 0
  if (run.length === 0) return { cases: 0, agree: 0, differ, notRun }
  const p = await startPair(run)
  try {
    for (const [name, c] of run) {
      const expected = c.fault ?? 'message'
      const got = await runCase(p, c).catch((error: Error) => `no answer: ${error.message}`)
      if (got === expected) agree++
      else differ.push({ case: name, expected, got, reason: KNOWN_PAIR_DIFFERENCES[name] ?? 'not explained' })
      print(`${got === expected ? 'agree ' : 'DIFFER'} ${name.padEnd(30)} expected ${expected}${got === expected ? '' : `, got ${got}`}`)
    }
  } finally {
    await p.pair.close()
    await p.mock.close()
  }
  return { cases: run.length, agree, differ, notRun }
}
