import { sign as cryptoSign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientId, serviceId, subsystemId } from '@shared/domain/identifiers'
import { ManualClock } from '../../src-main/platform'
import {
  buildSignature, parseSignature, verificationTrust, verifyAsicContainer, type VerificationTrust,
} from '../../src-main/signature'
import { readZipEntries, verifyArchive, type ArchiveFile } from '../../src-main/message-log'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert, type TestTrustSetup } from '../signature/support/test-pki'
import { createHarness, tempDir } from './support/message-log-harness'
import { startOpensslTsa, type OpensslTsa } from './support/openssl-tsa'

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

function soapRequest(id: string): Buffer {
  return Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd"><SOAP-ENV:Header>' +
    '<xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass><id:memberCode>1234</id:memberCode><id:subsystemCode>Client</id:subsystemCode></xroad:client>' +
    '<xroad:service id:objectType="SERVICE"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>555</id:memberCode><id:subsystemCode>Svc</id:subsystemCode><id:serviceCode>getRandom</id:serviceCode></xroad:service>' +
    `<xroad:id>${id}</xroad:id><xroad:protocolVersion>4.0</xroad:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body><prod:getRandom xmlns:prod="http://test.x-road.global/producer"/></SOAP-ENV:Body></SOAP-ENV:Envelope>\n`)
}

/**
 * The whole evidence pipeline with real cryptography: messages signed as X-Road signs them, logged, time-stamped by
 * a real RFC 3161 TSA (openssl) singly and in a batch, then exported and archived as ASiC-E containers that the
 * signature domain's asicverifier accepts.
 */
describe('message-log evidence round trip', () => {
  let pki: TestTrustSetup
  let signer: TestCert
  let tsa: OpensslTsa
  let trust: VerificationTrust
  beforeAll(async () => {
    pki = await makeTrustSetup()
    signer = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'] })
    tsa = await startOpensslTsa()
    trust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{ topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
      approvedTsas: [{ cert: tsa.certificateDer }],
    })
  })
  afterAll(async () => tsa.close())

  async function signedRecord(queryId: string): Promise<{ message: Buffer; signatureXml: string }> {
    const message = soapRequest(queryId)
    const ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(Date.now() - 60_000) })
    const signatureXml = await buildSignature({
      parts: [{ uri: '/message.xml', data: message }], signingCert: signer.der, ocspResponses: [ocsp],
      sign: (req) => cryptoSign('sha512', req.dataToSign, signer.keyObject),
    })
    return { message, signatureXml }
  }

  it('single and batch stamped records export and archive as containers that verify', async () => {
    const h = createHarness(new ManualClock(), {
      tsas: () => [{ url: tsa.url, certificates: [tsa.certificateDer] }],
      containerVerifier: (c) => verifyAsicContainer(c, trust),
      settings: { archiveDir: tempDir('gh-rt-archive-') },
    })
    const client = subsystemId('DEV', 'COM', '1234', 'Client')
    const service = serviceId(clientId('DEV', 'GOV', '555', 'Svc'), 'getRandom')
    try {
      const single = await signedRecord('rt-single')
      await h.log.record({
        queryId: 'rt-single', client, service, response: false, message: single.message, attachments: [],
        signatureXml: single.signatureXml, signatureValue: parseSignature(single.signatureXml).signatureValue,
      })
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 1 })
      const batch = await Promise.all(['rt-b1', 'rt-b2', 'rt-b3'].map((q) => signedRecord(q)))
      await Promise.all(batch.map((b, i) => h.log.record({
        queryId: `rt-b${i + 1}`, client, service, response: false, message: b.message, attachments: [], signatureXml: b.signatureXml,
      })))
      expect(await h.log.timestampNow()).toMatchObject({ stamped: 3 })

      const [singleExport] = await h.log.exportEvidence('rt-single')
      expect(singleExport?.verification).toMatchObject({ valid: true, report: { timestamp: { batch: false } } })
      for (const q of ['rt-b1', 'rt-b2', 'rt-b3']) {
        const [exported] = await h.log.exportEvidence(q)
        expect(exported?.verification, q).toMatchObject({ valid: true, report: { timestamp: { batch: true } } })
      }

      const run = await h.log.archiveNow()
      const archive = run.archives[0] as ArchiveFile
      expect(await verifyArchive(archive.path, { first: true })).toMatchObject({ valid: true, files: 4 })
      for (const entry of (await readZipEntries(archive.path)).filter((e) => e.name.endsWith('.asice'))) {
        await expect(verifyAsicContainer(entry.data, trust)).resolves.toMatchObject({ valid: true })
      }
    } finally {
      await h.close()
    }
  })
})
