import { describe, it } from 'vitest'
import { Pkcs11TokenDriver } from '../../src-main/signer/pkcs11/pkcs11-token-driver'
import { HAVE_SOFTHSM, SOFTHSM_MODULE, createSoftHsmToken } from '../support/softhsm'
import { tokenDriverContract } from './token-driver-contract'

if (HAVE_SOFTHSM) {
  tokenDriverContract('PKCS#11 token on SoftHSM2', {
    async create() {
      const hsm = createSoftHsmToken({ label: 'contract', pin: '1234' })
      const driver = new Pkcs11TokenDriver({ modulePath: hsm.module, tokenLabel: 'contract' })
      return { driver, pin: '1234', newPin: '98765', cleanup: async () => hsm.cleanup() }
    },
  })
} else {
  describe.skip(`PKCS#11 contract (skipped: SoftHSM2 module ${SOFTHSM_MODULE} is missing)`, () => {
    it('needs SoftHSM2', () => undefined)
  })
}
