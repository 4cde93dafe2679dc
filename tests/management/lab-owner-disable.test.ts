import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeIdentifier, memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { createGlobalConfService, parseConfigurationAnchor, type GlobalConf, type GlobalConfService } from '../../src-main/global-conf'
import { initLab, openLab, startLabServer, SECURITY_SERVER_OWNERS_GROUP, type LabAuthority, type RunningLabServer } from '../../src-main/lab'
import { createManagementRequests, followOwnerChange, settleWithGlobalConf, type ManagementRequests } from '../../src-main/management'
import { closeDatabase, migrate, openDatabase, type WritableDb } from '../../src-main/platform'
import { createServerConf, serverConfMigrations, type ServerConf } from '../../src-main/server-conf'
import { createSigner, type Signer } from '../../src-main/signer'
import { SoapFaultError } from '../../src-main/soap'
import { tempDirs } from '../lab/lab-test-support'

/**
 * ownerChange, clientDisable and clientEnable from this server's sender to the lab's management service and back
 * through global configuration: each request is built and signed by the security server's own sender (owner's or new
 * owner's signing key on the software token, OCSP from the lab), posted to the lab's management service URL (where the
 * management security server's server proxy delivers it; the two proxies in between are covered by
 * tests/integration/management-service.test.ts), recorded and applied by the lab, published in the next global
 * configuration, which this server downloads and settles its states from (`followOwnerChange`, `settleWithGlobalConf`,
 * as `registration-sync` runs them on every download).
 */
const temp = tempDirs()
const PIN = 'Owner-Change-1'
const EJBCA_PROFILE = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'
const OWNER = memberId('LAB', 'GOV', '3003')
const NEW_OWNER = memberId('LAB', 'COM', '4004')
const APP = subsystemId('LAB', 'COM', '4004', 'app')
const SERVER = securityServerId(OWNER, 'SS-OC')
const MOVED = securityServerId(NEW_OWNER, 'SS-OC')

let lab: LabAuthority
let running: RunningLabServer
let db: WritableDb
let serverConf: ServerConf
let signer: Signer
let confService: GlobalConfService
let requests: ManagementRequests

/** Downloads the lab's newest global configuration and settles this server's states from it. */
async function download(): Promise<{ conf: GlobalConf; changed: string[] }> {
  const conf = (await confService.refresh()) as GlobalConf
  const current = serverConf.identity()?.serverId ?? SERVER
  const owner = followOwnerChange({ serverConf, signer }, conf, current)
  const changed = [...(owner.changed === undefined ? [] : [owner.changed]), ...settleWithGlobalConf({ db, serverConf, signer }, conf, owner.serverId)]
  return { conf, changed }
}

beforeAll(async () => {
  const root = temp.make()
  const labDir = join(root, 'lab')
  await initLab(labDir, { keyAlgorithm: 'ec-p256' })
  running = await startLabServer(labDir, { ports: { ocsp: 0, tsa: 0, conf: 0, management: 0 } })
  lab = openLab(labDir)
  lab.addMember(OWNER, 'Owner Agency')
  lab.addMember(NEW_OWNER, 'New Owner Ltd', 'app')

  db = openDatabase(join(root, 'serverconf.sqlite'))
  migrate(db, [serverConfMigrations])
  serverConf = createServerConf(db)
  serverConf.initialize(OWNER, SERVER.serverCode, { sourcePath: running.anchor, content: readFileSync(running.anchor) })
  // A registered server: its owner member's row is REGISTERED (registration-sync does so once the server is listed).
  serverConf.setClientState(OWNER, 'REGISTERED')
  serverConf.addClient(NEW_OWNER, 'REGISTERED')
  serverConf.addClient(APP, 'REGISTERED')
  const caDer = lab.certificateDer('ca')
  signer = createSigner({
    db, dataDir: root,
    ocsp: { sources: () => ({ issuerDer: caDer, urls: [running.urls.ocsp], responderCertsDer: [lab.certificateDer('ocsp')] }), autoRefresh: false },
  })
  const token = await signer.initSoftwareToken(PIN)
  await signer.login(token.id, PIN)
  const issue = async (usage: 'auth' | 'sign', subject: typeof OWNER | typeof SERVER): Promise<Uint8Array> => {
    const key = await signer.generateKey({ tokenId: token.id, usage, algorithm: 'ec-p256', label: `${usage}-${encodeIdentifier(subject)}` })
    const csr = await signer.generateCsr({ keyId: key.id, subjectOf: subject, certificateProfile: EJBCA_PROFILE, format: 'pem' })
    const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), usage)
    const cert = await signer.importCertificate(issued.der, { ...(usage === 'sign' ? { memberId: subject as typeof OWNER } : {}), approvedCaCertificates: [caDer] })
    signer.activateCertificate(cert.id)
    return issued.der
  }
  const authCert = await issue('auth', SERVER)
  await issue('sign', OWNER)
  await issue('sign', NEW_OWNER)
  expect((await signer.refreshOcsp()).every((s) => s.status === 'good')).toBe(true)

  // The starting registry (the lab operator's shortcut; clientReg and authCertReg are tested on their own).
  lab.addSecurityServer(OWNER, SERVER.serverCode, '127.0.0.1:5577', authCert)
  lab.addClient(SERVER, NEW_OWNER)
  lab.addClient(SERVER, APP)
  confService = createGlobalConfService({ dir: join(root, 'globalconf'), anchor: parseConfigurationAnchor(readFileSync(running.anchor, 'utf8')) })
  requests = createManagementRequests({
    db, serverConf, signer, globalConf: () => confService.current(), serverId: () => serverConf.identity()?.serverId,
    // Where the management security server's server proxy delivers the request.
    clientProxyUrl: () => running.urls.managementService, timeoutMs: 10_000,
  })
  await download()
}, 60_000)

