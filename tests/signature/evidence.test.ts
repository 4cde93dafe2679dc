import { sign as cryptoSign } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  buildHashChains, buildSignature, buildTimestampHashChains, digest, embedSignatureTimestamp, parseSignature, readAsicContainer, verificationTrust,
  singleTimestampData, verifyAsicContainer, writeAsicContainer, type VerificationTrust,
} from '../../src-main/signature'
import { makeCertificate, makeOcspResponse, makeTimestampToken, makeTrustSetup, type TestCert, type TestTrustSetup } from './support/test-pki'

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

function soapRequest(id: string): Buffer {
  return Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd"><SOAP-ENV:Header>' +
    '<xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass><id:memberCode>1234</id:memberCode><id:subsystemCode>Client</id:subsystemCode></xroad:client>' +
    '<xroad:service id:objectType="SERVICE"><id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>GOV</id:memberClass><id:memberCode>555</id:memberCode><id:subsystemCode>Svc</id:subsystemCode><id:serviceCode>getRandom</id:serviceCode></xroad:service>' +
    `<xroad:id>${id}</xroad:id><xroad:protocolVersion>4.0</xroad:protocolVersion></SOAP-ENV:Header><SOAP-ENV:Body><prod:getRandom xmlns:prod="http://test.x-road.global/producer"/></SOAP-ENV:Body></SOAP-ENV:Envelope>\n`)
}

function freeCentralDirectoryBytes(zip: Buffer): Set<number> {
  const free = new Set<number>()
  for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 46)) {
    for (const o of [4, 5, 36, 37, 38, 39, 40, 41]) free.add(at + o)
  }
  return free
}

/**
 * Whether `container` unpacks to exactly the entries of `original`. A flipped bit inside a DEFLATE stream can, now and
 * then, re-encode the same bytes (a back-reference moved onto identical text): the evidence is then unchanged.
 */
async function sameContents(container: Buffer, original: { entries: Map<string, Buffer> }): Promise<boolean> {
  const read = await readAsicContainer(container)
  return read.entries.size === original.entries.size &&
    [...original.entries].every(([name, data]) => read.entries.get(name)?.equals(data) === true)
}

async function verdict(container: Buffer, trust: VerificationTrust): Promise<string> {
  try {
    await verifyAsicContainer(container, trust)
    return 'valid'
  } catch (error) {
    return (error as { faultCode?: string }).faultCode ?? String(error)
  }
}

