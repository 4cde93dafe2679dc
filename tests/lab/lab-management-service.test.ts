import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyObject, sign as signBytes, webcrypto } from 'node:crypto'
import { request as httpsRequest } from 'node:https'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { formatIdPath, memberId, securityServerId, subsystemId, type ClientId, type SecurityServerId } from '@shared/domain/identifiers'
import {
  answerManagementRequest, initLab, openLab, startLabServer, MANAGEMENT_PROVIDER, SECURITY_SERVER_OWNERS_GROUP, type LabAuthority,
} from '../../src-main/lab'
import { answerOcspRequest } from '../../src-main/lab/ocsp-responder'
import { buildOcspRequest } from '../../src-main/signer'
import {
  buildManagementRequest, encodeManagementParts, parseManagementResponse, type ManagementRequestBody,
} from '../../src-main/management'
import { ManualClock } from '../../src-main/platform'
import { itWith } from '../support/requirements'
import { PR_MSERV, annexAExample, envelopeOf } from '../management/support/pr-mserv'
import { tempDirs } from './lab-test-support'
import { runGatehouse } from '../message-log/support/run-cli'

/**
 * The lab as the central server of pr-mserv: requests verified as X-Road's `ManagementRequestVerifier` does, recorded,
 * approved at once or held, refused with X-Road's fault codes and texts. Instance EE with the members of pr-mserv's
 * Annex A (GOV/TS1OWNER owning server TS1, COM/client with subsystem `subsystem`), so Annex A's own envelopes can be sent.
 */
const temp = tempDirs()
const clock = new ManualClock(new Date())
let lab: LabAuthority

interface Party {
  member: ClientId
  signKey: KeyObject
  signCert: Uint8Array
  ocsp: Uint8Array
}

let owner: Party
let clientMember: Party
let other: Party
let authKey: KeyObject
let authCert: Uint8Array
let otherAuthKey: KeyObject
const TS1: SecurityServerId = securityServerId(memberId('EE', 'GOV', 'TS1OWNER'), 'TS1')
const provider = subsystemId('EE', MANAGEMENT_PROVIDER.memberClass, MANAGEMENT_PROVIDER.memberCode, MANAGEMENT_PROVIDER.subsystemCode)
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

async function issued(subject: string, usage: 'sign' | 'auth'): Promise<{ key: KeyObject; cert: Uint8Array }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys: keys as never, signingAlgorithm: ALGORITHM })
  const cert = await lab.issueCertificate(new Uint8Array(csr.rawData), usage)
  return { key: KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey), cert: cert.der }
}

function ocspFor(cert: Uint8Array): Uint8Array {
  return answerOcspRequest(buildOcspRequest(cert, lab.certificateDer('ca')), {
    caCert: lab.certificateDer('ca'), responderCert: lab.certificateDer('ocsp'), responderKey: lab.privateKey('ocsp'),
    status: (serial) => lab.certificateStatus(serial), now: clock.now(), validitySeconds: 3600,
  })
}

async function party(memberClass: string, memberCode: string): Promise<Party> {
  const { key, cert } = await issued(`C=EE, O=${memberClass}, CN=${memberCode}`, 'sign')
  return { member: memberId('EE', memberClass, memberCode), signKey: key, signCert: cert, ocsp: ocspFor(cert) }
}

const sig = (key: KeyObject, data: Buffer): { algorithm: 'SHA256withECDSA'; value: Buffer } =>
  ({ algorithm: 'SHA256withECDSA', value: signBytes('sha256', data, { key, dsaEncoding: 'der' }) })

