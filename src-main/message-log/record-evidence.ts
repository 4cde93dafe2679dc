import { SecurityServerError, type ReadableDb } from '../platform'
import {
  findMessageRecord, findTimestampRecord, listAttachments,
  type StoredAttachment, type StoredMessageRecord, type StoredTimestampRecord,
} from './message-record-repository'

/**
 * Everything one record contributes to its ASiC-E container (xroad-protocols.md §6.3): the message, attachments,
 * signature, signature hash chain, and its time-stamp (batch: token + ts hash chain result + chain; single: token to
 * embed as SignatureTimeStamp).
 */
export interface RecordEvidence {
  record: StoredMessageRecord
  attachments: StoredAttachment[]
  timestamp: StoredTimestampRecord | undefined
}

/**
 * Turns a record's evidence into ASiC-E container bytes — the signature domain's `writeAsicContainer` (with
 * `embedSignatureTimestamp` for single stamps), wired by the composition root.
 */
export type EvidenceContainerWriter = (evidence: RecordEvidence) => Uint8Array | Promise<Uint8Array>

export function loadRecordEvidence(db: ReadableDb, recordId: number): RecordEvidence {
  const record = findMessageRecord(db, recordId)
  if (record === undefined) throw new SecurityServerError('not_found', `Message record ${recordId} does not exist`)
  return {
    record,
    attachments: listAttachments(db, recordId),
    timestamp: record.timestampRecordId === null ? undefined : findTimestampRecord(db, record.timestampRecordId),
  }
}
