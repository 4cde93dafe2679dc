import 'reflect-metadata'
import { KeyObject, createHash, sign, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { beforeAll, expect, it } from 'vitest'
import {
  parseConfigurationAnchor, parseSharedParameters, parseSignedDirectory, partsRootReader, verificationReason,
  verifySignedDirectory,
} from '../../src-main/global-conf'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'

const DEV = ['globalconf', 'dev-signed-V3-V6']
const pemToDer = (pem: string): Uint8Array => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64'))

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return verificationReason(error)
  }
  return undefined
}

/** The verification certificates a server trusts for a version: the anchor's plus those of that version's shared params. */
function trustFor(tree: string, version: number, kind: 'internalconf' | 'externalconf'): Uint8Array[] {
  const dir = parseSignedDirectory(readFixture(...DEV, tree, `V${version}`, kind))
  const sharedPart = dir.parts.find((p) => p.contentIdentifier === 'SHARED-PARAMETERS')
  const shared = parseSharedParameters(readFixture(...DEV, tree, ...(sharedPart?.contentLocation.split('/').filter(Boolean) ?? [])), version)
  const anchor = parseConfigurationAnchor(readFixture(...DEV, 'anchor', 'configuration_anchor_CS_internal.xml'))
  const fromShared = shared.sources.flatMap((s) => (kind === 'internalconf' ? s.internalVerificationCerts : s.externalVerificationCerts))
  return kind === 'internalconf' ? [...anchor.sources.flatMap((s) => s.verificationCerts), ...fromShared] : [...fromShared]
}

const NOW = new Date('2026-11-22T00:00:00Z')

describeFixtures('signed configuration directories (dev-signed-V3-V6, real CS output)', () => {
  for (const tree of ['public', 'rotated-keys']) {
    for (const version of [3, 4, 5, 6]) {
      for (const kind of ['internalconf', 'externalconf'] as const) {
        const knownMismatch = tree === 'public' && version === 6 && kind === 'externalconf'
        it(`${tree}/V${version}/${kind} ${knownMismatch ? 'is reported as a hash mismatch' : 'verifies with its parts'}`, () => {
          const options = { verificationCerts: trustFor(tree, version, kind), now: NOW, readPart: partsRootReader(fixturePath(...DEV, tree)) }
          const data = readFixture(...DEV, tree, `V${version}`, kind)
          if (knownMismatch) {
            expect(reasonOf(() => verifySignedDirectory(data, options))).toBe('invalid_signature_value.content_hash_mismatch')
            // The signature itself is good: without part checks it verifies.
            expect(verifySignedDirectory(data, { ...options, readPart: undefined }).version).toBe(6)
            return
          }
          const result = verifySignedDirectory(data, options)
          expect(result.version).toBe(version)
          expect(result.parts.map((p) => p.contentIdentifier)).toContain('SHARED-PARAMETERS')
          expect(result.parts.every((p) => p.instance === (version === 3 ? 'CS' : 'DEV'))).toBe(true)
          expect(result.expiresAt.getTime()).toBeGreaterThan(NOW.getTime())
        })
      }
    }
  }

  it('signs exactly the body of the first outer part (843 bytes for V6)', () => {
    const dir = parseSignedDirectory(readFixture(...DEV, 'public', 'V6', 'internalconf'))
    expect(dir.signedBytes.byteLength).toBe(843)
    const text = Buffer.from(dir.signedBytes).toString('latin1')
    expect(text.startsWith('--CNo5S3hBEIHbDGmANPgi\r\n')).toBe(true)
    expect(text.endsWith('--CNo5S3hBEIHbDGmANPgi--\r\n')).toBe(true)
    expect(dir.expiresAt?.toISOString()).toBe('2035-11-11T03:07:40.000Z')
  })

  it('refuses a tampered directory, an unknown verification certificate and an expired one', () => {
    const data = readFixture(...DEV, 'public', 'V6', 'internalconf')
    const certs = trustFor('public', 6, 'internalconf')
    const tampered = Buffer.from(data.toString('latin1').replace('Version: 6', 'Version: 7'), 'latin1')
    expect(reasonOf(() => verifySignedDirectory(tampered, { verificationCerts: certs, now: NOW }))).toBe('invalid_signature_value')
    const consumer = pemToDer(readFixture('pki', 'common-test-certs', 'consumer.pem').toString('utf8'))
    expect(reasonOf(() => verifySignedDirectory(data, { verificationCerts: [consumer], now: NOW }))).toBe('cert_not_found.unknown_verification_certificate')
    expect(reasonOf(() => verifySignedDirectory(data, { verificationCerts: certs, now: new Date('2036-01-01T00:00:00Z') }))).toBe('global_conf_outdated')
  })
})