function authCertReg(options: { by?: Party; sender?: ClientId; proofKey?: KeyObject; server?: SecurityServerId; address?: string; receiver?: ClientId } = {}) {
  const by = options.by ?? owner
  const soap = buildManagementRequest(
    { service: 'authCertReg', server: options.server ?? TS1, address: options.address ?? '127.0.0.1:5500', authCert: Buffer.from(authCert) },
    { sender: options.sender ?? owner.member, receiver: options.receiver ?? provider },
  )
  return encodeManagementParts({
    form: 'authCertReg', soap, authSignature: sig(options.proofKey ?? authKey, soap), ownerSignature: sig(by.signKey, soap),
    authCert: Buffer.from(authCert), ownerCert: Buffer.from(by.signCert), ownerOcsp: Buffer.from(by.ocsp),
  })
}

function signed(body: ManagementRequestBody, by: Party, sender: ClientId = owner.member) {
  const soap = buildManagementRequest(body, { sender, receiver: provider })
  return encodeManagementParts({ form: 'signed', soap, signature: sig(by.signKey, soap), cert: Buffer.from(by.signCert), ocsp: Buffer.from(by.ocsp) })
}

function send(encoded: { contentType: string; body: Buffer }, channel: 'authCertReg' | 'service' = 'service') {
  return answerManagementRequest(lab, encoded.contentType, encoded.body, channel)
}

function fault(answer: { status: number; body: Buffer }): { code: string; text: string } {
  expect(answer.status).toBe(500)
  const xml = answer.body.toString('utf8')
  const unescape = (text: string): string => text.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  return { code: /<faultcode>([^<]*)</.exec(xml)?.[1] ?? '', text: unescape(/<faultstring>([^<]*)</.exec(xml)?.[1] ?? '') }
}

const subsystem = subsystemId('EE', 'COM', 'client', 'subsystem')

beforeAll(async () => {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])
  const dir = join(temp.make(), 'lab')
  await initLab(dir, { instance: 'EE', keyAlgorithm: 'ec-p256', clock })
  lab = openLab(dir, { clock })
  lab.addMember(memberId('EE', 'GOV', 'TS1OWNER'), 'Test Server Owner')
  lab.addMember(memberId('EE', 'COM', 'client'), 'Client Company', 'subsystem')
  lab.addMember(memberId('EE', 'GOV', 'OTHER'), 'Another Agency')
  owner = await party('GOV', 'TS1OWNER')
  clientMember = await party('COM', 'client')
  other = await party('GOV', 'OTHER')
  ;({ key: authKey, cert: authCert } = await issued('C=EE, CN=TS1', 'auth'))
  ;({ key: otherAuthKey } = await issued('C=EE, CN=TS1', 'auth'))
})

afterAll(() => {
  lab?.close()
  temp.cleanup()
})

describe('authCertReg (pr-mserv §2.3)', () => {
  it('refuses a proof of possession made with another key, the owner signature of another member, a sender that is not the owner', () => {
    expect(fault(send(authCertReg({ proofKey: otherAuthKey }), 'authCertReg'))).toEqual({ code: 'invalid_signature_value', text: 'Auth signature verification failed' })
    const byOther = fault(send(authCertReg({ by: other }), 'authCertReg'))
    expect(byOther.code).toBe('invalid_request')
    expect(byOther.text).toMatch(/^Subject identifier \(.*GOV\/OTHER.*\) in certificate does not match security server owner identifier/)
    expect(fault(send(authCertReg({ by: other, sender: other.member }), 'authCertReg'))).toEqual({ code: 'invalid_request', text: 'Sender does not match server owner.' })
    expect(fault(send(authCertReg({ receiver: subsystemId('EE', 'GOV', 'TS1OWNER', 'X') }), 'authCertReg')).text)
      .toBe('Invalid management service address. Contact central server administrator.')
    expect(fault(send(authCertReg({ address: 'not an address!' }), 'authCertReg'))).toEqual({ code: 'invalid_request', text: 'Invalid server address' })
    expect(lab.listManagementRequests()).toEqual([])
  })

  it('registers the server with its certificate, answers the request id and adds the owner to the security server owners', () => {
    const answer = send(authCertReg(), 'authCertReg')
    expect(answer.status).toBe(200)
    const response = parseManagementResponse(answer.body, answer.contentType)
    expect(response.requestId).toBe(answer.request?.id)
    expect(response.body).toMatchObject({ service: 'authCertReg', address: '127.0.0.1:5500' })
    expect(answer.request).toMatchObject({ type: 'authCertReg', status: 'APPROVED', decidedBy: 'auto' })
    const ts1 = lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1')
    expect(ts1?.address).toBe('127.0.0.1:5500')
    expect(ts1?.authCertHashes).toHaveLength(1)
    expect(lab.listGlobalGroups().find((g) => g.id.groupCode === SECURITY_SERVER_OWNERS_GROUP)?.members).toEqual([owner.member])
  })

  it('refuses the same certificate again as X-Road relays the admin service\'s conflict', () => {
    expect(fault(send(authCertReg(), 'authCertReg'))).toEqual({ code: 'internal_error', text: 'management_request_security_server_exists with statusCode 409' })
  })
})

