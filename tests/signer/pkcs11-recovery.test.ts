import { createHash, createPublicKey, verify } from 'node:crypto'
import { existsSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { ecdsaRawToDer } from '../../src-main/signer/sign-algorithms'
import { CKF, CKR, createFaultInjector, type FaultInjector } from '../../src-main/signer/pkcs11/fault-injector'
import { Pkcs11TokenDriver } from '../../src-main/signer/pkcs11/pkcs11-token-driver'
import type { TokenKey } from '../../src-main/signer/token-driver'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describeWith([SOFTHSM], 'PKCS#11 recovery without restart (SoftHSM2 + fault injection)', () => {
  let hsm: SoftHsmToken
  let injector: FaultInjector
  let driver: Pkcs11TokenDriver
  let key: TokenKey

  beforeEach(async () => {
    hsm = createSoftHsmToken({ label: 'recover', pin: '1111' })
    driver = new Pkcs11TokenDriver({
      modulePath: hsm.module, tokenLabel: 'recover', recoveryTimeoutMs: 3000, recoveryPollMs: 50,
      wrapLibrary: (library) => (injector = createFaultInjector(library)).library,
    })
    await driver.login('1111')
    key = await driver.generateKey('ec-p256', 'recovery')
  })
  afterEach(async () => {
    await driver.close()
    hsm.cleanup()
  })

  const signAndCheck = async (i: number): Promise<boolean> => {
    const message = Buffer.from(`request ${i}`)
    const signature = await driver.sign(key.keyId, 'ecdsa-sha256', createHash('sha256').update(message).digest())
    return verify('sha256', message, createPublicKey({ key: Buffer.from(key.publicKeyDer), format: 'der', type: 'spki' }), ecdsaRawToDer(signature))
  }

  for (const [name, ckr] of Object.entries(CKR).filter(([n]) => n !== 'PIN_INCORRECT')) {
    it(`a token lost with CKR_${name} mid-load recovers, re-logs in, and loses no request`, async () => {
      const logins = injector.calls.get('C_Login') ?? 0
      const requests: Array<Promise<boolean>> = []
      for (let i = 0; i < 40; i++) {
        if (i === 10) injector.fail(ckr, 400)
        requests.push(signAndCheck(i))
        await sleep(5)
      }
      const results = await Promise.all(requests)
      expect(results).toHaveLength(40)
      expect(results.every(Boolean)).toBe(true)
      expect(injector.calls.get('C_Login') ?? 0).toBeGreaterThan(logins)
      expect((await driver.status()).available).toBe(true)
    })
  }

  it('fails a request with token_not_available once the bounded wait is over', async () => {
    injector.fail(CKR.DEVICE_REMOVED)
    await expect(signAndCheck(0)).rejects.toMatchObject({ code: 'token_not_available' })
    injector.heal()
    expect(await signAndCheck(1)).toBe(true)
  })

  it('never logs in again automatically when the token reports a low PIN count', async () => {
    const logins = injector.calls.get('C_Login') ?? 0
    injector.fail(CKR.SESSION_HANDLE_INVALID, 100)
    injector.forceTokenFlags(CKF.USER_PIN_COUNT_LOW)
    await expect(signAndCheck(0)).rejects.toMatchObject({ code: 'login_failed' })
    expect(injector.calls.get('C_Login') ?? 0).toBe(logins)
    injector.forceTokenFlags(0)
    await expect(signAndCheck(1)).rejects.toMatchObject({ code: 'token_not_active' })
    await driver.login('1111')
    expect(await signAndCheck(2)).toBe(true)
  })

  it('never re-uses a PIN that failed', async () => {
    await expect(driver.login('9999')).rejects.toMatchObject({ code: 'pin_incorrect' })
    const logins = injector.calls.get('C_Login') ?? 0
    injector.fail(CKR.DEVICE_REMOVED, 100)
    await expect(signAndCheck(0)).rejects.toMatchObject({ code: 'token_not_active' })
    expect(injector.calls.get('C_Login') ?? 0).toBe(logins)
  })
})

describeWith([SOFTHSM], 'PKCS#11 recovery from a real device loss (SoftHSM2 token files gone and back, nothing injected)', () => {
  let hsm: SoftHsmToken
  let driver: Pkcs11TokenDriver
  let key: TokenKey
  const tokensDir = (): string => join(hsm.dir, 'tokens')

  beforeEach(async () => {
    hsm = createSoftHsmToken({ label: 'device', pin: '2222' })
    driver = new Pkcs11TokenDriver({ modulePath: hsm.module, tokenLabel: 'device', recoveryTimeoutMs: 1500, recoveryPollMs: 50 })
    await driver.login('2222')
    key = await driver.generateKey('ec-p256', 'device-loss')
  })
  afterEach(async () => {
    if (existsSync(`${tokensDir()}.away`)) renameSync(`${tokensDir()}.away`, tokensDir())
    await driver.close()
    hsm.cleanup()
  })

  const sign = async (i: number): Promise<boolean> => {
    const message = Buffer.from(`device ${i}`)
    const signature = await driver.sign(key.keyId, 'ecdsa-sha256', createHash('sha256').update(message).digest())
    return verify('sha256', message, createPublicKey({ key: Buffer.from(key.publicKeyDer), format: 'der', type: 'spki' }), ecdsaRawToDer(signature))
  }

  it('signing fails with token_not_available while the files are gone, and works again once they are back, logged in again without a restart', async () => {
    expect(await sign(0)).toBe(true)
    renameSync(tokensDir(), `${tokensDir()}.away`)
    // SoftHSM2 now answers CKR_OBJECT_HANDLE_INVALID for the key and CKR_GENERAL_ERROR for everything else.
    await expect(sign(1)).rejects.toMatchObject({ code: 'token_not_available' })
    expect((await driver.status()).available).toBe(false)
    renameSync(`${tokensDir()}.away`, tokensDir())
    // The module stays unusable until initialized again; the driver does that, then logs in with the PIN that worked.
    expect(await sign(2)).toBe(true)
    expect(await driver.status()).toMatchObject({ available: true, loggedIn: true })
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sign(3 + i)))
    expect(results.every(Boolean)).toBe(true)
  })

  it('a request made while the device is gone waits for it within the bounded wait and is not lost', async () => {
    renameSync(tokensDir(), `${tokensDir()}.away`)
    const waiting = sign(20)
    await sleep(300)
    renameSync(`${tokensDir()}.away`, tokensDir())
    expect(await waiting).toBe(true)
  })
})
