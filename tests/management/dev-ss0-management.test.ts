import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { encodeIdentifier, memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { createGlobalConfService, GlobalConf, parseConfigurationAnchor, type GlobalConfSnapshot } from '../../src-main/global-conf'
import { answerOcspRequest } from '../../src-main/lab'
import {
  buildManagementResponse, createManagementRequests, decodeManagementParts, parseManagementRequest, settleWithGlobalConf,
  verifyManagementSignature, type ManagementParts, type ManagementRequests, type SignaturePart,
} from '../../src-main/management'
import { closeDatabase, migrate, openDatabase, systemClock, type WritableDb } from '../../src-main/platform'
import { createManagementAdmin } from '../../src-main/admin/management-admin'
import type { AdminDomains } from '../../src-main/admin/domain-support'
import { ADMIN_API_METHODS } from '@shared/admin-api/admin-api-methods'
import { createServerConf, serverConfMigrations, type ServerConf } from '../../src-main/server-conf'
import { createSigner, importXroadKeyConf, type Signer, type XroadKeyConfImportReport } from '../../src-main/signer'
import { soapFaultXml } from '../../src-main/soap'
import { runGatehouse, runGatehouseAsync } from '../support/cli'
import { fixturePath, readFixture } from '../support/fixtures'
import { FIXTURES, XMLLINT, describeWith, itWith } from '../support/requirements'
import { loadTestCert, makeCertificate } from '../signature/support/test-pki'
import { PR_MSERV, annexAExample, annexBWsdl, envelopeOf } from './support/pr-mserv'

/**
 * Gatehouse as security server DEV/COM/1234/SS0 of X-Road's DEV test instance, without a real central server: the
 * DEV anchor and signed V6 global configuration (downloaded from a local copy of the CS web root), SS0's software
 * token imported from X-Road's keyconf.xml + .p12 files, OCSP answered with the DEV Test CA's OCSP key, and a test
 * double of the DEV central server (HTTPS for authCertReg with a TLS certificate minted by the Test CA; its
 * management service for the requests that reach it through a client proxy). The requests are checked against
 * request.xsd and pr-mserv Annex B, compared field by field with Annex A, and their signatures verified with OpenSSL
 * against SS0's certificates, as X-Road's central server verifies them (`Signature.getInstance(name)` over the SOAP part).
 */
const PIN = 'Secret1234'
const OWNER = memberId('DEV', 'COM', '1234')
const SS0 = securityServerId(OWNER, 'SS0')
const NEW_CLIENT = subsystemId('DEV', 'COM', '1234', 'test-consumer')
/** Listed on SS0 in the DEV global configuration, kept SAVED here. */
const LISTED_CLIENT = subsystemId('DEV', 'COM', '1234', 'TestSaved')
const CLI_CLIENT = subsystemId('DEV', 'COM', '1234', 'TestService')

interface Received {
  contentType: string
  body: Buffer
  parts: ManagementParts
}

describeWith([FIXTURES], 'management requests as DEV/COM/1234/SS0 against a DEV central server double', () => {
  let dir: string
  let db: WritableDb
  let signer: Signer
  let serverConf: ServerConf
  let conf: GlobalConf
  let devConf: GlobalConf
  let report: XroadKeyConfImportReport
  let requests: ManagementRequests
  let caDer: Buffer
  const servers: Server[] = []
  const received: Received[] = []
  const double: { mode: 'ok' | 'fault'; nextId: number; proxyUrl: string; authUrl: string; tlsCert: Buffer } = { mode: 'ok', nextId: 391, proxyUrl: '', authUrl: '', tlsCert: Buffer.alloc(0) }

  const listen = async (server: Server): Promise<string> => {
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    return `127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const readBody = (req: IncomingMessage): Promise<Buffer> => new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)))
  })
  /** The DEV central server's management service: reads the parts as X-Road's decoder callbacks do and answers. */
  const managementService = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req)
    const contentType = String(req.headers['content-type'])
    try {
      const { parts, request } = decodeManagementParts(contentType, body)
      received.push({ contentType, body, parts })
      if (double.mode === 'fault') {
        res.writeHead(500, { 'content-type': 'text/xml; charset=UTF-8' })
        res.end(soapFaultXml('Server.invalid_request', `Client ${encodeIdentifier(NEW_CLIENT)} is already registered on SS0`, 'trace-7'))
        return
      }
      res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' })
      res.end(buildManagementResponse(request, double.nextId++))
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/xml; charset=UTF-8' })
      res.end(soapFaultXml('Server.invalid_request', (error as Error).message, ''))
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-mgmt-ss0-'))
    const ca = await loadTestCert(readFixture('pki', 'dev-test-ca', 'CA', 'certs', 'ca.cert.pem').toString(), readFixture('pki', 'dev-test-ca', 'CA', 'private', 'ca.key.pem').toString())
    caDer = ca.der
    const ocspCert = new X509Certificate(readFixture('pki', 'dev-test-ca', 'CA', 'certs', 'ocsp.cert.pem'))
    const ocspKey = (await loadTestCert(readFixture('pki', 'dev-test-ca', 'CA', 'certs', 'ocsp.cert.pem').toString(), readFixture('pki', 'dev-test-ca', 'CA', 'private', 'ocsp.key.pem').toString())).keyObject

    // The DEV CS web root (global configuration) and the Test CA's OCSP responder.
    const publicDir = fixturePath('globalconf', 'dev-signed-V3-V6', 'public')
    const confHost = await listen(createHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://cs')
      const path = url.pathname === '/internalconf' ? `/V${url.searchParams.get('version') ?? '2'}/internalconf` : url.pathname
      try {
        const content = readFileSync(join(publicDir, path))
        res.writeHead(200).end(content)
      } catch {
        res.writeHead(404).end()
      }
    }))
    const ocspHost = await listen(createHttpServer((req, res) => {
      void readBody(req).then((body) => {
        res.writeHead(200, { 'content-type': 'application/ocsp-response' })
        res.end(answerOcspRequest(body, {
          caCert: caDer, responderCert: Buffer.from(ocspCert.raw), responderKey: ocspKey, status: () => ({ status: 'good' }), now: new Date(), validitySeconds: 3600,
        }))
      })
    }))

    // Import the anchor and download global configuration.
    const anchorXml = readFixture('globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml').toString('utf8')
      .replace(/https?:\/\/cs\/internalconf/g, `http://${confHost}/internalconf`)
    const confService = createGlobalConfService({ dir: join(dir, 'globalconf'), anchor: parseConfigurationAnchor(anchorXml) })
    devConf = (await confService.refresh()) as GlobalConf
    expect(devConf.getServerById(SS0)?.address).toBe('ss0')

    // The double's HTTPS endpoint for authCertReg, with a TLS certificate the Test CA issues; the instance's
    // private parameters point at it (the real DEV CS TLS key is not among the fixtures).
    const tls = await makeCertificate({ subject: 'CN=cs', issuer: ca })
    double.tlsCert = tls.der
    const authHost = await listen(createHttpsServer({ cert: new X509Certificate(tls.der).toString(), key: tls.keyObject.export({ format: 'pem', type: 'pkcs8' }) }, (req, res) => void managementService(req, res)))
    double.authUrl = `https://${authHost}/managementservice/`
    double.proxyUrl = `http://${await listen(createHttpServer((req, res) => void managementService(req, res)))}/`
    conf = withManagementService(devConf, double.authUrl, double.tlsCert)

    db = openDatabase(join(dir, 'serverconf.sqlite'))
    migrate(db, [serverConfMigrations])
    serverConf = createServerConf(db)
    serverConf.initialize(OWNER, 'SS0')
    serverConf.addClient(NEW_CLIENT)
    serverConf.addClient(LISTED_CLIENT)
    serverConf.addClient(CLI_CLIENT)
    signer = createSigner({
      db, dataDir: dir,
      ocsp: { sources: () => ({ issuerDer: caDer, urls: [`http://${ocspHost}`], responderCertsDer: [Buffer.from(ocspCert.raw)] }), autoRefresh: false },
    })
    await signer.initSoftwareToken('Gatehouse-Pin-1')
    await signer.login('0', 'Gatehouse-Pin-1')
    report = await importXroadKeyConf(signer, {
      keyconf: readFixture('pki', 'ss0-softtoken', 'keyconf.xml'), tokenDir: fixturePath('pki', 'ss0-softtoken', 'softtoken'), xroadPin: PIN, tokenId: '0',
      approvedCaCertificates: [caDer],
    })
    await signer.refreshOcsp()
    // The client proxy leg is the double too: it stands for this server's client proxy, the DEV CS's security server
    // and its management service in one (the SOAP pipeline between them is tested on its own).
    requests = createManagementRequests({
      db, serverConf, signer, globalConf: () => conf, serverId: () => serverConf.identity()?.serverId, clientProxyUrl: () => double.proxyUrl, timeoutMs: 5000,
    })
  }, 60_000)

  afterAll(async () => {
    await signer?.close()
    if (db !== undefined) closeDatabase(db)
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
    rmSync(dir, { recursive: true, force: true })
  })

  it('imports SS0\'s soft token from keyconf.xml and the .p12 files, with certificates and states', () => {
    expect(report.imported.map((i) => [i.key.id, i.key.usage])).toEqual([
      ['df9242d3cbde6dac8058d2878340c3b527041fd0', 'auth'], ['1342b84b4829bb79226ab268b4d8e70b01068613', 'sign'], ['fa73509f9e9dfb7a3d92b3d34da6bd20374a24b0', 'sign'],
    ])
    expect(report.imported.flatMap((i) => i.certificates.map((c) => c.state))).toEqual(['registered', 'active', 'active'])
    expect(report.notMigrated.map((n) => n.what)).toEqual(['X-Road token PIN file .softtoken.p12'])
    const auth = signer.listCertificates().find((c) => c.keyId === 'df9242d3cbde6dac8058d2878340c3b527041fd0')
    // The DEV instance lists SS0 with this certificate's hash (authCertHash 7Meh1uzL…).
    expect(devConf.authCertHashMatches(SS0, auth?.certDer as Buffer)).toBe(true)
  })

  it('clientReg: sent once through the client proxy, signed by DEV/COM/1234, answered with a request id; state and record follow', async () => {
    const outcome = await requests.registerClient(NEW_CLIENT, { subsystemName: 'Test consumer' })
    expect(outcome.dryRun).toBe(false)
    if (outcome.dryRun) return
    expect(outcome.requestId).toBe(391)
    expect(outcome.prepared.via).toBe('client-proxy')
    expect(serverConf.findClient(NEW_CLIENT)?.state).toBe('REGISTRATION_IN_PROGRESS')
    expect(requests.list({ subject: encodeIdentifier(NEW_CLIENT) })).toMatchObject([{ service: 'clientReg', requestId: 391, status: 'SUBMITTED', detail: 'Test consumer' }])
    const last = received.at(-1) as Received
    expect(last.contentType).toMatch(/^multipart\/related; type="application\/octet-stream"; charset=UTF-8; boundary=/)
    expect(last.parts.form).toBe('signed')
    if (last.parts.form !== 'signed') return
    const signCert = signer.listCertificates().find((c) => c.keyId === '1342b84b4829bb79226ab268b4d8e70b01068613')
    expect(last.parts.cert.equals(signCert?.certDer as Buffer)).toBe(true)
    expect(opensslVerify(last.parts.soap, last.parts.signature, last.parts.cert)).toBe(true)
    expect(verifyManagementSignature(last.parts.soap, last.parts.signature, last.parts.cert)).toBe(true)
    expect(new X509Certificate(last.parts.cert).verify(new X509Certificate(caDer).publicKey)).toBe(true)
    expect(last.parts.ocsp.byteLength).toBeGreaterThan(100)
    const message = parseManagementRequest(last.parts.soap)
    expect(message.header.client).toEqual(OWNER)
    expect(message.header.service).toEqual({ objectType: 'SERVICE', xRoadInstance: 'DEV', memberClass: 'COM', memberCode: '1234', subsystemCode: 'MANAGEMENT', serviceCode: 'clientReg' })
    expect(message.body).toEqual({ service: 'clientReg', server: SS0, client: NEW_CLIENT, subsystemName: 'Test consumer' })
  })

  it('a refusal (SOAP fault) leaves the state unchanged, stores nothing and carries the central server\'s text', async () => {
    double.mode = 'fault'
    try {
      const before = requests.list().length
      await expect(requests.registerClient(LISTED_CLIENT)).rejects.toThrow(/is already registered on SS0/)
      expect(serverConf.findClient(LISTED_CLIENT)?.state).toBe('SAVED')
      expect(requests.list()).toHaveLength(before)
    } finally {
      double.mode = 'ok'
    }
  })

  it('an unreachable central server and a TLS certificate other than global configuration\'s are refused without state change', async () => {
    const auth = signer.listCertificates().find((c) => c.keyId === 'df9242d3cbde6dac8058d2878340c3b527041fd0')
    signer.setCertificateState(auth?.id as string, 'saved')
    // The real DEV authCertRegServiceCert: the double's certificate is not it.
    conf = withManagementService(devConf, double.authUrl, devConf.managementService?.authCertRegServiceCert as Uint8Array)
    await expect(requests.registerAuthCertificate(auth?.id as string, 'ss0.example.org')).rejects.toMatchObject({ code: 'ssl_authentication_failed' })
    conf = withManagementService(devConf, 'https://127.0.0.1:1/managementservice/', double.tlsCert)
    await expect(requests.registerAuthCertificate(auth?.id as string, 'ss0.example.org')).rejects.toMatchObject({ code: 'network_error' })
    conf = withManagementService(devConf, double.authUrl, double.tlsCert)
    expect(requests.list({ subject: `authcert:${sha256(auth?.certDer as Buffer)}` })).toEqual([])
    expect(requests.authCertState(signer.listCertificates().find((c) => c.id === auth?.id) as never)).toBe('saved')
  })

  it('authCertReg: HTTPS to authCertRegServiceAddress with proof of possession and the owner\'s signature, both verifying against SS0\'s certificates', async () => {
    const auth = signer.listCertificates().find((c) => c.keyId === 'df9242d3cbde6dac8058d2878340c3b527041fd0')
    const outcome = await requests.registerAuthCertificate(auth?.id as string, 'ss0.example.org')
    if (outcome.dryRun) throw new Error('not sent')
    expect(outcome.prepared.via).toBe('central-server')
    expect(outcome.requestId).toBeGreaterThan(391)
    expect(requests.authCertState(signer.listCertificates().find((c) => c.id === auth?.id) as never)).toBe('registration in progress')
    const parts = (received.at(-1) as Received).parts
    expect(parts.form).toBe('authCertReg')
    if (parts.form !== 'authCertReg') return
    expect(parts.authCert.equals(auth?.certDer as Buffer)).toBe(true)
    expect(opensslVerify(parts.soap, parts.authSignature, parts.authCert)).toBe(true)
    expect(opensslVerify(parts.soap, parts.ownerSignature, parts.ownerCert)).toBe(true)
    expect(opensslVerify(parts.soap, parts.authSignature, parts.ownerCert)).toBe(false)
    expect(parts.authSignature.algorithm).toBe('SHA512withRSA')
    const body = parseManagementRequest(parts.soap).body
    expect(body).toEqual({ service: 'authCertReg', server: SS0, address: 'ss0.example.org', authCert: auth?.certDer })
    // Global configuration lists the certificate's hash on SS0: the request is confirmed.
    const changed = settleWithGlobalConf({ db, serverConf, signer }, devConf, SS0)
    expect(changed.some((c) => c.startsWith('authCertReg'))).toBe(true)
    expect(requests.list({ openOnly: true }).map((r) => r.service)).toEqual(['clientReg'])
  })

  it('dry run: the exact message is built and signed but not sent', async () => {
    const count = received.length
    const outcome = await requests.registerClient(LISTED_CLIENT, { dryRun: true })
    expect(outcome.dryRun).toBe(true)
    expect(received).toHaveLength(count)
    expect(serverConf.findClient(LISTED_CLIENT)?.state).toBe('SAVED')
    expect(outcome.prepared.encoded.body.includes(outcome.prepared.parts.soap)).toBe(true)
  })

  it('a client the DEV configuration lists on SS0 becomes registered and its request confirmed', async () => {
    const outcome = await requests.registerClient(LISTED_CLIENT, { subsystemName: 'Test saved' })
    if (outcome.dryRun) throw new Error('not sent')
    serverConf.setClientState(LISTED_CLIENT, 'REGISTERED')
    const changed = settleWithGlobalConf({ db, serverConf, signer }, devConf, SS0)
    expect(changed.some((c) => c.includes('TestSaved'))).toBe(true)
    expect(requests.openRequest(encodeIdentifier(LISTED_CLIENT))).toBeUndefined()
  })

  it('CLI: register client --dry-run --out writes the exact signed multipart and sends nothing', () => {
    const count = received.length
    const out = join(dir, 'clientReg.mime')
    const run = runGatehouse(['register', 'client', '--data-dir', dir, '--client', 'DEV/COM/1234/TestService', '--pin', 'Gatehouse-Pin-1', '--dry-run', '--out', out, '--json'])
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const json = JSON.parse(run.stdout) as { dryRun: boolean; service: string; contentType: string; via: string }
    expect(json).toMatchObject({ dryRun: true, service: 'clientReg', via: 'client-proxy' })
    const { parts } = decodeManagementParts(json.contentType, readFileSync(out))
    if (parts.form !== 'signed') throw new Error('not signed')
    expect(opensslVerify(parts.soap, parts.signature, parts.cert)).toBe(true)
    expect(received).toHaveLength(count)
    expect(serverConf.findClient(CLI_CLIENT)?.state).toBe('SAVED')
  })

  it('CLI: register delete-client sends clientDeletion through the given client proxy and the request is stored', async () => {
    // Asynchronous: the central server double answers from this process.
    const run = await runGatehouseAsync(['register', 'delete-client', '--data-dir', dir, '--client', 'DEV/COM/1234/test-consumer', '--client-proxy', double.proxyUrl, '--json'])
    expect(run.status).toBe(0)
    const json = JSON.parse(run.stdout) as { requestId: number; service: string }
    expect(json.service).toBe('clientDeletion')
    expect(json.requestId).toBeGreaterThan(391)
    expect(serverConf.findClient(NEW_CLIENT)?.state).toBe('DELETION_IN_PROGRESS')
    expect((received.at(-1) as Received).contentType).toBe('text/xml; charset=UTF-8')
    expect(requests.list({ subject: encodeIdentifier(NEW_CLIENT) }).map((r) => [r.service, r.status, r.sentBy])).toEqual([['clientDeletion', 'SUBMITTED', 'cli'], ['clientReg', 'SUPERSEDED', undefined]])
  })

  it('admin API: dry run answers the exact message; disableClient is sent and the client shows DISABLING_IN_PROGRESS until the instance drops it', async () => {
    expect(ADMIN_API_METHODS.management.registerClient).toEqual({ roles: ['registration-officer'], audit: true })
    expect(ADMIN_API_METHODS.management.registerAuthCertificate.roles).toEqual(['security-officer'])
    const admin = createManagementAdmin({
      domains: () => ({ serverConf, signer, globalConf: { current: () => conf } }) as unknown as AdminDomains,
      serverConfDb: () => db, clock: systemClock, clientProxyUrl: () => double.proxyUrl,
    })
    const dry = await admin.disableClient({ client: 'DEV/COM/1234/TestSaved', dryRun: true })
    expect(dry).toMatchObject({ dryRun: true, service: 'clientDisable', requestId: null, request: null })
    expect(decodeManagementParts(dry.message?.contentType as string, Buffer.from(dry.message?.base64 as string, 'base64')).request.body.service).toBe('clientDisable')
    await expect(admin.renameClient({ client: 'DEV/COM/1234/TestSaved', subsystemName: ' ' })).rejects.toMatchObject({ code: 'validation_failed', detail: 'subsystemName' })
    const sent = await admin.disableClient({ client: 'DEV/COM/1234/TestSaved' })
    expect(sent.request).toMatchObject({ service: 'clientDisable', status: 'SUBMITTED' })
    expect(requests.clientState(serverConf.findClient(LISTED_CLIENT) as never)).toBe('DISABLING_IN_PROGRESS')
    await expect(admin.disableClient({ client: 'DEV/COM/1234/TestSaved' })).rejects.toMatchObject({ code: 'action_not_possible' })
    settleWithGlobalConf({ db, serverConf, signer }, devConf, SS0)
    expect(requests.clientState(serverConf.findClient(LISTED_CLIENT) as never)).toBe('DISABLING_IN_PROGRESS')
    expect((await admin.requests({ openOnly: true })).map((r) => r.service)).toContain('clientDisable')
  })

  itWith([XMLLINT], 'the requests validate against X-Road\'s request.xsd', () => {
    for (const service of ['clientReg', 'authCertReg'] as const) {
      const soap = lastSoap(received, service)
      expect(xmllint(bodyDocument(soap, service), fixturePath('schemas/common-domain/request.xsd'))).toBe('')
    }
  })

  itWith([XMLLINT, PR_MSERV], 'the requests validate against pr-mserv Annex B and match Annex A field by field', () => {
    const schemaDir = mkdtempSync(join(tmpdir(), 'gh-annexb-'))
    try {
      const wsdl = annexBWsdl()
      const schemas = [...wsdl.matchAll(/<xsd:schema[\s\S]*?<\/xsd:schema>/g)].map((m) => m[0])
      const [ids, requestSchema] = schemas as [string, string]
      writeFileSync(join(schemaDir, 'identifiers.xsd'), `<?xml version="1.0"?>\n${ids.replace('<xsd:schema ', '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" ')}`)
      writeFileSync(join(schemaDir, 'request.xsd'), `<?xml version="1.0"?>\n${requestSchema
        .replace('<xsd:schema ', '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" ')
        .replace('<xsd:import namespace="http://x-road.eu/xsd/identifiers" id="id"/>', '<xsd:import namespace="http://x-road.eu/xsd/identifiers" schemaLocation="identifiers.xsd"/>')}`)
      for (const service of ['clientReg', 'authCertReg'] as const) {
        const soap = lastSoap(received, service)
        expect(xmllint(bodyDocument(soap, service), join(schemaDir, 'request.xsd'))).toBe('')
        const ours = parseManagementRequest(soap)
        const theirs = parseManagementRequest(Buffer.from(envelopeOf(annexAExample(service).request).trim()))
        // DEV's management service provider is a subsystem (DEV/COM/1234/MANAGEMENT), Annex A's a member.
        expect(elementPaths(soap).filter((p) => p !== 'Envelope/Header/service/subsystemCode'))
          .toEqual(elementPaths(Buffer.from(envelopeOf(annexAExample(service).request).trim())))
        expect(Object.keys(ours.header).sort()).toEqual(Object.keys(theirs.header).sort())
        expect(Object.keys(ours.body).sort()).toEqual(Object.keys(theirs.body).sort())
        expect([ours.header.client.objectType, ours.header.service.serviceCode, ours.header.protocolVersion]).toEqual([theirs.header.client.objectType, theirs.header.service.serviceCode, '4.0'])
      }
    } finally {
      rmSync(schemaDir, { recursive: true, force: true })
    }
  })
})

