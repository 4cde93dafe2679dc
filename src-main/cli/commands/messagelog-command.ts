import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { decodeIdentifier, encodeIdentifier } from '@shared/domain/identifiers'
import {
  asicContainerWriter, checkEvidence, diskUseForecast, exportEvidence, messageLogMigrations, readAckFile, searchRecordMetadata,
  type AckFileRead, type EvidenceReport, type RecordSearch,
} from '../../message-log'
import { readConfigurationDirectory } from '../../global-conf'
import { describeSigner, asicTrustFromGlobalConf, verifyAsicContainer } from '../../signature'
import {
  clientError, closeDatabase, migrate, openDatabase, systemClock, toSecurityServerError, writeFileAtomic, type WritableDb,
} from '../../platform'
import { dataDirLayout } from '../../server'
import { CliExit, EXIT_FAILED, EXIT_USAGE, printResult } from '../cli-support'

/**
 * `gatehouse messagelog export|search|forecast|check`: evidence export of a query id (ASiC-E containers plus a
 * verification report, xroad-protocols.md §6.3–6.4), metadata search of logged messages (time range, client, service,
 * query id), the disk-use forecast, and the evidence check (every record against its chain hash, the chain against
 * the acknowledgement file; `message-log/evidence-check.ts`), read from DATA_DIR/messagelog.sqlite.
 */
interface DataDirOptions {
  dataDir: string
  json?: boolean
}

interface SearchOptions extends DataDirOptions {
  from?: string
  to?: string
  client?: string
  service?: string
  queryId?: string
  limit: string
}

function openMessageLog(dataDir: string): WritableDb {
  const path = dataDirLayout(dataDir).messageLogDb
  if (!existsSync(path)) throw clientError('config_file_not_found', `No message log at ${path}`)
  const db = openDatabase(path, { synchronous: 'FULL' })
  try {
    migrate(db, [messageLogMigrations])
  } catch (error) {
    closeDatabase(db)
    throw error
  }
  return db
}

function time(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new CliExit(EXIT_USAGE, `gatehouse: ${flag} '${value}' is not an ISO-8601 time`)
  return ms
}

function identifier(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    return encodeIdentifier(decodeIdentifier(value))
  } catch (error) {
    throw toSecurityServerError(error)
  }
}

