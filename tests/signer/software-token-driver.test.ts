import { createHash, createPublicKey, verify } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SecurityServerError } from '../../src-main/platform'
import { SoftwareTokenDriver, XROAD_PIN_POLICY, checkPinPolicy } from '../../src-main/signer/software/software-token-driver'
import { tokenDriverContract } from './token-driver-contract'

tokenDriverContract('software token', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-softtoken-'))
    const driver = await SoftwareTokenDriver.initialize({ dir, pin: 'Secret-Pin-1', label: 'soft' })
    return { driver, pin: 'Secret-Pin-1', newPin: 'Other-Pin-22', cleanup: async () => rmSync(dir, { recursive: true, force: true }) }
  },
})

describe('software token specifics', () => {
  it('signs ECDSA natively over the data when the caller passes it, and refuses data that does not match the digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-softtoken-'))
    const driver = await SoftwareTokenDriver.initialize({ dir, pin: 'Secret-Pin-1' })
    await driver.login('Secret-Pin-1')
    const key = await driver.generateKey('ec-p256', 'k')
    const data = Buffer.from('<ds:SignedInfo>…</ds:SignedInfo>')
    const digest = createHash('sha512').update(data).digest()
    const signature = await driver.sign(key.keyId, 'ecdsa-sha512', digest, data)
    const publicKey = createPublicKey({ key: Buffer.from(key.publicKeyDer), format: 'der', type: 'spki' })
    expect(signature).toHaveLength(64)
    expect(verify('sha512', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true)
    await expect(driver.sign(key.keyId, 'ecdsa-sha512', digest, Buffer.from('other data'))).rejects.toMatchObject({ code: 'cannot_sign' })
    rmSync(dir, { recursive: true, force: true })
  })

  it('stores private keys encrypted: no PKCS#8 or PEM in the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-softtoken-'))
    const driver = await SoftwareTokenDriver.initialize({ dir, pin: 'Secret-Pin-1' })
    await driver.login('Secret-Pin-1')
    await driver.generateKey('ec-p256', 'k')
    const file = readFileSync(join(dir, 'token.json'), 'utf8')
    expect(file).not.toMatch(/PRIVATE KEY/)
    expect(file).not.toContain('Secret-Pin-1')
    const token = JSON.parse(file) as { keys: Array<{ privateKey: { iv: string; tag: string; data: string } }> }
    expect(Buffer.from(token.keys[0]!.privateKey.tag, 'base64')).toHaveLength(16)
    rmSync(dir, { recursive: true, force: true })
  })

  it('enforces the PIN policy (X-Road: 10 characters, 3 classes) on init and PIN change', async () => {
    expect(() => checkPinPolicy('short', XROAD_PIN_POLICY)).toThrow(/at least 10/)
    expect(() => checkPinPolicy('alllowercase', XROAD_PIN_POLICY)).toThrow(/mix at least 3/)
    expect(() => checkPinPolicy('Good-Pin-1234', XROAD_PIN_POLICY)).not.toThrow()
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-softtoken-'))
    await expect(SoftwareTokenDriver.initialize({ dir, pin: 'weak', pinPolicy: XROAD_PIN_POLICY })).rejects.toMatchObject({ code: 'token_pin_policy_failure' })
    const driver = await SoftwareTokenDriver.initialize({ dir, pin: 'Good-Pin-1234', pinPolicy: XROAD_PIN_POLICY })
    await expect(driver.changePin('Good-Pin-1234', 'weakweakweak')).rejects.toMatchObject({ code: 'token_pin_policy_failure' })
    rmSync(dir, { recursive: true, force: true })
  })

  it('locks after N wrong PINs, and the count survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-softtoken-'))
    await SoftwareTokenDriver.initialize({ dir, pin: 'Right-Pin-1', maxPinAttempts: 3 })
    const first = new SoftwareTokenDriver({ dir, maxPinAttempts: 3 })
    await expect(first.login('wrong')).rejects.toMatchObject({ code: 'pin_incorrect' })
    await expect(first.login('wrong')).rejects.toMatchObject({ code: 'pin_incorrect' })
    expect((await first.status()).pinFinalTry).toBe(true)
    const restarted = new SoftwareTokenDriver({ dir, maxPinAttempts: 3 })
    await expect(restarted.login('wrong')).rejects.toMatchObject({ code: 'token_locked' })
    const error = await restarted.login('Right-Pin-1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SecurityServerError)
    expect((error as SecurityServerError).code).toBe('token_locked')
    expect((await restarted.status()).pinLocked).toBe(true)
    rmSync(dir, { recursive: true, force: true })
  })
})
