import { createPrivateKey, sign as cryptoSign } from 'node:crypto'
import forge from 'node-forge'
import { expect, it } from 'vitest'
import { parseSharedParameters, type GlobalConfSnapshot } from '../../src-main/global-conf'
import {
  buildSignature, embedSignatureTimestamp, singleTimestampData, verificationTrustFromGlobalConf, verifyAsicContainer, writeAsicContainer,
} from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'
import { loadTestCert, makeOcspResponse, makeTimestampToken } from './support/test-pki'

/** The SS0 sign key of the X-Road 7.8 system-test soft token (PKCS#12, password = token PIN). */
function ss0SignKey(): ReturnType<typeof createPrivateKey> {
  const p12 = readFixture('pki/ss0-softtoken/softtoken/1342B84B4829BB79226AB268B4D8E70B01068613.p12')
  const parsed = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary'))), 'Secret1234')
  const bag = parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!]![0]!
  return createPrivateKey(forge.pki.privateKeyToPem(bag.key as forge.pki.rsa.PrivateKey))
}

function ss0SignCert(): Buffer {
  const keyconf = readFixture('pki/ss0-softtoken/keyconf.xml').toString('utf8')
  const signKey = keyconf.slice(keyconf.indexOf('<keyId>1342B84B4829BB79226AB268B4D8E70B01068613</keyId>'))
  return Buffer.from(/<contents>([^<]+)<\/contents>/.exec(signKey)![1]!, 'base64')
}

const REQUEST = Buffer.from('<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:id="http://x-road.eu/xsd/identifiers" ' +
  'xmlns:xroad="http://x-road.eu/xsd/xroad.xsd"><SOAP-ENV:Header><xroad:client id:objectType="MEMBER"><id:xRoadInstance>DEV</id:xRoadInstance>' +
  '<id:memberClass>COM</id:memberClass><id:memberCode>1234</id:memberCode></xroad:client><xroad:service id:objectType="SERVICE">' +
  '<id:xRoadInstance>DEV</id:xRoadInstance><id:memberClass>COM</id:memberClass><id:memberCode>4321</id:memberCode><id:subsystemCode>S</id:subsystemCode>' +
  '<id:serviceCode>getRandom</id:serviceCode></xroad:service><xroad:id>interop-1</xroad:id><xroad:protocolVersion>4.0</xroad:protocolVersion>' +
  '</SOAP-ENV:Header><SOAP-ENV:Body><prod:getRandom xmlns:prod="http://test.x-road.global/producer"/></SOAP-ENV:Body></SOAP-ENV:Envelope>')

describeFixtures('interop with the X-Road 7.8 DEV instance (V6 global conf, dev-test-ca, SS0 soft token)', () => {
  it('evidence signed with SS0\'s real sign key, OCSP and TSA of the dev-test-ca verifies under the V6 shared parameters', async () => {
    const shared = parseSharedParameters(readFixture('globalconf/dev-signed-V3-V6/public/V6/20251110170000548026000/shared-params.xml'))
    const snapshot: GlobalConfSnapshot = {
      instanceIdentifier: 'DEV', instances: new Map([['DEV', { instanceIdentifier: 'DEV', shared }]]), ocspFetchIntervalSeconds: 1200, verifyNextUpdate: true,
    }
    const trust = verificationTrustFromGlobalConf(snapshot)
    const pem = (path: string): string => readFixture(path).toString('utf8')
    const ca = await loadTestCert(pem('pki/dev-test-ca/CA/certs/ca.cert.pem'), pem('pki/dev-test-ca/CA/private/ca.key.pem'))
    const ocsp = await loadTestCert(pem('pki/dev-test-ca/CA/certs/ocsp.cert.pem'), pem('pki/dev-test-ca/CA/private/ocsp.key.pem'))
    const tsa = await loadTestCert(pem('pki/dev-test-ca/CA/certs/tsa.cert.pem'), pem('pki/dev-test-ca/CA/private/tsa.key.pem'))
    const signCert = ss0SignCert()
    const key = ss0SignKey()
    const now = new Date()
    const ocspResponse = await makeOcspResponse({ cert: signCert, issuer: ca, responder: ocsp, thisUpdate: new Date(now.getTime() - 30_000) })
    const signature = await buildSignature({
      parts: [{ uri: '/message.xml', data: REQUEST }], signingCert: signCert, ocspResponses: [ocspResponse],
      sign: (req) => cryptoSign('sha512', req.dataToSign, key),
    })
    const token = await makeTimestampToken({ data: singleTimestampData(signature), tsa, genTime: now })
    const container = await writeAsicContainer({ message: REQUEST, signatureXml: embedSignatureTimestamp(signature, token) })
    const result = await verifyAsicContainer(container, trust)
    expect(result.signer).toEqual({ objectType: 'MEMBER', xRoadInstance: 'DEV', memberClass: 'COM', memberCode: '1234' })
    expect(result.signature.caName).toBe('Test CA')
    expect(result.ocsp.responder).toBe('CN=Test OCSP,O=Test')
  })
})