describe('message-log evidence: sign, time-stamp, write ASiC-E, verify', () => {
  let pki: TestTrustSetup
  let signer: TestCert
  let trust: VerificationTrust
  const genTime = new Date()

  beforeAll(async () => {
    pki = await makeTrustSetup()
    signer = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'] })
    trust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{ topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
      approvedTsas: [{ cert: pki.tsa.der }],
    })
  })

  async function sign(parts: { message?: Buffer; hashChainResult?: string }): Promise<string> {
    const ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(genTime.getTime() - 60_000) })
    return buildSignature({
      ...(parts.message ? { parts: [{ uri: '/message.xml', data: parts.message }] } : { hashChainResult: parts.hashChainResult }),
      signingCert: signer.der, ocspResponses: [ocsp], sign: (req) => cryptoSign('sha512', req.dataToSign, signer.keyObject),
    })
  }

  it('single time-stamp: the written container has X-Road\'s layout, verifies, and every content byte flip is detected', async () => {
    const message = soapRequest('single-1')
    const signature = await sign({ message })
    const token = await makeTimestampToken({ data: singleTimestampData(signature), tsa: pki.tsa, genTime })
    const container = await writeAsicContainer({ message, signatureXml: embedSignatureTimestamp(signature, token) })
    const asic = await readAsicContainer(container)
    expect(asic.order).toEqual(['mimetype', 'message.xml', 'META-INF/signatures.xml', 'META-INF/manifest.xml'])
    expect(asic.comment).toBe('mimetype=application/vnd.etsi.asic-e+zip')
    expect(container.readUInt16LE(8)).toBe(8) // first entry (mimetype) is DEFLATED, as X-Road writes it
    const result = await verifyAsicContainer(container, trust)
    expect(result.signer).toEqual({ objectType: 'SUBSYSTEM', xRoadInstance: 'DEV', memberClass: 'COM', memberCode: '1234', subsystemCode: 'Client' })
    expect(result.timestamp.batch).toBe(false)

    // Central-directory fields that carry nothing a verifier reports and that writers fill freely
    // (version made by, internal and external attributes) are the only bytes not covered.
    const free = freeCentralDirectoryBytes(container)
    const surviving: number[] = []
    for (let i = 0; i < container.length; i++) {
      if (free.has(i)) continue
      const flipped = Buffer.from(container)
      flipped[i] = flipped[i]! ^ 0x01
      if ((await verdict(flipped, trust)) === 'valid' && !(await sameContents(flipped, asic))) surviving.push(i)
    }
    expect(surviving).toEqual([])
  })

  it('batch signature and batch time-stamp: each record\'s container verifies', async () => {
    const messages = [soapRequest('batch-1'), soapRequest('batch-2'), soapRequest('batch-3')]
    const attachment = Buffer.from('attachment of the first message')
    const sigChains = buildHashChains(messages.map((m, i) => ({
      parts: i === 0
        ? [{ uri: '/message.xml', digest: digest('SHA-512', m) }, { uri: '/attachment1', digest: digest('SHA-512', attachment) }]
        : [{ uri: '/message.xml', digest: digest('SHA-512', m) }],
    })))
    const signature = await sign({ hashChainResult: sigChains.resultXml })
    const signatureDigest = digest('SHA-512', signature)
    // Batch time-stamp over three records (the same signature document here, other records' digests differ).
    const tsChains = buildTimestampHashChains([signature, '<other-record-2/>', '<other-record-3/>'])
    expect(tsChains.chains[0]).toContain(`<ns2:DataRef URI="/META-INF/signatures.xml">\n            <DigestValue>${signatureDigest.toString('base64')}</DigestValue>`)
    const token = await makeTimestampToken({ data: Buffer.from(tsChains.resultXml), tsa: pki.tsa, genTime })
    const container = await writeAsicContainer({
      message: messages[0]!, signatureXml: signature, sigHashChainResult: sigChains.resultXml, sigHashChain: sigChains.chains[0],
      tsHashChainResult: tsChains.resultXml, tsHashChain: tsChains.chains[0], timestampToken: token, attachments: [attachment],
    })
    expect((await readAsicContainer(container)).order).toEqual([
      'mimetype', 'message.xml', 'META-INF/signatures.xml', 'sig-hashchainresult.xml', 'sig-hashchain.xml', 'ts-hashchainresult.xml',
      'ts-hashchain.xml', 'META-INF/manifest.xml', 'META-INF/ASiCManifest.xml', 'META-INF/timestamp.tst', 'attachment1',
    ])
    const result = await verifyAsicContainer(container, trust)
    expect(result.timestamp.batch).toBe(true)
    expect(result.attachments).toEqual([{ name: 'attachment1', verified: true }])

    const second = await writeAsicContainer({
      message: messages[1]!, signatureXml: signature, sigHashChainResult: sigChains.resultXml, sigHashChain: sigChains.chains[1],
      tsHashChainResult: tsChains.resultXml, tsHashChain: tsChains.chains[0], timestampToken: token,
    })
    expect(await verdict(second, trust)).toBe('valid')
    // The time-stamp hash chain of another record does not cover this signature.
    const wrongTs = await writeAsicContainer({
      message: messages[1]!, signatureXml: signature, sigHashChainResult: sigChains.resultXml, sigHashChain: sigChains.chains[1],
      tsHashChainResult: tsChains.resultXml, tsHashChain: tsChains.chains[1], timestampToken: token,
    })
    expect(await verdict(wrongTs, trust)).toBe('malformed_signature')
    // A changed attachment breaks the signature's hash chain.
    const changed = await writeAsicContainer({
      message: messages[0]!, signatureXml: signature, sigHashChainResult: sigChains.resultXml, sigHashChain: sigChains.chains[0],
      tsHashChainResult: tsChains.resultXml, tsHashChain: tsChains.chains[0], timestampToken: token, attachments: [Buffer.from('changed')],
    })
    expect(await verdict(changed, trust)).toBe('malformed_signature.invalid_hash_chain_ref')
  })

  it('a response container is checked against the service provider', async () => {
    const response = Buffer.from(soapRequest('resp-1').toString().replace('<prod:getRandom xmlns:prod="http://test.x-road.global/producer"/>', '<prod:getRandomResponse xmlns:prod="http://test.x-road.global/producer"/>'))
    const signature = await sign({ message: response })
    const token = await makeTimestampToken({ data: parseSignature(signature).signatureValue, tsa: pki.tsa, genTime })
    const container = await writeAsicContainer({ message: response, signatureXml: embedSignatureTimestamp(signature, token) })
    // Signed by DEV/COM/1234, but the provider is DEV/GOV/555.
    expect(await verdict(container, trust)).toBe('incorrect_certificate')
  })
})
