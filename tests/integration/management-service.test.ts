import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { subsystemId, type ClientId } from '@shared/domain/identifiers'
import { configureManagementServices } from '../../src-main/admin'
import { createManagementSender, type ManagementSender } from '../../src-main/management'
import { SECURITY_SERVER_OWNERS_GROUP } from '../../src-main/lab'
import { SoapFaultError } from '../../src-main/soap'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'
import { startLabPair, type LabPair, type PairSide } from './lab-pair'

/**
 * The lab as a central server on the real path of pr-mserv: the provider's server is the lab's management security
 * server (serving `managementRequestServiceProviderId` with the management services at the lab's URL, open to the
 * security server owners' global group), the consumer's server sends with the security server's own sender —
 * clientReg as a signed X-Road message through its client proxy and the management security server (TLS with its
 * authentication certificate, message signature verified there), authCertReg straight to the lab over HTTPS pinned to
 * global configuration's `authCertRegServiceCert`.
 */
let pair: LabPair
let sender: ManagementSender
let provider: ClientId

function senderOf(side: PairSide): ManagementSender {
  const core = side.server.core
  return createManagementSender({
    globalConf: () => core.globalConf.current(),
    serverId: () => core.serverConf.identity()?.serverId,
    signer: core.signer,
    clientProxyUrl: () => `${side.clientProxyUrl}/`,
    timeoutMs: 20_000,
  })
}

beforeAll(async () => {
  pair = await startLabPair()
  // The lab operator's bootstrap, as X-Road's central server administrator does once.
  provider = pair.lab.designateManagementSecurityServer(pair.provider.serverId)
  configureManagementServices(pair.provider.server.core.serverConf, provider, pair.labServer.urls.managementService)
  // The consumer's server was registered before the group existed (its authCertReg would have added its owner).
  pair.lab.addGlobalGroupMember(SECURITY_SERVER_OWNERS_GROUP, pair.consumer.member)
  await Promise.all([pair.consumer, pair.provider].map((side) => side.server.core.globalConf.service()?.refresh()))
  sender = senderOf(pair.consumer)
}, 120_000)

afterAll(async () => {
  await pair?.close()
})

describe('management requests through the lab\'s management security server', () => {
  it('registers a new subsystem with clientReg through both proxies and answers the request id', async () => {
    const late = subsystemId('LAB', 'GOV', '1001', 'late')
    const sent = await sender.send(await sender.compose({ service: 'clientReg', client: late }))
    expect(sent.requestId).toBeGreaterThan(0)
    expect(sent.prepared.via).toBe('client-proxy')
    expect(pair.lab.listManagementRequests().find((r) => r.id === sent.requestId)).toMatchObject({ type: 'clientReg', status: 'APPROVED' })
    expect(pair.lab.listSecurityServers().find((s) => s.id.serverCode === pair.consumer.serverId.serverCode)?.clients).toContainEqual(late)
    expect(provider).toEqual(subsystemId('LAB', 'GOV', '2002', 'MANAGEMENT'))

    // The same again: the lab's refusal reaches the sender as X-Road's management service words it.
    const again = await sender.compose({ service: 'clientReg', client: late })
    const refusal = await sender.send(again).then(() => undefined, (error: unknown) => error)
    expect(refusal).toBeInstanceOf(SoapFaultError)
    expect((refusal as SoapFaultError).message).toBe('management_request_client_already_registered with statusCode 409')
  }, 60_000)

  it('registers another authentication certificate with authCertReg over HTTPS pinned to the published certificate', async () => {
    const { signer } = pair.consumer.server.core
    const key = await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'auth', algorithm: 'ec-p256', label: 'second auth' })
    const csr = await signer.generateCsr({
      keyId: key.id, subjectOf: pair.consumer.serverId, certificateProfile: 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider', format: 'pem',
    })
    const issued = await pair.lab.issueCertificate(csr.encoded.toString('utf8'), 'auth')
    await signer.importCertificate(issued.der, { approvedCaCertificates: [pair.lab.certificateDer('ca')] })
    const prepared = await sender.compose({ service: 'authCertReg', address: `127.0.0.1:${pair.consumer.serverProxyPort}`, authCert: Buffer.from(issued.der) })
    expect(prepared.via).toBe('central-server')
    const sent = await sender.send(prepared)
    expect(sent.requestId).toBeGreaterThan(0)
    const hash = createHash('sha256').update(issued.der).digest('base64')
    expect(pair.lab.listSecurityServers().find((s) => s.id.serverCode === pair.consumer.serverId.serverCode)?.authCertHashes).toContain(hash)
  }, 60_000)
})