describe('clientReg and the other requests through the management security server', () => {
  itWith([PR_MSERV], 'takes Annex A.1 as written, signed by the subsystem owner\'s key, and answers it as Annex A does', () => {
    const soap = Buffer.from(envelopeOf(annexAExample('clientReg').request), 'utf8')
    const encoded = encodeManagementParts({ form: 'signed', soap, signature: sig(clientMember.signKey, soap), cert: Buffer.from(clientMember.signCert), ocsp: Buffer.from(clientMember.ocsp) })
    const answer = send(encoded)
    expect(answer.status).toBe(200)
    const response = parseManagementResponse(answer.body, answer.contentType)
    expect(response.header.id).toBe('8770348d-c5f1-4f23-989e-7dd91fb59eff')
    expect(response.body).toEqual({ service: 'clientReg', server: TS1, client: subsystem, subsystemName: 'subsystem name' })
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1')?.clients).toEqual([subsystem])
  })

  /**
   * What Annex A.1 registers (the test above, which reads pr-mserv from an X-Road mirror): sent here, as the same
   * request of our own making, when that test could not run, so that the tests after it start from the same registry.
   */
  function annexClientRegistered(): void {
    if (lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1')?.clients.some((c) => formatIdPath(c) === formatIdPath(subsystem))) return
    expect(send(signed({ service: 'clientReg', server: TS1, client: subsystem, subsystemName: 'subsystem name' }, clientMember)).status).toBe(200)
  }

  it('refuses a clientReg signed by another member, a client already registered, an unknown member, the owner itself', async () => {
    annexClientRegistered()
    // A member whose signing certificate outlives its registration.
    lab.addMember(memberId('EE', 'GOV', 'GONE'), 'Former Member')
    const gone = await party('GOV', 'GONE')
    lab.deleteMember(memberId('EE', 'GOV', 'GONE'))
    const byOther = fault(send(signed({ service: 'clientReg', server: TS1, client: subsystem }, other)))
    expect(byOther.code).toBe('invalid_request')
    expect(byOther.text).toMatch(/in certificate does not match client's member identifier/)
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: subsystem }, clientMember)))).toEqual({ code: 'internal_error', text: 'management_request_client_already_registered with statusCode 409' })
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: subsystemId('EE', 'GOV', 'GONE', 'x') }, gone))).text)
      .toBe('management_request_member_not_found with statusCode 409')
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: owner.member }, owner))).text).toBe('management_request_cannot_register_owner with statusCode 400')
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: subsystem }, clientMember), 'authCertReg')).code).toBe('invalid_request')
  })

  it('holds clientReg for the operator when auto-approval is off; a duplicate is refused; approval lists the client', () => {
    lab.setAutoApproval({ clientReg: false })
    const portal = subsystemId('EE', 'GOV', 'OTHER', 'portal')
    const first = send(signed({ service: 'clientReg', server: TS1, client: portal }, other))
    expect(first.status).toBe(200)
    expect(first.request).toMatchObject({ status: 'WAITING', decidedAt: null })
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: portal }, other))).text).toBe('management_request_exists with statusCode 409')
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1')?.clients).toEqual([subsystem])
    const approved = lab.approveManagementRequest(first.request?.id as number)
    expect(approved).toMatchObject({ status: 'APPROVED', decidedBy: 'operator' })
    // ClientRegistrationRequestHandler.approve creates the subsystem the member did not have.
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1')?.clients).toEqual([subsystem, portal])
    expect(() => lab.approveManagementRequest(first.request?.id as number)).toThrow(expect.objectContaining({ code: 'management_request_invalid_state_for_approval' }))
    const held = send(signed({ service: 'clientReg', server: TS1, client: subsystemId('EE', 'GOV', 'OTHER', 'declined') }, other))
    expect(lab.declineManagementRequest(held.request?.id as number)).toMatchObject({ status: 'DECLINED' })
    expect(lab.isRegistered(subsystemId('EE', 'GOV', 'OTHER', 'declined'))).toBe(false)
    lab.setAutoApproval({ clientReg: true })
  })

  it('deletes a client and changes the address at once; refuses a deletion of a client the server does not have', () => {
    const deletion = buildManagementRequest({ service: 'clientDeletion', server: TS1, client: subsystemId('EE', 'GOV', 'OTHER', 'portal') }, { sender: owner.member, receiver: provider })
    expect(send(encodeManagementParts({ form: 'plain', soap: deletion })).request).toMatchObject({ type: 'clientDeletion', status: 'APPROVED' })
    expect(fault(send(encodeManagementParts({ form: 'plain', soap: deletion }))).text).toBe('management_request_server_client_not_found with statusCode 404')
    const notOwner = buildManagementRequest({ service: 'clientDeletion', server: TS1, client: subsystem }, { sender: other.member, receiver: provider })
    expect(fault(send(encodeManagementParts({ form: 'plain', soap: notOwner })))).toEqual({ code: 'invalid_request', text: 'Sender does not match server owner.' })
    expect(send(signed({ service: 'addressChange', server: TS1, address: 'ts1.example.org' }, owner)).status).toBe(200)
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1')?.address).toBe('ts1.example.org')
  })

  it('renames a subsystem and puts the server in and out of maintenance mode, as shared parameters V6 publish them', () => {
    const sharedParams = (): string => readFileSync(lab.regenerateConfiguration().sharedParams, 'utf8')
    // Annex A.1 registered the subsystem with its name.
    annexClientRegistered()
    expect(sharedParams()).toContain('<subsystemCode>subsystem</subsystemCode><subsystemName>subsystem name</subsystemName>')
    expect(send(signed({ service: 'clientRename', server: TS1, client: subsystem, subsystemName: 'Client portal' }, clientMember)).status).toBe(200)
    expect(sharedParams()).toContain('<subsystemCode>subsystem</subsystemCode><subsystemName>Client portal</subsystemName>')
    expect(fault(send(signed({ service: 'clientRename', server: TS1, client: subsystemId('EE', 'COM', 'client', 'other'), subsystemName: 'x' }, clientMember))).text)
      .toBe('management_request_server_client_not_found with statusCode 404')

    expect(send(signed({ service: 'maintenanceModeEnable', server: TS1, message: 'Upgrade until 18:00' }, owner)).request).toMatchObject({ status: 'APPROVED' })
    expect(sharedParams()).toContain('<inMaintenanceMode><message>Upgrade until 18:00</message></inMaintenanceMode></securityServer>')
    expect(fault(send(signed({ service: 'maintenanceModeEnable', server: TS1 }, owner))).text).toBe('management_request_server_already_in_maintenance_mode with statusCode 409')
    expect(send(signed({ service: 'maintenanceModeDisable', server: TS1 }, owner)).status).toBe(200)
    expect(sharedParams()).not.toContain('inMaintenanceMode')
    expect(fault(send(signed({ service: 'maintenanceModeDisable', server: TS1 }, owner))).text).toBe('management_request_server_not_in_maintenance_mode with statusCode 409')
  })

  it('refuses a signing certificate the OCSP responder reports revoked (cert_validation)', () => {
    lab.revoke(other.signCert)
    const revoked = { ...other, ocsp: ocspFor(other.signCert) }
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: subsystemId('EE', 'GOV', 'OTHER', 'late') }, revoked))).code).toBe('cert_validation')
  })
})

