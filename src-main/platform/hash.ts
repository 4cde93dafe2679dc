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

const sha512ByBytes = new WeakMap<Uint8Array, Buffer>()

/**
 * SHA-512 of a message part's bytes, remembered with the bytes object: on the message path one part is hashed for its
 * signature (a reference or a hash-chain input, signing or verifying) and again for the request hash (REST header part
 * and body, SOAP part). Only for bytes that are not changed once built, as a message's parts are; the digest returned
 * is shared and must not be modified.
 */
export function messagePartSha512(bytes: Uint8Array): Buffer {
  let value = sha512ByBytes.get(bytes)
  if (value === undefined) sha512ByBytes.set(bytes, (value = hash('sha512', bytes, 'buffer')))
  return value
}
