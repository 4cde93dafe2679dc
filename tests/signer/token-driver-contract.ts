import { createHash, createPublicKey, verify, constants } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SecurityServerError } from '../../src-main/platform'
import { ecdsaRawToDer } from '../../src-main/signer/sign-algorithms'
import type { KeyAlgorithm, SignAlgorithm, TokenDriver } from '../../src-main/signer/token-driver'

/** What every TokenDriver must do, run against the software token and SoftHSM2 alike. */
export interface ContractTarget {
  /** A fresh, initialized, logged-out token with PIN `pin`. */
  create(): Promise<{ driver: TokenDriver; pin: string; newPin: string; cleanup(): Promise<void> }>
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (error instanceof SecurityServerError) return error.code
    throw error
  }
  return 'no error'
}

function verifyWith(spki: Uint8Array, algorithm: SignAlgorithm, message: Buffer, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
  const hash = algorithm.slice(algorithm.lastIndexOf('-') + 1)
  if (algorithm.startsWith('ecdsa')) return verify(hash, message, key, ecdsaRawToDer(signature))
  if (algorithm.startsWith('rsa-pss')) {
    return verify(hash, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length }, signature)
  }
  return verify(hash, message, key, signature)
}

export function tokenDriverContract(name: string, target: ContractTarget): void {
  describe(`TokenDriver contract: ${name}`, () => {
    let driver: TokenDriver
    let pin: string
    let newPin: string
    let cleanup: () => Promise<void>

    beforeAll(async () => {
      const created = await target.create()
      ;({ driver, pin, newPin, cleanup } = created)
    })
    afterAll(async () => {
      await driver.close()
      await cleanup()
    })

    it('reports an initialized, logged-out token', async () => {
      const status = await driver.status()
      expect(status.initialized).toBe(true)
      expect(status.available).toBe(true)
      expect(status.loggedIn).toBe(false)
    })

    it('refuses a wrong PIN with pin_incorrect and signing before login with token_not_active', async () => {
      expect(await codeOf(driver.login(`${pin}x`))).toBe('pin_incorrect')
      expect(await codeOf(driver.generateKey('ec-p256', 'nope'))).toMatch(/token_not_active|key_not_found/)
    })

    it('logs in with the right PIN', async () => {
      await driver.login(pin)
      expect((await driver.status()).loggedIn).toBe(true)
    })

    const cases: Array<[KeyAlgorithm, SignAlgorithm[]]> = [
      ['ec-p256', ['ecdsa-sha256', 'ecdsa-sha512']],
      ['rsa-2048', ['rsa-pkcs1-sha256', 'rsa-pkcs1-sha512', 'rsa-pss-sha256', 'rsa-pss-sha512']],
    ]
    for (const [keyAlgorithm, algorithms] of cases) {
      it(`generates ${keyAlgorithm} and signs digests that verify with the public key (${algorithms.join(', ')})`, async () => {
        const key = await driver.generateKey(keyAlgorithm, `contract-${keyAlgorithm}`)
        expect(key.keyId).toMatch(/^[0-9a-f]{40}$/)
        const listed = (await driver.listKeys()).find((k) => k.keyId === key.keyId)
        expect(listed?.algorithm).toBe(keyAlgorithm)
        expect(Buffer.from(listed?.publicKeyDer ?? []).equals(Buffer.from(key.publicKeyDer))).toBe(true)
        for (const algorithm of algorithms) {
          const message = Buffer.from(`message for ${algorithm}`)
          const hash = algorithm.slice(algorithm.lastIndexOf('-') + 1)
          const signature = await driver.sign(key.keyId, algorithm, createHash(hash).update(message).digest())
          expect(verifyWith(key.publicKeyDer, algorithm, message, signature), algorithm).toBe(true)
          expect(verifyWith(key.publicKeyDer, algorithm, Buffer.from('other'), signature)).toBe(false)
        }
      })
    }

    it('rejects a digest of the wrong length and an algorithm that does not fit the key', async () => {
      const [key] = (await driver.listKeys()).filter((k) => k.algorithm === 'ec-p256')
      expect(await codeOf(driver.sign(key!.keyId, 'ecdsa-sha256', Buffer.alloc(20)))).toBe('invalid_request')
      expect(await codeOf(driver.sign(key!.keyId, 'rsa-pkcs1-sha256', Buffer.alloc(32)))).toBe('unsupported_sign_algorithm')
      expect(await codeOf(driver.sign('00'.repeat(20), 'ecdsa-sha256', Buffer.alloc(32)))).toBe('key_not_found')
    })

    it('changes the PIN: the old one stops working, keys still sign', async () => {
      await driver.changePin(pin, newPin)
      await driver.logout()
      expect(await codeOf(driver.login(pin))).toBe('pin_incorrect')
      await driver.login(newPin)
      const [key] = (await driver.listKeys()).filter((k) => k.algorithm === 'ec-p256')
      const message = Buffer.from('after pin change')
      const signature = await driver.sign(key!.keyId, 'ecdsa-sha256', createHash('sha256').update(message).digest())
      expect(verifyWith(key!.publicKeyDer, 'ecdsa-sha256', message, signature)).toBe(true)
    })

    it('deletes a key', async () => {
      const key = await driver.generateKey('ec-p256', 'to-delete')
      await driver.deleteKey(key.keyId)
      expect((await driver.listKeys()).some((k) => k.keyId === key.keyId)).toBe(false)
      expect(await codeOf(driver.sign(key.keyId, 'ecdsa-sha256', Buffer.alloc(32)))).toBe('key_not_found')
    })

    it('logs out: signing is refused afterwards', async () => {
      const [key] = await driver.listKeys()
      await driver.logout()
      expect((await driver.status()).loggedIn).toBe(false)
      expect(await codeOf(driver.sign(key!.keyId, 'ecdsa-sha256', Buffer.alloc(32)))).toMatch(/token_not_active|key_not_found/)
    })
  })
}