describe('the lab server on the wire', () => {
  it('takes authCertReg over HTTPS with the published certificate and clientReg at the service URL', async () => {
    const running = await startLabServer(lab.paths.dir, { ports: { ocsp: 0, tsa: 0, conf: 0, management: 0 }, clock })
    try {
      const privateParams = readFileSync(join(lab.paths.publicRoot, 'V6', readLatest(lab.paths.publicRoot), 'private-params.xml'), 'utf8')
      expect(privateParams).toContain(`<authCertRegServiceAddress>${running.urls.authCertReg}</authCertRegServiceAddress>`)
      const pinned = /<authCertRegServiceCert>([^<]+)</.exec(privateParams)?.[1] as string
      const ss2 = securityServerId(memberId('EE', 'GOV', 'TS1OWNER'), 'TS2')
      const { key, cert } = await issued('C=EE, CN=TS2', 'auth')
      authKey = key
      authCert = cert
      const encoded = authCertReg({ server: ss2, address: '127.0.0.1' })
      const answer = await new Promise<{ status: number; type: string; body: Buffer }>((resolve, reject) => {
        const req = httpsRequest(running.urls.authCertReg, {
          method: 'POST', headers: { 'Content-Type': encoded.contentType },
          // pr-mserv §2.3: the server's TLS certificate must be the one global configuration gives.
          ca: `-----BEGIN CERTIFICATE-----\n${pinned}\n-----END CERTIFICATE-----\n`, checkServerIdentity: () => undefined,
        }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }))
        })
        req.on('error', reject)
        req.end(encoded.body)
      })
      expect(answer.status).toBe(200)
      expect(parseManagementResponse(answer.body, answer.type).requestId).toBeGreaterThan(0)
      const reg = signed({ service: 'clientReg', server: ss2, client: subsystem }, clientMember)
      const viaService = await fetch(running.urls.managementService, { method: 'POST', headers: { 'Content-Type': reg.contentType }, body: reg.body })
      expect(viaService.status).toBe(200)
      expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'TS2')?.clients).toEqual([subsystem])
    } finally {
      await running.close()
    }
  })
})

