import { embedSignatureTimestamp, writeAsicContainer } from '../signature'
import type { EvidenceContainerWriter } from './record-evidence'

/**
 * A record's ASiC-E container, written by the signature domain (xroad-protocols.md §6.3): a batch time-stamp goes in
 * as ts-hashchainresult.xml, ts-hashchain.xml and META-INF/timestamp.tst; a single time-stamp is embedded into the
 * signature as xades:SignatureTimeStamp (§6.2). Attachments whose body was not logged are left out (UG-SYSPAR:
 * the container then no longer verifies). The record time is the entries' mtime, so the bytes are deterministic.
 */
export const asicContainerWriter: EvidenceContainerWriter = ({ record, attachments, timestamp }) => {
  const single = timestamp !== undefined && timestamp.hashChainResult === null
  const batch = timestamp !== undefined && timestamp.hashChainResult !== null && record.timestampHashChain !== null
  return writeAsicContainer({
    message: record.message,
    signatureXml: single ? embedSignatureTimestamp(record.signatureXml, timestamp.token) : record.signatureXml,
    ...(record.hashChainResult !== null && record.hashChain !== null
      ? { sigHashChainResult: record.hashChainResult, sigHashChain: record.hashChain }
      : {}),
    ...(batch
      ? { tsHashChainResult: timestamp.hashChainResult as string, tsHashChain: record.timestampHashChain as string, timestampToken: timestamp.token }
      : {}),
    attachments: record.bodyLogged ? attachments.map((a) => a.content ?? Buffer.alloc(0)) : [],
    time: new Date(record.timeMs),
  })
}
