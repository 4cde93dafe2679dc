import { hash } from 'node:crypto'

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512'

/**
 * One-shot digest of data given whole (Node's `crypto.hash`, 20.12+): no Hash object and no separate update/digest
 * calls, which is most of the cost of hashing the small inputs of the message path (digests, references, step
 * lists, request hashes). Strings are hashed as UTF-8. Data that arrives in pieces still goes through `createHash`.
 */
export function hashOf(algorithm: HashName, data: Uint8Array | string): Buffer
export function hashOf(algorithm: HashName, data: Uint8Array | string, encoding: 'base64' | 'hex'): string
export function hashOf(algorithm: HashName, data: Uint8Array | string, encoding?: 'base64' | 'hex'): Buffer | string {
  return encoding === undefined ? hash(algorithm, data, 'buffer') : hash(algorithm, data, encoding)
}