describeFixtures('signed configuration directories (confclient, LF line endings)', () => {
  const CC = ['globalconf', 'confclient']
  let consumer: Uint8Array
  beforeAll(() => {
    consumer = pemToDer(readFixture('pki', 'common-test-certs', 'consumer.pem').toString('utf8'))
  })
  const before = new Date('2026-01-01T00:00:00Z')

  it('verifies test-conf-simple before its expiry, with its parts, and reports it expired now', () => {
    const data = readFixture(...CC, 'test-conf-simple.txt')
    const readPart = partsRootReader(fixturePath(...CC, 'test-conf-simple', 'EE'))
    const result = verifySignedDirectory(data, { verificationCerts: [consumer], now: before, readPart })
    expect(result.parts.map((p) => `${p.contentIdentifier}:${p.instance}`)).toEqual(['PRIVATE-PARAMETERS:EE', 'SHARED-PARAMETERS:EE', 'FOO:EE'])
    expect(result.version).toBe(2)
    expect(reasonOf(() => verifySignedDirectory(data, { verificationCerts: [consumer], now: NOW, readPart }))).toBe('global_conf_outdated')
  })

  it('verifies test-conf-detached', () => {
    const readPart = partsRootReader(fixturePath(...CC, 'test-conf-detached', 'EE'))
    expect(verifySignedDirectory(readFixture(...CC, 'test-conf-detached.txt'), { verificationCerts: [consumer], now: before, readPart }).parts).toHaveLength(1)
  })

  it('rejects the negative cases with distinct reasons', () => {
    const reasons = Object.fromEntries(['invalid-signature', 'missing-signature', 'malformed', 'missing-date'].map((name) => [
      name,
      reasonOf(() => verifySignedDirectory(readFixture(...CC, `test-conf-${name}.txt`), { verificationCerts: [consumer], now: before })),
    ]))
    expect(reasons).toEqual({
      'invalid-signature': 'invalid_signature_value',
      'missing-signature': 'missing_signature',
      malformed: 'malformed_global_conf',
      'missing-date': 'malformed_global_conf.missing_expire_date',
    })
  })

  it('reports a part whose file changed as a hash mismatch', () => {
    const data = readFixture(...CC, 'test-conf-simple.txt')
    const readPart = (): Uint8Array => new Uint8Array(Buffer.from('<conf/>'))
    expect(reasonOf(() => verifySignedDirectory(data, { verificationCerts: [consumer], now: before, readPart }))).toBe('invalid_signature_value.content_hash_mismatch')
  })
})

it('verifies an ECDSA-SHA256 directory with LF line endings and a double-quoted instance', async () => {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=labSigningKey', notBefore: new Date('2020-01-01'), notAfter: new Date('2099-01-01'),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'], signingAlgorithm: alg,
  })
  const certDer = new Uint8Array(cert.rawData)
  const privateKey = KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey)
  const inner = [
    '--in', 'Expire-date: 2099-01-01T00:00:00Z', 'Version: 6', '',
    '--in', 'Content-type: application/octet-stream', 'Content-transfer-encoding: base64',
    'Content-identifier: SHARED-PARAMETERS; instance="LAB"', 'Content-location: /V6/1/shared-params.xml',
    'Hash-algorithm-id: http://www.w3.org/2001/04/xmlenc#sha256', '',
    createHash('sha256').update('x').digest('base64'), '--in--', '',
  ].join('\n')
  const signature = sign('sha256', Buffer.from(inner, 'latin1'), privateKey).toString('base64')
  const certHash = createHash('sha512').update(certDer).digest('base64')
  const directory = [
    'Content-Type: multipart/related; boundary=out', '', '--out', 'Content-Type: multipart/mixed; boundary=in', '',
    inner, '--out', 'Signature-Algorithm-Id: http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
    `Verification-certificate-hash: ${certHash}; hash-algorithm-id="http://www.w3.org/2001/04/xmlenc#sha512"`, '', signature, '--out--', '',
  ].join('\n')
  const result = verifySignedDirectory(directory, {
    verificationCerts: [certDer], now: new Date('2030-01-01T00:00:00Z'), readPart: () => new Uint8Array(Buffer.from('x')),
  })
  expect(Buffer.from(result.signedBytes).toString('latin1')).toBe(inner)
  expect(result.parts[0]?.instance).toBe('LAB')
  const forged = directory.replace('instance="LAB"', "instance='LAB'")
  expect(reasonOf(() => verifySignedDirectory(forged, { verificationCerts: [certDer], now: new Date('2030-01-01T00:00:00Z') }))).toBe('invalid_signature_value')
})