function withManagementService(base: GlobalConf, address: string, cert: Uint8Array): GlobalConf {
  const snapshot: GlobalConfSnapshot = base.snapshot
  const own = snapshot.instances.get(snapshot.instanceIdentifier)
  if (own?.private === undefined) throw new Error('no private parameters')
  const instances = new Map(snapshot.instances)
  instances.set(snapshot.instanceIdentifier, {
    ...own, private: { ...own.private, managementService: { ...own.private.managementService, authCertRegServiceAddress: address, authCertRegServiceCert: cert } },
  })
  return new GlobalConf({ ...snapshot, instances })
}

function sha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex')
}

function lastSoap(received: readonly Received[], service: string): Buffer {
  const found = [...received].reverse().find((r) => parseManagementRequest(r.parts.soap).body.service === service)
  if (found === undefined) throw new Error(`no ${service} received`)
  return found.parts.soap
}

/** OpenSSL's verification of a signature part, with the digest its X-Road algorithm name says. */
function opensslVerify(data: Buffer, signature: SignaturePart, certDer: Buffer): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mgmt-verify-'))
  try {
    writeFileSync(join(dir, 'data'), data)
    writeFileSync(join(dir, 'sig'), signature.value)
    writeFileSync(join(dir, 'pub.pem'), new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'pem' }))
    const digest = `-sha${signature.algorithm.slice(3, 6)}`
    execFileSync('openssl', ['dgst', digest, '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'data')], { stdio: 'pipe' })
    return true
  } catch {
    return false
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The body's wrapper element as a standalone document, with the namespaces it uses. */
function bodyDocument(soap: Buffer, service: string): string {
  const text = soap.toString('utf8')
  const body = text.slice(text.indexOf('<SOAP-ENV:Body>') + '<SOAP-ENV:Body>'.length, text.indexOf('</SOAP-ENV:Body>'))
  return body.replace(`<xroad:${service}>`, `<xroad:${service} xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">`)
}

function xmllint(document: string, schema: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mgmt-xsd-'))
  try {
    writeFileSync(join(dir, 'doc.xml'), document)
    return execFileSync('xmllint', ['--noout', '--schema', schema, join(dir, 'doc.xml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Element paths (local names) of a message in document order, without the identifier parts' values. */
function elementPaths(xml: Buffer): string[] {
  const paths: string[] = []
  const stack: string[] = []
  for (const m of xml.toString('utf8').matchAll(/<(\/?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[^>]*?(\/?)>/g)) {
    if (m[0].startsWith('<?')) continue
    if (m[1] === '/') {
      stack.pop()
      continue
    }
    stack.push(m[3] as string)
    paths.push(stack.join('/'))
    if (m[4] === '/') stack.pop()
  }
  return paths
}