function readLatest(root: string): string {
  const internal = readFileSync(join(root, 'V6', 'internalconf'), 'utf8')
  return /\/V6\/(\d{23})\/private-params\.xml/.exec(internal)?.[1] as string
}

describe('gatehouse lab requests', () => {
  it('lists the requests, switches auto-approval and approves a held one', async () => {
    const dir = lab.paths.dir
    const off = await runGatehouse('lab', 'requests', 'auto-approve', dir, '--client-reg', 'off', '--json')
    expect(off.code).toBe(0)
    expect(JSON.parse(off.stdout)).toMatchObject({ autoApproval: { authCertReg: true, clientReg: false } })
    const held = send(signed({ service: 'clientReg', server: TS1, client: subsystemId('EE', 'COM', 'client', 'cli') }, clientMember))
    const listed = await runGatehouse('lab', 'requests', 'list', dir, '--pending', '--json')
    expect(JSON.parse(listed.stdout).requests).toEqual([expect.objectContaining({ id: held.request?.id, type: 'clientReg', status: 'WAITING' })])
    const approved = await runGatehouse('lab', 'requests', 'approve', dir, String(held.request?.id), '--json')
    expect(JSON.parse(approved.stdout)).toEqual({ ok: true, id: held.request?.id, status: 'APPROVED' })
    expect((await runGatehouse('lab', 'requests', 'decline', dir, String(held.request?.id))).code).toBe(1)
    expect((await runGatehouse('lab', 'requests', 'auto-approve', dir, '--client-reg', 'maybe')).code).not.toBe(0)
    await runGatehouse('lab', 'requests', 'auto-approve', dir, '--client-reg', 'on')
  })
})

