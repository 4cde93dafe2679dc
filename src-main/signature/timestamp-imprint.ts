import { buildHashChains, type HashChains } from './hash-chain'
import { parseSignature } from './signature-document'
import { digest, type DigestAlgorithm } from './xml-support'

/**
 * What a message-log time-stamp covers (xroad-protocols.md §6.2, §10 item 10): a single record's token is over the
 * raw decoded SignatureValue bytes; a batch token is over the ts-hash-chain-result XML, whose hash chain has one
 * input per record with DataRef `/META-INF/signatures.xml` = H(signature XML bytes).
 */

export const TS_HASH_CHAIN_URI = '/ts-hashchain.xml'
export const TS_SIGNATURE_DATA_URI = '/META-INF/signatures.xml'

/** The bytes a single time-stamp's message imprint is computed over: the raw SignatureValue. */
export function singleTimestampData(signatureXml: Uint8Array | string): Buffer {
  return parseSignature(signatureXml).signatureValue
}

/**
 * Hash chains for a batch time-stamp over several records' signature documents; the token's imprint is over
 * `resultXml` (UTF-8 bytes) and record i stores `chains[i]` as `ts-hashchain.xml`.
 */
export function buildTimestampHashChains(signatureXmls: Array<Uint8Array | string>, digestAlgorithm: DigestAlgorithm = 'SHA-512'): HashChains {
  return buildHashChains(
    signatureXmls.map((xml) => ({ parts: [{ uri: TS_SIGNATURE_DATA_URI, digest: digest(digestAlgorithm, typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml) }] })),
    digestAlgorithm,
    TS_HASH_CHAIN_URI,
  )
}