function searchCommand(opts: SearchOptions): void {
  const limit = Number(opts.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliExit(EXIT_USAGE, 'gatehouse: --limit must be 1..10000')
  const search: RecordSearch = {
    fromMs: time(opts.from, '--from'), toMs: time(opts.to, '--to'), client: identifier(opts.client),
    service: identifier(opts.service), queryId: opts.queryId, limit,
  }
  const db = openMessageLog(opts.dataDir)
  try {
    const rows = searchRecordMetadata(db, search).map((r) => ({ ...r, time: new Date(r.timeMs).toISOString() }))
    printResult(opts, { records: rows }, () =>
      rows.length === 0
        ? 'no records'
        : rows.map((r) => `${r.time} #${r.id} ${r.response ? 'response' : 'request '} ${r.queryId} ${r.client} -> ${r.service}` +
            `${r.timestamped ? ' stamped' : ' unstamped'}${r.archived ? ' archived' : ''}`).join('\n'),
    )
  } finally {
    closeDatabase(db)
  }
}

function forecastCommand(opts: DataDirOptions & { days: string }): void {
  const days = Number(opts.days)
  if (!(days > 0)) throw new CliExit(EXIT_USAGE, 'gatehouse: --days must be positive')
  const db = openMessageLog(opts.dataDir)
  try {
    const f = diskUseForecast(db, dataDirLayout(opts.dataDir).root, systemClock, days)
    printResult(opts, f, () =>
      `${f.recordsPerDay.toFixed(1)} records/day × ${Math.round(f.averageRecordBytes)} B = ${Math.round(f.bytesPerDay)} B/day; ` +
      `${f.freeBytes} B free; ${f.daysUntilFull === null ? 'no growth' : `full in ${f.daysUntilFull.toFixed(1)} days`}`,
    )
  } finally {
    closeDatabase(db)
  }
}

function reportText(r: EvidenceReport): string {
  const open = r.problems.filter((p) => !p.acknowledged)
  const done = r.problems.filter((p) => p.acknowledged)
  const lines = [
    `message log: ${r.records} record(s)${r.firstSeq === null ? '' : ` (chain ${r.firstSeq}–${r.lastSeq})`}, chain starts after ${r.baseSeq}; ` +
      `last acknowledged ${r.lastAcknowledgedSeq ?? 'unknown'}; acknowledgement file ${r.ackFile}`,
    `verified ${r.verifiedRecords} record(s): ${open.length === 0 ? 'every acknowledged record is there and unchanged' : `${open.length}${r.problemsTruncated ? '+' : ''} problem(s)`}`,
    ...open.map((p) => `PROBLEM ${p.kind}: ${p.detail}`),
    ...done.map((p) => `acknowledged ${p.kind}: ${p.detail}`),
  ]
  return lines.join('\n')
}

/** The report of a database SQLite cannot open (truncated, overwritten): the loss of everything in it. */
function unreadableReport(message: string, ack: AckFileRead): EvidenceReport {
  return {
    checkedAtMs: Date.now(), scope: 'full', records: 0, firstSeq: null, lastSeq: null, baseSeq: 0,
    lastAcknowledgedSeq: ack.status === 'ok' ? ack.state.last.seq : null, ackFile: ack.status, verifiedRecords: 0, problemsTruncated: false,
    problems: [{ kind: 'unreadable', firstSeq: null, lastSeq: null, detail: `the message-log database cannot be read: ${message}`, acknowledged: false }],
  }
}

/** Exit 1 while a problem is not acknowledged (the running server refuses traffic then, when fail-closed). */
async function checkCommand(opts: DataDirOptions): Promise<void> {
  const layout = dataDirLayout(opts.dataDir)
  if (!existsSync(layout.messageLogDb)) throw clientError('config_file_not_found', `No message log at ${layout.messageLogDb}`)
  const ack = readAckFile(layout.messageLogAckFile)
  let db: WritableDb | undefined
  let report: EvidenceReport
  try {
    db = openMessageLog(opts.dataDir)
    report = (await checkEvidence({ db, nowMs: Date.now(), ack, scope: 'full' })).report
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (db !== undefined || (coded.code !== 'database_error' && coded.code !== 'migration_failed')) throw error
    report = unreadableReport(coded.message, ack)
  } finally {
    if (db !== undefined) closeDatabase(db)
  }
  const ok = report.problems.every((p) => p.acknowledged)
  printResult(opts, { ok, checkedAt: new Date(report.checkedAtMs).toISOString(), ...report }, () => reportText(report))
  if (!ok) throw new CliExit(EXIT_FAILED)
}

interface ExportCliOptions extends DataDirOptions {
  queryId: string
  out: string
  globalconf?: string
  requestOnly?: boolean
  responseOnly?: boolean
}

async function exportCommand(opts: ExportCliOptions): Promise<void> {
  if (opts.requestOnly && opts.responseOnly) throw new CliExit(EXIT_USAGE, 'gatehouse: give at most one of --request-only and --response-only')
  let verifier: ((container: Uint8Array) => Promise<unknown>) | undefined
  if (opts.globalconf !== undefined) {
    const snapshot = readConfigurationDirectory(opts.globalconf)
    verifier = async (container) => {
      const r = await verifyAsicContainer(container, asicTrustFromGlobalConf(snapshot))
      // The asicverifier's summary (xroad-protocols.md §6.4): signer, its certificate, TSA + time, OCSP responder.
      return { signer: describeSigner(r.signer), signerCert: r.signerCert, timestamp: r.timestamp, ocsp: r.ocsp, attachments: r.attachments }
    }
  }
  const db = openMessageLog(opts.dataDir)
  try {
    const exported = await exportEvidence(db, opts.queryId, asicContainerWriter, verifier, {
      requestOnly: opts.requestOnly, responseOnly: opts.responseOnly,
    })
    const out = resolve(opts.out)
    const containers = exported.map((e) => {
      const path = join(out, e.fileName)
      writeFileAtomic(path, e.container, 0o644)
      return {
        file: path, recordId: e.recordId, response: e.response, timestamped: e.timestamped, bodyLogged: e.bodyLogged,
        verification: e.verification,
      }
    })
    const value = { queryId: opts.queryId, containers }
    writeFileAtomic(join(out, 'verification-report.json'), `${JSON.stringify(value, null, 2)}\n`, 0o644)
    printResult(opts, value, () => containers.map((c) => {
      const v = c.verification
      const verdict = v.valid === true ? 'verified' : v.valid === false ? `NOT VALID: ${v.message} [${v.code}]` : `not verified (${v.reason})`
      return `${c.file}: ${c.response ? 'response' : 'request'}${c.timestamped ? '' : ', not yet time-stamped'}, ${verdict}`
    }).join('\n'))
    if (containers.some((c) => c.verification.valid === false)) throw new CliExit(EXIT_FAILED)
  } finally {
    closeDatabase(db)
  }
}

export function registerMessageLogCommand(program: Command): void {
  const messagelog = program.command('messagelog').description('the message log: evidence export, search, disk-use forecast and evidence check')
  messagelog
    .command('export')
    .description('write the ASiC-E container(s) of a query id and a verification report')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--query-id <id>', 'X-Road query id')
    .requiredOption('--out <dir>', 'directory for the containers and verification-report.json')
    .option('--globalconf <dir>', 'global configuration directory to verify the containers against')
    .option('--request-only', 'only the request')
    .option('--response-only', 'only the response')
    .option('--json', 'print one JSON document')
    .action(exportCommand)
  messagelog
    .command('search')
    .description('list logged messages (metadata only)')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--from <time>', 'logged at or after (ISO-8601)')
    .option('--to <time>', 'logged before (ISO-8601)')
    .option('--client <id>', 'client identifier, e.g. SUBSYSTEM:EE/GOV/1234/sub')
    .option('--service <id>', 'service identifier, e.g. SERVICE:EE/COM/5678/sub/getPerson')
    .option('--query-id <id>', 'X-Road query id')
    .option('--limit <n>', 'at most this many records', '100')
    .option('--json', 'print one JSON document')
    .action(searchCommand)
  messagelog
    .command('check')
    .description('verify every record against the evidence chain and the last acknowledged record; exit 1 on a loss not acknowledged')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print one JSON document')
    .action(checkCommand)
  messagelog
    .command('forecast')
    .description('records/day, bytes/day and days until the data volume fills')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--days <n>', 'window in days', '7')
    .option('--json', 'print one JSON document')
    .action(forecastCommand)
}
