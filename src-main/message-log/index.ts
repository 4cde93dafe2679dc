/**
 * Message log: the legal evidence of every exchange — records committed before an exchange proceeds, RFC 3161
 * time-stamping with fail-closed behaviour, linked log archives, and evidence export.
 */
export { messageLogMigrations } from './migrations'
export {
  createMessageLog, signatureHash,
  type MessageLog, type MessageLogOptions, type MessageToLog, type MessageLogStatus, type RecordId, type AttachmentSource,
} from './message-log'
export { resolveMessageLogSettings, type MessageLogSettings, type MessageLogSettingsInput } from './message-log-settings'
export {
  createTimestamper, signatureValueBytes, timestampHashChains, TS_HASH_CHAIN_DATA_REF,
  type Timestamper, type TimestampHashChainBuilder, type StampOutcome,
} from './timestamper'
export {
  buildTimestampRequest, validateTimestampResponse, requestTimestamp, timestampGenTime,
  type SelectedTsa, type TimestampResult,
} from './tsa-client'
export {
  findMessageRecord, findRecordsByQueryId, findTimestampRecord, listAttachments, searchRecordMetadata,
  type StoredMessageRecord, type StoredAttachment, type StoredTimestampRecord, type RecordSearch, type RecordMetadataRow,
  type ExchangeFilter, type ExchangePageStart, type RecordPosition,
} from './message-record-repository'
export { MAX_RECORDS_PER_EXCHANGE, type ExchangePage, type ExchangeOnPage } from './exchange-pages'
export {
  writeEvidenceZip, EVIDENCE_MANIFEST_ENTRY,
  type EvidenceZip, type EvidenceZipManifest, type EvidenceZipOptions, type EvidenceZipRecord,
} from './evidence-zip'
export { archiveRecords, archiveFileName, containerEntryName, javaUrlEncode, type ArchiveFile, type ArchiveRunResult } from './archive-writer'
export { verifyArchive, LINKING_INFO_ENTRY, type ArchiveVerification, type ArchiveProblem, type ArchiveChainStart } from './archive-verifier'
export { LinkingInfoBuilder, parseLinkingInfo, nextLinkDigest, type LinkingHashAlgorithm, type ParsedLinkingInfo } from './linking-info'
export { loadRecordEvidence, type RecordEvidence, type EvidenceContainerWriter } from './record-evidence'
export {
  exportEvidence, type ExportedContainer, type EvidenceContainerVerifier, type EvidenceVerification, type ExportOptions,
} from './evidence-export'
export { asicContainerWriter } from './asic-evidence'
export { diskUseForecast, type DiskUseForecast } from './disk-forecast'
export { readZipEntries, type ZipEntryData } from './zip-support'
