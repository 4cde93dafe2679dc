import { GlobalConf, readStoredConfiguration } from '../../src-main/global-conf'
import {
  asicContainerWriter, createMessageLog, exportEvidence, messageLogMigrations, searchRecordMetadata,
} from '../../src-main/message-log'
import { closeDatabase, migrate, openDatabase, silentLogger, systemClock } from '../../src-main/platform'
import { dataDirLayout } from '../../src-main/server'
import { verificationTrustFromGlobalConf, verifyAsicContainer } from '../../src-main/signature'

/**
 * Checks a stopped security server's message log as an auditor would: every record's ASiC-E evidence container
 * (xroad-protocols.md §6.3) is exported and verified with the signature domain's `verifyAsicContainer` against the
 * global configuration the server downloaded (signature, signer certificate chain, OCSP, batch time-stamp).
 * Records still waiting for the next batch time-stamp are stamped first, through the message log's own batch
 * time-stamping against the approved TSA, as the server would at its next interval.
 */
export interface EvidenceCheck {
  records: number
  requests: number
  responses: number
  /** Time-stamped by the server itself before it stopped. */
  stampedByServer: number
  /** Stamped here by one final batch (records that were waiting for the next interval). */
  stampedAtCheck: number
  verified: number
  /** The query ids that have records (an exchange acknowledged to a client must be among them). */
  queryIds: Set<string>
  failures: Array<{ recordId: number; queryId: string; code: string; message: string }>
}

/** `verify: false` only reads which records are there: no final stamp, no container exported or verified. */
export async function checkMessageLog(dataDir: string, options: { verify?: boolean } = {}): Promise<EvidenceCheck> {
  const verify = options.verify ?? true
  const layout = dataDirLayout(dataDir)
  const snapshot = readStoredConfiguration(layout.globalConfDir)
  if (snapshot === undefined) throw new Error(`${dataDir} holds no downloaded global configuration`)
  const conf = new GlobalConf(snapshot)
  const db = openDatabase(layout.messageLogDb, { synchronous: 'FULL' })
  try {
    migrate(db, [messageLogMigrations])
    const all = () => searchRecordMetadata(db, { limit: 1_000_000 })
    const before = all()
    const stampedByServer = before.filter((r) => r.timestamped).length
    if (verify && stampedByServer < before.length) {
      const log = createMessageLog({
        db, clock: systemClock, logger: silentLogger(),
        tsas: () => conf.getTsas().map((tsa) => ({ name: tsa.name, url: tsa.url, certificates: [tsa.cert] })),
      })
      try {
        const outcome = await log.timestampNow()
        if (outcome.error !== undefined) throw new Error(`The final batch time-stamp failed: ${outcome.error.faultCode} ${outcome.error.message}`)
      } finally {
        await log.stop()
      }
    }
    const rows = all()
    const result: EvidenceCheck = {
      records: rows.length,
      requests: rows.filter((r) => !r.response).length,
      responses: rows.filter((r) => r.response).length,
      stampedByServer,
      stampedAtCheck: rows.filter((r) => r.timestamped).length - stampedByServer,
      verified: 0,
      queryIds: new Set(rows.map((r) => r.queryId)),
      failures: [],
    }
    const verifier = (container: Uint8Array) => verifyAsicContainer(container, (instance) => verificationTrustFromGlobalConf(snapshot, instance))
    for (const queryId of verify ? result.queryIds : []) {
      for (const exported of await exportEvidence(db, queryId, asicContainerWriter, verifier)) {
        const v = exported.verification
        if (v.valid === true) result.verified++
        else result.failures.push({ recordId: exported.recordId, queryId, code: v.valid === false ? v.code : 'not_verified', message: v.valid === false ? v.message : v.reason })
      }
    }
    return result
  } finally {
    closeDatabase(db)
  }
}