afterAll(async () => {
  await signer?.close()
  if (db !== undefined) closeDatabase(db)
  lab?.close()
  await running?.close()
  temp.cleanup()
})

describe('clientDisable and clientEnable', () => {
  it('disables a client: the lab takes it at once, stops publishing it on the server, and the client becomes DISABLED here', async () => {
    const outcome = await requests.disableClient(APP)
    if (outcome.dryRun) throw new Error('not sent')
    expect(outcome.requestId).toBeGreaterThan(0)
    expect(lab.listManagementRequests().find((r) => r.id === outcome.requestId)).toMatchObject({ type: 'clientDisable', status: 'APPROVED', decidedBy: 'auto' })
    const server = lab.listSecurityServers().find((s) => s.id.serverCode === SERVER.serverCode)
    expect(server?.clients).toContainEqual(APP)
    expect(server?.disabledClients).toEqual([APP])
    expect(requests.clientState(serverConf.findClient(APP)!)).toBe('DISABLING_IN_PROGRESS')

    const { conf, changed } = await download()
    expect(conf.isSecurityServerClient(APP, SERVER)).toBe(false)
    expect(changed.some((c) => c.startsWith('clientDisable'))).toBe(true)
    expect(serverConf.findClient(APP)?.state).toBe('DISABLED')
    expect(requests.openRequest(encodeIdentifier(APP))).toBeUndefined()
  }, 30_000)

  it('enables it again: listed once more, REGISTERED here', async () => {
    const outcome = await requests.enableClient(APP)
    if (outcome.dryRun) throw new Error('not sent')
    expect(requests.clientState(serverConf.findClient(APP)!)).toBe('ENABLING_IN_PROGRESS')
    expect(lab.listSecurityServers().find((s) => s.id.serverCode === SERVER.serverCode)?.disabledClients).toEqual([])
    const { conf } = await download()
    expect(conf.isSecurityServerClient(APP, SERVER)).toBe(true)
    expect(serverConf.findClient(APP)?.state).toBe('REGISTERED')
  }, 30_000)

  it('refuses to disable a client the server does not have, with the central server\'s code; nothing changes here', async () => {
    const stranger = subsystemId('LAB', 'COM', '4004', 'stranger')
    serverConf.addClient(stranger, 'REGISTERED')
    const refusal = await requests.disableClient(stranger).then(() => undefined, (error: unknown) => error)
    expect(refusal).toBeInstanceOf(SoapFaultError)
    expect((refusal as SoapFaultError).message).toBe('management_request_server_client_not_found with statusCode 404')
    expect(requests.openRequest(encodeIdentifier(stranger))).toBeUndefined()
    serverConf.setClientState(stranger, 'SAVED')
    serverConf.deleteClient(stranger)
  }, 30_000)
})

describe('ownerChange', () => {
  it('is held for the lab operator when its auto-approval is off; nothing changes until approved', async () => {
    lab.setAutoApproval({ ownerChange: false })
    const outcome = await requests.changeOwner(NEW_OWNER)
    if (outcome.dryRun) throw new Error('not sent')
    const held = lab.listManagementRequests().find((r) => r.id === outcome.requestId)
    expect(held).toMatchObject({ type: 'ownerChange', status: 'WAITING', client: encodeIdentifier(NEW_OWNER) })
    // OwnerChangeRequestHandler.assertNoOtherSubmittedRequests.
    const again = await requests.changeOwner(NEW_OWNER).then(() => undefined, (error: unknown) => error)
    expect((again as SoapFaultError).message).toBe('management_request_exists with statusCode 409')
    await download()
    expect(serverConf.identity()?.owner).toEqual(OWNER)
    expect(requests.list({ openOnly: true }).map((r) => r.service)).toEqual(['ownerChange'])
  }, 30_000)

  it('once approved, global configuration names the new owner and this server takes it: same code, same auth certificate', async () => {
    const held = lab.listManagementRequests().find((r) => r.type === 'ownerChange' && r.status === 'WAITING')
    lab.approveManagementRequest(held!.id)
    const server = lab.listSecurityServers().find((s) => s.id.serverCode === SERVER.serverCode)
    expect(server?.id).toEqual(MOVED)
    // OwnerChangeRequestHandler.approve: the old owner becomes a client, the new one is not one any more.
    expect(server?.clients).toContainEqual(OWNER)
    expect(server?.clients).not.toContainEqual(NEW_OWNER)
    expect(lab.listGlobalGroups().find((g) => g.id.groupCode === SECURITY_SERVER_OWNERS_GROUP)?.members).toEqual([NEW_OWNER])

    const { conf, changed } = await download()
    expect(conf.getServerById(SERVER)).toBeUndefined()
    expect(changed[0]).toMatch(/^owner .*COM.*4004/)
    expect(serverConf.identity()?.serverId).toEqual(MOVED)
    expect(serverConf.identity()?.owner).toEqual(NEW_OWNER)
    expect(changed.some((c) => c.startsWith('ownerChange'))).toBe(true)
    expect(requests.list({ openOnly: true })).toEqual([])
    expect(conf.isSecurityServerClient(OWNER, MOVED)).toBe(true)
    // The next request speaks for the new owner.
    const next = await requests.changeOwner(OWNER, { dryRun: true })
    expect(next.prepared.message.header.client).toEqual(NEW_OWNER)
    lab.setAutoApproval({ ownerChange: true })
  }, 30_000)

})
