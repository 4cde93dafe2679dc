import { sign as cryptoSign } from 'node:crypto'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { SecurityServerError } from '../../src-main/platform'
import { SIG_HASH_CHAIN_URI, verificationTrust, verifyHashChain, verifySignature, type VerificationTrust } from '../../src-main/signature'
import { BatchSigner, type SignedMessage, type SigningContext } from '../../src-main/signer'
import { makeCertificate, makeOcspResponse, makeTrustSetup, type TestCert, type TestTrustSetup } from '../signature/support/test-pki'

/**
 * Batch signing by turns of the event loop (issue 15 §4): what arrives in one turn shares one token signature, a lone
 * request is signed directly without waiting for a timer, a slow token lets the next batch grow, and a failed token
 * signature fails exactly its batch under X-Road's `cannot_create_signature` prefix. Real EC P-256 keys and certificates.
 */

const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'
const member = memberId('DEV', 'COM', '1234')

const message = (i: number): Buffer =>
  Buffer.from(`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n>${i}</n></env:Body></env:Envelope>`)

/** A software EC key behind the signing-context interface, with a gate that holds or fails its signatures. */
interface TestToken {
  readonly context: SigningContext
  /** Digests signed so far. */
  signatures: number
  /** When set, each signature waits for it to resolve (a slow token). */
  gate?: Promise<void>
  /** Signatures (1-based, in the order the token is asked) that fail, with their error. */
  readonly failures: Map<number, Error>
}

