import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import type { SealSigner } from './ceremony-session'

/** A seal key in software (ECDSA P-256), for ceremonies without a token that can sign; recorded as such. */
export function softwareSealSigner(privateKey?: KeyObject): SealSigner & { privateKeyPem: string } {
  const key = privateKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const spki = createPublicKey(createPrivateKey(key.export({ format: 'pem', type: 'pkcs8' }))).export({ format: 'der', type: 'spki' })
  return {
    algorithm: 'ECDSA-SHA256',
    publicKeySpki: spki,
    keyLocation: 'software (this machine)',
    privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    sign: async (data) => sign('sha256', data, key),
  }
}
