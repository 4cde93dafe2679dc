import 'reflect-metadata'
import { KeyObject, createHash, sign, webcrypto } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as x509 from '@peculiar/x509'
import { afterEach, expect, it } from 'vitest'
import { createGlobalConfService, parseConfigurationAnchor, type AllowedFederations } from '../../src-main/global-conf'
import { ManualClock } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

interface SigningKey {
  certDer: Uint8Array
  certB64: string
  privateKey: KeyObject
}

async function signingKey(cn: string): Promise<SigningKey> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: `CN=${cn}`, notBefore: new Date('2020-01-01'), notAfter: new Date('2099-01-01'),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'], signingAlgorithm: alg,
  })
  const certDer = new Uint8Array(cert.rawData)
  return { certDer, certB64: Buffer.from(certDer).toString('base64'), privateKey: KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey) }
}

/** A directory in the CS format (PR-GCONF §2.3–2.5), RSA-SHA512 over the first part's body. */
function directory(key: SigningKey, parts: Array<{ id: string; instance: string; location: string; data: string }>): string {
  const inner = [
    '--inner', 'Expire-date: 2099-01-01T00:00:00Z', 'Version: 6', '',
    ...parts.flatMap((p) => [
      '--inner', 'Content-type: application/octet-stream', 'Content-transfer-encoding: base64',
      `Content-identifier: ${p.id}; instance='${p.instance}'`, `Content-location: ${p.location}`,
      'Hash-algorithm-id: http://www.w3.org/2001/04/xmlenc#sha512', '', createHash('sha512').update(p.data).digest('base64'),
    ]),
    '--inner--', '',
  ].join('\r\n')
  const signature = sign('sha512', Buffer.from(inner), key.privateKey).toString('base64')
  return [
    'Content-Type: multipart/related; charset=UTF-8; boundary=outer', '', '--outer',
    'Content-Type: multipart/mixed; charset=UTF-8; boundary=inner', '', inner, '--outer',
    'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64',
    'Signature-Algorithm-Id: http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
    `Verification-certificate-hash: ${createHash('sha512').update(key.certDer).digest('base64')}; hash-algorithm-id="http://www.w3.org/2001/04/xmlenc#sha512"`,
    '', signature, '--outer--', '',
  ].join('\r\n')
}

const NS = 'xmlns:ns2="http://x-road.eu/xsd/identifiers" xmlns:ns3="http://x-road.eu/xsd/xroad.xsd"'
const shared = (instance: string, key: SigningKey): string => `<ns3:conf ${NS}><instanceIdentifier>${instance}</instanceIdentifier>`
  + `<source><address>127.0.0.1</address><internalVerificationCert>${key.certB64}</internalVerificationCert><externalVerificationCert>${key.certB64}</externalVerificationCert></source>`
  + `<member id="m1"><memberClass><code>GOV</code><description>Government</description></memberClass><memberCode>1</memberCode><name>Agency ${instance}</name></member>`
  + '<globalSettings><memberClass><code>GOV</code><description>Government</description></memberClass><ocspFreshnessSeconds>600</ocspFreshnessSeconds></globalSettings></ns3:conf>'

async function twoInstances(): Promise<{ baseUrl: string; labKey: SigningKey }> {
  const labKey = await signingKey('labInternal')
  const fedKey = await signingKey('fedExternal')
  const files = new Map<string, string>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const body = files.get(url.pathname)
    res.statusCode = body === undefined ? 404 : 200
    res.end(body)
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const labShared = shared('LAB', labKey)
  const labPrivate = `<ns3:conf ${NS}><instanceIdentifier>LAB</instanceIdentifier>`
    + `<configurationAnchor><instanceIdentifier>FED</instanceIdentifier><source><downloadURL>${baseUrl}/fed/externalconf</downloadURL><verificationCert>${fedKey.certB64}</verificationCert></source></configurationAnchor>`
    + '<managementService><authCertRegServiceAddress>https://127.0.0.1:4001/managementservice/</authCertRegServiceAddress>'
    + '<managementRequestServiceProviderId ns2:objectType="SUBSYSTEM"><ns2:xRoadInstance>LAB</ns2:xRoadInstance><ns2:memberClass>GOV</ns2:memberClass><ns2:memberCode>1</ns2:memberCode><ns2:subsystemCode>MANAGEMENT</ns2:subsystemCode></managementRequestServiceProviderId>'
    + '</managementService><timeStampingIntervalSeconds>60</timeStampingIntervalSeconds></ns3:conf>'
  const fedShared = shared('FED', fedKey)
  files.set('/V6/1/lab-shared.xml', labShared)
  files.set('/V6/1/lab-private.xml', labPrivate)
  files.set('/V6/1/fed-shared.xml', fedShared)
  files.set('/lab/internalconf', directory(labKey, [
    { id: 'SHARED-PARAMETERS', instance: 'LAB', location: '/V6/1/lab-shared.xml', data: labShared },
    { id: 'PRIVATE-PARAMETERS', instance: 'LAB', location: '/V6/1/lab-private.xml', data: labPrivate },
  ]))
  files.set('/fed/externalconf', directory(fedKey, [{ id: 'SHARED-PARAMETERS', instance: 'FED', location: '/V6/1/fed-shared.xml', data: fedShared }]))
  return { baseUrl, labKey }
}

async function instancesWith(allowed: AllowedFederations): Promise<string[]> {
  const { baseUrl, labKey } = await twoInstances()
  const anchor = parseConfigurationAnchor(`<ns3:configurationAnchor ${NS}><instanceIdentifier>LAB</instanceIdentifier>`
    + `<source><downloadURL>${baseUrl}/lab/internalconf</downloadURL><verificationCert>${labKey.certB64}</verificationCert></source></ns3:configurationAnchor>`)
  const service = createGlobalConfService({ dir: tempDir(), anchor, clock: new ManualClock('2030-01-01T00:00:00Z'), allowedFederations: allowed })
  const conf = await service.refresh()
  expect(service.lastError()).toBeUndefined()
  return conf?.getInstanceIdentifiers().sort() ?? []
}

it('follows federated anchors only as allowed-federations permits', async () => {
  expect(await instancesWith('none')).toEqual(['LAB'])
  expect(await instancesWith('all')).toEqual(['FED', 'LAB'])
  expect(await instancesWith(['fed'])).toEqual(['FED', 'LAB'])
  expect(await instancesWith(['OTHER'])).toEqual(['LAB'])
})
