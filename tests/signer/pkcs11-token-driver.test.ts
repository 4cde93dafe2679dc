import { describe, expect, it } from 'vitest'
import { Pkcs11TokenDriver } from '../../src-main/signer/pkcs11/pkcs11-token-driver'
import { createSoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'
import { tokenDriverContract } from './token-driver-contract'

describeWith([SOFTHSM], 'PKCS#11 token driver on SoftHSM2', () => {
  tokenDriverContract('PKCS#11 token on SoftHSM2', {
    async create() {
      const hsm = createSoftHsmToken({ label: 'contract', pin: '1234' })
      const driver = new Pkcs11TokenDriver({ modulePath: hsm.module, tokenLabel: 'contract' })
      return { driver, pin: '1234', newPin: '98765', cleanup: async () => hsm.cleanup() }
    },
  })

  describe('PKCS#11 specifics on SoftHSM2', () => {
    it('finds the token by label whatever its slot id, reports its details, and keeps generated keys non-extractable', async () => {
      const hsm = createSoftHsmToken({ label: 'specifics', pin: '1234' })
      hsm.addToken('other-token')
      const driver = new Pkcs11TokenDriver({ modulePath: hsm.module, tokenLabel: 'specifics' })
      try {
        await driver.login('1234')
        const details = await driver.details()
        expect(details.label).toBe('specifics')
        expect(details.manufacturer).toMatch(/SoftHSM/)
        expect(details.mechanisms).toEqual(expect.arrayContaining(['CKM_RSA_PKCS', 'CKM_ECDSA', 'CKM_EC_KEY_PAIR_GEN']))
        const key = await driver.generateKey('ec-p256', 'specifics-key')
        const attributes = await driver.keyAttributes(key.keyId)
        expect(attributes).toMatchObject({ CKA_TOKEN: true, CKA_PRIVATE: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: false, CKA_SIGN: true })
      } finally {
        await driver.close()
        hsm.cleanup()
      }
    })
  })
})
