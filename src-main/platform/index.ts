/**
 * Platform: what every domain stands on and nothing domain-specific — the error model, structured logging,
 * the clock, atomic files, SQLite opening/migrations/backup, the storage seam (SQLite or PostgreSQL behind one synchronous
 * SQL interface), hardened XML parsing, ZIP writing and the bounded outbound HTTP request.
 */
export { SecurityServerError, clientError, toSecurityServerError, MAX_ERROR_MESSAGE_LENGTH } from './errors'
export { createLogger, silentLogger, logFailure, recentLogs, LogRing, REDACTED_PATHS, type Logger, type LogLevel } from './logger'
export { systemClock, ManualClock, type Clock } from './clock'
export { writeFileAtomic, fsyncDirectory } from './files'
export {
  openDatabase, inTransaction, integrityCheck, backupDatabase, closeDatabase, databaseSettings,
  type ReadableDb, type WritableDb, type SynchronousLevel, type OpenDatabaseOptions,
} from './db/database'
export { DatabaseDerivedCache, newDerivedCacheScope, type DerivedCacheScope, type DerivedCacheStats } from './db/derived-cache'
export { migrate, appliedVersion, schemaVersions, type Migration, type MigrationSet } from './db/migrate'
export { sqlEngine, type SqlConnection, type SqlEngine, type SqlReader, type SqlRunResult, type SqlStatement, type SqlWriter } from './db/sql'
export { openPostgres, closePostgres, CHANGE_CHANNEL, PostgresDb, PostgresError, type PostgresOptions } from './db/postgres'
export { LruCache, bytesKey } from './lru-cache'
export { hashOf, messagePartSha512, type HashName } from './hash'
export {
  noteTransientBytes, releasedTransientBytes, watchExternalMemory, limitOldGenerationGrowth, EXTERNAL_GARBAGE_BUDGET_BYTES, LARGE_BODY_BYTES,
  TRANSIENT_GC_STEP_BYTES,
} from './transient-memory'
export { tierUpSooner, TIER_UP_INTERRUPT_BUDGET } from './code-tiering'
export { ZipLayout, deflateEntry, dosDateTime, SYNC_DEFLATE_BYTES, ZIP_MAX_ENTRIES, ZIP_MAX_OFFSET, type ZipEntryOptions } from './zip-writer'
export { scanXml, decodeXmlReferences, XmlScanError, type XmlScanHandler, type XmlScanLimits } from './xml-scanner'
export { parseXml, childElements, optionalChild, requiredChild, textOf, identifierFields, DEFAULT_XML_LIMITS, type XmlLimits } from './xml'
export { derProblem, DEFAULT_DER_LIMITS, type DerLimits } from './der'
export { parseJson, DEFAULT_JSON_LIMITS, type JsonLimits } from './json'
export { pemBlocks, PemError, CERTIFICATE_LABELS, type PemBlock } from './pem'
export { bundleRequire, lazyModule } from './lazy-module'
export { requestBounded, RequestFailure, type BoundedRequest, type BoundedAnswer, type RequestFailureKind } from './bounded-request'
