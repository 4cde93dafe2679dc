import { timingSafeEqual } from 'node:crypto'
import { hashOf, messagePartSha512 } from '../../platform'

/**
 * The REST request hash (PR-REST §4.3; xroad-protocols.md §2.4): base64 SHA-512 of the request header part,
 * or, with a body, SHA-512( SHA-512(headerPart) ‖ SHA-512(body) ) over the raw 64-byte digests. The body may be
 * given by its size and the SHA-512 taken as it arrived.
 */
export function computeRequestHash(headerPart: Uint8Array, body?: Uint8Array | { size: number; sha512: Uint8Array }): string {
  // The parts' digests are those their signature took (messagePartSha512 remembers them with the bytes).
  const headerDigest = messagePartSha512(headerPart)
  if (body === undefined) return headerDigest.toString('base64')
  const bodyDigest = body instanceof Uint8Array ? (body.byteLength === 0 ? undefined : messagePartSha512(body)) : body.size === 0 ? undefined : body.sha512
  if (bodyDigest === undefined) return headerDigest.toString('base64')
  return hashOf('sha512', Buffer.concat([headerDigest, bodyDigest])).toString('base64')
}

/** Constant-time comparison of two base64 request hashes. */
export function requestHashEquals(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
