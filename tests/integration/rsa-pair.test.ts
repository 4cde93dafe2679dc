import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findRecordsByQueryId } from '../../src-main/message-log'
import { verificationTrustFromGlobalConf, verifyAsicContainer, verifySignature } from '../../src-main/signature'
import { startLabPair, withSlowConsumerToken, type LabPair } from './lab-pair'

/**
 * RSA keys stay fully supported next to the EC default (issue 15 §4): a pair whose authentication and signing keys are
 * RSA-2048 exchanges messages signed `rsa-sha512` (X-Road's `SHA512withRSA`), directly and in a batch, both sides log
 * them, and a batch-signed request's time-stamped ASiC container verifies.
 */
let pair: LabPair
const CONSUMER = 'xRoadInstance=LAB&memberClass=GOV&memberCode=1001&subsystemCode=consumer'
const RSA_SHA512 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512'

beforeAll(async () => {
  pair = await startLabPair({ keyAlgorithm: 'rsa-2048', messageLog: { timeStampingIntervalSeconds: 3600 } })
}, 60_000)

afterAll(async () => {
  await pair?.close()
})

async function exchange(id: number): Promise<string> {
  const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/${id}`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
  expect(response.status).toBe(200)
  await response.arrayBuffer()
  return response.headers.get('x-road-id') as string
}

describe('a pair with RSA-2048 keys', () => {
  it('signs a lone request directly with rsa-sha512; both sides log it and it verifies', async () => {
    const queryId = await exchange(1)
    for (const side of [pair.consumer, pair.provider]) {
      const [request] = findRecordsByQueryId(side.server.core.databases.messageLog, queryId)
      expect(request!.signatureXml).toContain(RSA_SHA512)
      expect(request!.hashChain).toBeNull()
      verifySignature(request!.signatureXml, {
        parts: { '/message.xml': request!.message }, expectedSigner: pair.consumer.subsystem,
        trust: verificationTrustFromGlobalConf(side.server.core.globalConf.current()!.snapshot), atTime: new Date(request!.timeMs),
      })
    }
  })

  it('signs concurrent requests in a batch behind a slow token; the provider verifies them and a container verifies', async () => {
    const signer = pair.consumer.server.core.signer
    const before = signer.batchStats()
    const queryIds = await withSlowConsumerToken(pair, 150, () => Promise.all(Array.from({ length: 6 }, (_, i) => exchange(10 + i))))
    expect(signer.batchStats().signatures - before.signatures).toBeLessThan(6)
    const batched = queryIds.find((id) => findRecordsByQueryId(pair.provider.server.core.databases.messageLog, id)[0]!.hashChain !== null)
    expect(batched).toBeDefined()
    const [logged] = findRecordsByQueryId(pair.provider.server.core.databases.messageLog, batched!)
    expect(logged!.signatureXml).toContain(RSA_SHA512)

    const response = await fetch(`${pair.consumer.clientProxyUrl}/asic?queryId=${encodeURIComponent(batched!)}&${CONSUMER}&requestOnly&unique&force`)
    expect(response.status).toBe(200)
    const snapshot = pair.consumer.server.core.globalConf.current()!.snapshot
    const result = await verifyAsicContainer(Buffer.from(await response.arrayBuffer()), (instance) => verificationTrustFromGlobalConf(snapshot, instance))
    expect(result.signature.hashChain).toBeDefined()
    expect(result.signer).toEqual(pair.consumer.subsystem)
  }, 30_000)
})
