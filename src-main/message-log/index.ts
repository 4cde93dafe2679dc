/**
 * Message log: the legal evidence of every exchange — records committed before an exchange proceeds, RFC 3161
 * time-stamping with fail-closed behaviour, linked log archives, evidence export, and evidence continuity (a hash
 * chain over the records and an acknowledgement file outside SQLite, checked at every start and on demand).
 *
 * Where the last acknowledged place in the chain is kept, and which loss each place survives:
 * - `messagelog.ack` (`ack-file.ts`, synchronised to disk after each group commit, off the message's path and at most
 *   one batch behind the records answered, two slots against torn writes): survives a lost or corrupted WAL (SQLite drops every frame after a bad checksum: the newest records), a truncated,
 *   deleted or replaced database file and a database restored from an older backup — each shows as acknowledged
 *   records missing. It does not survive the loss of the data directory; its own loss shows as an `ack-file` problem
 *   (the database notes since when the file exists).
 * - The time-stamp batches are not used: their rows sit in the same database and the same WAL, committed after the
 *   records they cover, so every loss that takes a record takes its time-stamp row too. The TSA token covers only
 *   X-Road's ts-hashchain of signature hashes and has no field for our sequence numbers.
 * - The archives' `linkinginfo` is X-Road's format with no field for it (xroad-protocols.md §6.5). Archives are
 *   fsync'd files outside the database and keep the archived records' containers; the chain's start after a purge
 *   (the last purged record's place) is kept in the database and in the acknowledgement file, so purged records are
 *   told apart from lost ones even when the database is gone.
 * Inside the database, the chain (`evidence-chain.ts`) tells a changed record (`altered`: a flipped byte in a body,
 * which `PRAGMA integrity_check` does not see), a deleted one (`missing`) and a substituted one (`link`) apart.
 */
export { messageLogMigrations } from './migrations'
export {
  createMessageLog, signatureHash,
  type MessageLog, type MessageLogOptions, type MessageToLog, type MessageLogStatus, type RecordId, type EvidenceStatus, type AttachmentSource,
} from './message-log'
export { checkEvidence, checkEvidenceAtStart, type EvidenceReport, type EvidenceProblem, type EvidenceProblemKind } from './evidence-check'
export { readAckFile, type AckFileRead, type AckState } from './ack-file'
export { recordDigest, chainHash, GENESIS_HASH, type ChainPosition } from './evidence-chain'
export { resolveMessageLogSettings, type MessageLogSettings, type MessageLogSettingsInput } from './message-log-settings'
export {
  createTimestamper, signatureValueBytes, timestampHashChains, STAMP_LINK_SLICE, TS_HASH_CHAIN_DATA_REF,
  type Timestamper, type TimestampHashChainBuilder, type StampOutcome,
} from './timestamper'
export {
  buildTimestampRequest, validateTimestampResponse, requestTimestamp, timestampGenTime,
  type SelectedTsa, type TimestampResult,
} from './tsa-client'
export {
  findMessageRecord, findRecordsByQueryId, findTimestampRecord, listAttachments, listAttachmentSummaries, searchRecordMetadata, STORED_PIECE_BYTES,
  type EvidenceIncident, type StoredMessageRecord, type StoredAttachment, type StoredTimestampRecord, type RecordSearch, type RecordMetadataRow, type SpooledContent,
  type ExchangeFilter, type ExchangePageStart, type RecordPosition,
} from './message-record-repository'
export { MAX_RECORDS_PER_EXCHANGE, type ExchangePage, type ExchangeOnPage } from './exchange-pages'
export {
  writeEvidenceZip, EVIDENCE_MANIFEST_ENTRY,
  type EvidenceZip, type EvidenceZipManifest, type EvidenceZipOptions, type EvidenceZipRecord,
} from './evidence-zip'
export { archiveRecords, archiveFileName, containerEntryName, javaUrlEncode, PURGE_STEP_RECORDS, type ArchiveFile, type ArchiveRunResult } from './archive-writer'
export { verifyArchive, LINKING_INFO_ENTRY, type ArchiveVerification, type ArchiveProblem, type ArchiveChainStart } from './archive-verifier'
export { LinkingInfoBuilder, parseLinkingInfo, nextLinkDigest, type LinkingHashAlgorithm, type ParsedLinkingInfo } from './linking-info'
export { loadRecordEvidence, type RecordEvidence, type EvidenceContainerWriter } from './record-evidence'
export {
  exportEvidence, type ExportedContainer, type EvidenceContainerVerifier, type EvidenceVerification, type ExportOptions,
} from './evidence-export'
export { asicContainerWriter } from './asic-evidence'
export { diskUseForecast, type DiskUseForecast } from './disk-forecast'
export { readZipEntries, type ZipEntryData } from './zip-support'