describe('batch signer: one token signature per turn of the event loop', () => {
  let pki: TestTrustSetup
  let cert: TestCert
  let ocsp: Buffer
  let trust: VerificationTrust

  beforeAll(async () => {
    pki = await makeTrustSetup()
    cert = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
    ocsp = await makeOcspResponse({ cert, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(Date.now() - 60_000) })
    trust = verificationTrust({
      instance: 'DEV',
      approvedCas: [{ topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: EJBCA }],
    })
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  function token(): TestToken {
    const state: TestToken = {
      signatures: 0,
      failures: new Map(),
      context: {
        certChain: [cert.der], keyId: 'ec-key', algorithm: 'ecdsa-sha512', ocspResponses: [ocsp],
        sign: async (_digest, data) => {
          const failure = state.failures.get(++state.signatures)
          if (state.gate !== undefined) await state.gate
          if (failure !== undefined) throw failure
          return cryptoSign('sha512', data!, { key: cert.keyObject, dsaEncoding: 'ieee-p1363' })
        },
      },
    }
    return state
  }

  /** A gate the test opens by hand. */
  function gate(): { promise: Promise<void>; open(): void } {
    let open!: () => void
    const promise = new Promise<void>((resolve) => (open = resolve))
    return { promise, open }
  }

  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

  function verifies(signed: SignedMessage, i: number): void {
    verifySignature(signed.signatureXml, {
      parts: { '/message.xml': message(i) }, expectedSigner: member, trust, atTime: new Date(),
      ...(signed.hashChain === undefined ? {} : { hashChainResult: signed.hashChainResult!, hashChain: signed.hashChain }),
    })
  }

  it('signs N requests made in one turn with one token signature; each message verifies on its own chain', async () => {
    const t = token()
    const signer = new BatchSigner()
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => signer.sign(t.context, [{ name: '/message.xml', bytes: message(i) }])))
    expect(t.signatures).toBe(1)
    expect(signer.stats).toEqual({ signatures: 1, messages: 24, largestBatch: 24 })
    expect(new Set(results.map((r) => r.signatureXml.toString('utf8'))).size).toBe(1)
    expect(results[0]!.signatureXml.toString('utf8')).toContain('xmldsig-more#ecdsa-sha512')
    results.forEach((signed, i) => {
      verifyHashChain(signed.hashChainResult!, {
        resolve: (uri) => (uri === SIG_HASH_CHAIN_URI ? signed.hashChain : undefined), inputs: { '/message.xml': { data: message(i) } },
      })
    })
    for (const i of [0, 23]) verifies(results[i]!, i)
    // Another message's data does not verify against a chain of the batch.
    expect(() => verifies(results[0]!, 1)).toThrow()
  })

  it('signs a lone request directly, without a hash chain and without any timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] })
    const t = token()
    const signer = new BatchSigner()
    const signed = await signer.sign(t.context, [{ name: '/message.xml', bytes: message(7) }])
    expect(t.signatures).toBe(1)
    expect(signed.hashChain).toBeUndefined()
    expect(signed.hashChainResult).toBeUndefined()
    vi.useRealTimers()
    verifies(signed, 7)
  })

  it('lets requests accumulate behind a slow token: the next batch grows with the load', async () => {
    const t = token()
    const signer = new BatchSigner()
    const slow = gate()
    t.gate = slow.promise
    const first = signer.sign(t.context, [{ name: '/message.xml', bytes: message(0) }])
    await nextTurn()
    expect(t.signatures).toBe(1)
    // Thirty requests over ten turns while the first signature is in flight: none reaches the token yet.
    const waiting: Array<Promise<SignedMessage>> = []
    for (let turn = 0; turn < 10; turn++) {
      for (let j = 0; j < 3; j++) waiting.push(signer.sign(t.context, [{ name: '/message.xml', bytes: message(1 + waiting.length) }]))
      await nextTurn()
    }
    expect(t.signatures).toBe(1)
    t.gate = undefined
    slow.open()
    const signed = await Promise.all([first, ...waiting])
    expect(t.signatures).toBe(2)
    expect(signer.stats).toEqual({ signatures: 2, messages: 31, largestBatch: 30 })
    expect(signed[0]!.hashChain).toBeUndefined()
    verifies(signed[0]!, 0)
    verifies(signed[30]!, 30)
  })

  it('fails exactly the batch whose token signature failed, under cannot_create_signature', async () => {
    const t = token()
    t.failures.set(2, new SecurityServerError('token_not_active', 'Token 0 is not logged in'))
    const signer = new BatchSigner()
    const slow = gate()
    t.gate = slow.promise
    const before = Array.from({ length: 3 }, (_, i) => signer.sign(t.context, [{ name: '/message.xml', bytes: message(i) }]))
    await nextTurn()
    const failing = Array.from({ length: 4 }, (_, i) => signer.sign(t.context, [{ name: '/message.xml', bytes: message(10 + i) }]))
    const settledFailing = Promise.allSettled(failing)
    await nextTurn()
    t.gate = undefined
    slow.open()
    const first = await Promise.all(before)
    const outcomes = await settledFailing
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      const error = (outcome as PromiseRejectedResult).reason as SecurityServerError
      expect(error).toBeInstanceOf(SecurityServerError)
      expect(error.faultCode).toBe('cannot_create_signature.token_not_active')
    }
    first.forEach((signed, i) => verifies(signed, i))
    // The next request is not affected.
    const after = await signer.sign(t.context, [{ name: '/message.xml', bytes: message(99) }])
    verifies(after, 99)
    expect(t.signatures).toBe(3)
  })

  it('reports a token failure that is not a coded error as cannot_create_signature', async () => {
    const t = token()
    t.failures.set(1, new Error('CKR_DEVICE_REMOVED'))
    const signer = new BatchSigner()
    await expect(signer.sign(t.context, [{ name: '/message.xml', bytes: message(1) }])).rejects.toMatchObject({ faultCode: 'cannot_create_signature' })
  })

  it('fails, rather than leaves waiting, a batch whose context has no readable certificate', async () => {
    const signer = new BatchSigner()
    const noCert: SigningContext = { ...token().context, certChain: [] }
    await expect(signer.sign(noCert, [{ name: '/message.xml', bytes: message(1) }])).rejects.toMatchObject({ faultCode: 'cannot_create_signature' })
    const badCert: SigningContext = { ...token().context, certChain: [Buffer.from('not a certificate')] }
    await expect(signer.sign(badCert, [{ name: '/message.xml', bytes: message(1) }])).rejects.toBeInstanceOf(SecurityServerError)
  })

  it('encodes a context\'s certificate and OCSP responses once and follows a new context', async () => {
    const signer = new BatchSigner()
    const t = token()
    const first = await signer.sign(t.context, [{ name: '/message.xml', bytes: message(1) }])
    const second = await signer.sign(t.context, [{ name: '/message.xml', bytes: message(2) }])
    const ocspText = (xml: Buffer): string => /<xades:EncapsulatedOCSPValue[^>]*>([^<]*)</.exec(xml.toString('utf8'))![1]!.replace(/&#13;\n/g, '')
    expect(ocspText(first.signatureXml)).toBe(ocsp.toString('base64'))
    expect(ocspText(second.signatureXml)).toBe(ocsp.toString('base64'))
    // A new OCSP response comes with a new context (the signer's derived cache), and the signature carries it.
    const fresher = await makeOcspResponse({ cert, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(Date.now() - 1_000) })
    const renewed = await signer.sign({ ...t.context, ocspResponses: [fresher] }, [{ name: '/message.xml', bytes: message(3) }])
    expect(ocspText(renewed.signatureXml)).toBe(fresher.toString('base64'))
    verifies(renewed, 3)
  })
})
