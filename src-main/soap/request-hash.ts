import { messagePartSha512, SecurityServerError } from '../platform'
import { REQUEST_HASH_ALGORITHM_ID } from './soap-header'
import { readSoap, type SoapLimits, type SoapMessage, DEFAULT_SOAP_LIMITS } from './soap-parser'

/**
 * `requestHash` (PR-MESS §2.2; xroad-protocols.md §3.2): base64 of SHA-512 over the request SOAP message's own bytes.
 * The provider writes it into the service's response right after `</…:id>`, with the `id` element's prefix and the
 * header's first indentation before it, and drops any `requestHash` the service put there (X-Road's
 * `ServerMessageProcessor.ResponseSoapParserImpl`); every other byte of the response stays as the service wrote it
 * (X-Road re-serializes the whole envelope on the way — docs/xroad-differences.md). The consumer recomputes the hash
 * over what it sent and compares (`ClientMessageProcessor.checkRequestHash`).
 *
 * Complexity: O(n) — one hash, one splice, one re-read of the rewritten response.
 */
export function requestHashOf(requestSoapBytes: Uint8Array): string {
  return messagePartSha512(requestSoapBytes).toString('base64')
}

/** The response with the request's hash in its header, read again (its bytes are what is signed and logged). */
export function withRequestHash(response: SoapMessage, requestSoapBytes: Uint8Array, limits: SoapLimits = DEFAULT_SOAP_LIMITS): SoapMessage {
  const { layout, bytes, charset } = response
  const encoding = charset === 'UTF-8' ? 'utf8' : 'latin1'
  const tag = layout.idPrefix === '' ? 'requestHash' : `${layout.idPrefix}:requestHash`
  const inserted = Buffer.from(`${layout.indent}<${tag} algorithmId="${REQUEST_HASH_ALGORITHM_ID}">${requestHashOf(requestSoapBytes)}</${tag}>`, encoding)
  const cuts: Array<{ from: number; to: number; insert?: Buffer }> = [
    ...layout.requestHashes.map(([from, to]) => ({ from, to })),
    { from: layout.idEnd, to: layout.idEnd, insert: inserted },
  ].sort((a, b) => a.from - b.from || a.to - b.to)
  const chunks: Buffer[] = []
  let at = 0
  for (const cut of cuts) {
    chunks.push(bytes.subarray(at, cut.from))
    if (cut.insert !== undefined) chunks.push(cut.insert)
    at = cut.to
  }
  chunks.push(bytes.subarray(at))
  const rewritten = readSoap(Buffer.concat(chunks), response.contentType, limits)
  if (rewritten.kind !== 'message') throw new SecurityServerError('internal_error', 'Response changed into a fault while adding requestHash')
  return rewritten
}

/** The response's `requestHash` must be the hash of the request as sent (`inconsistent_response`). */
export function checkRequestHash(response: SoapMessage, requestSoapBytes: Uint8Array): void {
  const carried = response.header.requestHash
  if (carried === undefined) throw new SecurityServerError('inconsistent_response', 'Response from server proxy is missing request message hash')
  const expected = messagePartSha512(requestSoapBytes)
  if (!expected.equals(Buffer.from(carried.value.trim(), 'base64'))) {
    throw new SecurityServerError('inconsistent_response', 'Request message hash does not match request message')
  }
}