describe('the management security server', () => {
  it('is designated once by the lab operator: its owner\'s MANAGEMENT subsystem becomes the provider, served by it', async () => {
    const { cert } = await issued('C=EE, CN=MGMT', 'auth')
    const owner2 = memberId('EE', 'GOV', 'OTHER')
    const mgmt = securityServerId(owner2, 'MGMT')
    expect(() => lab.designateManagementSecurityServer(mgmt)).toThrow(expect.objectContaining({ code: 'invalid_security_server' }))
    lab.addSecurityServer(owner2, 'MGMT', '127.0.0.1:5600', cert)
    const designated = subsystemId('EE', 'GOV', 'OTHER', 'MANAGEMENT')
    expect(lab.designateManagementSecurityServer(mgmt)).toEqual(designated)
    expect(lab.managementServiceProvider()).toEqual(designated)
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'MGMT')?.clients).toEqual([designated])
    expect(lab.listGlobalGroups().find((g) => g.id.groupCode === SECURITY_SERVER_OWNERS_GROUP)?.members).toContainEqual(owner2)
    // Again: nothing changes, nothing is refused.
    expect(lab.designateManagementSecurityServer(mgmt)).toEqual(designated)
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'MGMT')?.clients).toEqual([designated])
    // authCertReg now names the new provider; the old one is refused.
    expect(fault(send(authCertReg(), 'authCertReg')).text).toBe('Invalid management service address. Contact central server administrator.')
  })
})

