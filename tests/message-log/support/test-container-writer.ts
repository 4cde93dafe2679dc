import type { EvidenceContainerWriter } from '../../../src-main/message-log'

/**
 * A deterministic stand-in for the signature domain's ASiC-E writer, for tests of the archive linking logic only:
 * the bytes depend on every part of the record's evidence, so any stored change shows in the container digest.
 */
export const testContainerWriter: EvidenceContainerWriter = ({ record, attachments, timestamp }) =>
  Buffer.concat([
    Buffer.from(`record ${record.id} ${record.queryId} ${record.response ? 'response' : 'request'}\n`),
    record.message,
    Buffer.from(record.signatureXml),
    ...attachments.map((a) => a.content ?? Buffer.from(a.sha512)),
    timestamp?.token ?? Buffer.alloc(0),
  ])