describe('clientDisable, clientEnable and ownerChange (X-Road 7.8 request handlers)', () => {
  const ts1 = () => lab.listSecurityServers().find((s) => s.id.serverCode === 'TS1' && s.id.memberCode !== 'OTHER')
  /** The clients shared parameters publish on server `code` (X-Road lists only enabled ones). */
  const published = (code: string): number => {
    const xml = readFileSync(lab.regenerateConfiguration().sharedParams, 'utf8')
    const block = xml.split('<securityServer>').find((b) => b.includes(`<serverCode>${code}</serverCode>`)) ?? ''
    return (block.split('</securityServer>')[0]?.match(/<client>/g) ?? []).length
  }

  it('disables a client at once (kept in the registry, no longer published) and enables it again', () => {
    const before = published('TS1')
    const disabled = send(signed({ service: 'clientDisable', server: TS1, client: subsystem }, clientMember))
    expect(disabled.request).toMatchObject({ type: 'clientDisable', status: 'APPROVED', decidedBy: 'auto' })
    expect(ts1()?.clients).toContainEqual(subsystem)
    expect(ts1()?.disabledClients).toEqual([subsystem])
    expect(published('TS1')).toBe(before - 1)
    // A disabled client is a client of the server still: clientReg is refused, clientEnable taken.
    expect(fault(send(signed({ service: 'clientReg', server: TS1, client: subsystem }, clientMember))).text).toBe('management_request_client_already_registered with statusCode 409')
    expect(send(signed({ service: 'clientEnable', server: TS1, client: subsystem }, clientMember)).request).toMatchObject({ type: 'clientEnable', status: 'APPROVED' })
    expect(ts1()?.disabledClients).toEqual([])
    expect(published('TS1')).toBe(before)
  })

  it('refuses to disable or enable a client the server does not have, and to disable the management service provider', async () => {
    const unknown = subsystemId('EE', 'COM', 'client', 'nowhere')
    expect(fault(send(signed({ service: 'clientDisable', server: TS1, client: unknown }, clientMember))).text).toBe('management_request_server_client_not_found with statusCode 404')
    expect(fault(send(signed({ service: 'clientEnable', server: TS1, client: unknown }, clientMember))).text).toBe('management_request_server_client_not_found with statusCode 404')
    // ClientDisableRequestHandler: MR_FORBIDDEN_DISABLE_MANAGEMENT_SERVICE_CLIENT (GOV/OTHER's MANAGEMENT, designated above).
    const otherAgain = await party('GOV', 'OTHER')
    const mgmt = securityServerId(memberId('EE', 'GOV', 'OTHER'), 'MGMT')
    expect(fault(send(signed({ service: 'clientDisable', server: mgmt, client: lab.managementServiceProvider() }, otherAgain, otherAgain.member))).text)
      .toBe('mr_forbidden_disable_management_service_client with statusCode 409')
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === 'MGMT')?.disabledClients).toEqual([])
  })

  it('refuses an owner that is a subsystem, or a member that is not a client of the server, or that owns a server with that code', async () => {
    expect(fault(send(signed({ service: 'ownerChange', server: TS1, client: subsystem }, clientMember))).text).toBe('management_request_owner_must_be_member with statusCode 400')
    expect(fault(send(signed({ service: 'ownerChange', server: TS1, client: clientMember.member }, clientMember))).text).toBe('management_request_owner_must_be_client with statusCode 400')
    const ts2 = securityServerId(memberId('EE', 'GOV', 'TS1OWNER'), 'TS2')
    const { cert } = await issued('C=EE, CN=TS2', 'auth')
    lab.addSecurityServer(memberId('EE', 'COM', 'client'), 'TS2', '127.0.0.1:5700', cert)
    expect(send(signed({ service: 'clientReg', server: ts2, client: clientMember.member }, clientMember)).request).toMatchObject({ status: 'APPROVED' })
    expect(fault(send(signed({ service: 'ownerChange', server: ts2, client: clientMember.member }, clientMember))).text).toBe('management_request_server_code_exists with statusCode 409')
    expect(lab.listManagementRequests().filter((r) => r.type === 'ownerChange')).toEqual([])
  })

  it('moves the server to the new owner: code, certificates and clients kept, the old owner a client, the owners\' group updated', () => {
    expect(send(signed({ service: 'clientReg', server: TS1, client: clientMember.member }, clientMember)).request).toMatchObject({ status: 'APPROVED' })
    const before = ts1()
    const answer = send(signed({ service: 'ownerChange', server: TS1, client: clientMember.member }, clientMember))
    expect(answer.request).toMatchObject({ type: 'ownerChange', status: 'APPROVED', decidedBy: 'auto' })
    const moved = lab.listSecurityServers().find((s) => s.id.memberCode === 'client' && s.id.serverCode === 'TS1')
    expect(moved?.authCertHashes).toEqual(before?.authCertHashes)
    expect(moved?.clients).toEqual([...(before?.clients ?? []).filter((c) => c.memberCode !== 'client' || c.objectType !== 'MEMBER'), owner.member])
    expect(lab.listSecurityServers().some((s) => s.id.memberCode === 'TS1OWNER' && s.id.serverCode === 'TS1')).toBe(false)
    // The old owner still owns TS2, so it stays in the group; the new owner joins it.
    expect(lab.listGlobalGroups().find((g) => g.id.groupCode === SECURITY_SERVER_OWNERS_GROUP)?.members).toEqual(expect.arrayContaining([owner.member, clientMember.member]))
    // The request names the server by its old id: a second one is refused, the server is not there any more.
    expect(fault(send(signed({ service: 'ownerChange', server: TS1, client: clientMember.member }, clientMember))).text).toBe('management_request_server_not_found with statusCode 409')
  })
})
