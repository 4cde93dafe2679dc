import { createHash } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import yazl from 'yazl'
import { SecurityServerError, type ReadableDb } from '../platform'
import { containerEntryName } from './archive-writer'
import { findRecordsByQueryId, type StoredMessageRecord } from './message-record-repository'
import { loadRecordEvidence, type EvidenceContainerWriter } from './record-evidence'

/**
 * One ZIP of evidence for several exchanges: the ASiC-E container of every logged record of each query id
 * (xroad-protocols.md §6.3, named as X-Road's `AsicContainerNameGenerator` names them) and `manifest.json` listing
 * what is inside (query id, record, direction, logged time, time-stamped, body logged, size and SHA-256 of each
 * container). Written as a stream: a container is built only when the ZIP writer reaches it, which happens once the
 * previous one has been read, so a large selection never sits in memory at once.
 */
export const EVIDENCE_MANIFEST_ENTRY = 'manifest.json'

export interface EvidenceZipRecord {
  fileName: string
  queryId: string
  recordId: number
  direction: 'request' | 'response'
  loggedAt: string
  timestamped: boolean
  bodyLogged: boolean
  size: number
  sha256: string
}

export interface EvidenceZipManifest {
  format: 'gatehouse-evidence-export/1'
  createdAt: string
  /** The query ids asked for, in order; `records` lists the containers of those found. */
  queryIds: string[]
  /** Query ids with no logged record (purged, or never logged here). */
  notFound: string[]
  records: EvidenceZipRecord[]
  /** Added by the caller, e.g. the exporting server and user. */
  [extra: string]: unknown
}

export interface EvidenceZipOptions {
  createdAt: Date
  /** Extra top-level fields of the manifest (never the containers' content). */
  manifestExtra?: Record<string, unknown>
}

export interface EvidenceZip {
  /** The ZIP bytes; an error building a container ends the stream with that error. */
  stream: Readable
  /** The query ids found and their records, known before the stream starts. */
  records: Array<Pick<StoredMessageRecord, 'id' | 'queryId' | 'response'>>
  notFound: string[]
  /** Settles with the manifest once it is written (rejects when the ZIP failed). */
  manifest: Promise<EvidenceZipManifest>
}

export function writeEvidenceZip(db: ReadableDb, queryIds: readonly string[], writer: EvidenceContainerWriter, options: EvidenceZipOptions): EvidenceZip {
  const unique = [...new Set(queryIds)]
  const found = unique.map((queryId) => ({ queryId, records: findRecordsByQueryId(db, queryId) }))
  const records = found.flatMap((f) => f.records)
  const notFound = found.filter((f) => f.records.length === 0).map((f) => f.queryId)
  const zip = new yazl.ZipFile()
  const listed: EvidenceZipRecord[] = []
  const out = new PassThrough()
  let settle: { resolve: (m: EvidenceZipManifest) => void; reject: (e: unknown) => void } | undefined
  const manifest = new Promise<EvidenceZipManifest>((resolve, reject) => {
    settle = { resolve, reject }
  })
  manifest.catch(() => undefined)
  const fail = (error: unknown): void => {
    settle?.reject(error)
    out.destroy(error as Error)
  }
  for (const record of records) {
    const fileName = containerEntryName(record)
    // ASiC-E containers are ZIPs already: stored, not compressed again.
    zip.addReadStreamLazy(fileName, { mtime: new Date(record.timeMs), mode: 0o100644, compress: false }, (done) => {
      Promise.resolve()
        .then(() => writer(loadRecordEvidence(db, record.id)))
        .then((container) => {
          const bytes = Buffer.from(container)
          listed.push({
            fileName, queryId: record.queryId, recordId: record.id, direction: record.response ? 'response' : 'request',
            loggedAt: new Date(record.timeMs).toISOString(), timestamped: record.timestampRecordId !== null, bodyLogged: record.bodyLogged,
            size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'),
          })
          done(null, Readable.from([bytes]))
        })
        .catch((error: unknown) => done(error, Readable.from([])))
    })
  }
  let written: EvidenceZipManifest | undefined
  zip.addReadStreamLazy(EVIDENCE_MANIFEST_ENTRY, { mtime: options.createdAt, mode: 0o100644, compress: true }, (done) => {
    written = {
      format: 'gatehouse-evidence-export/1', createdAt: options.createdAt.toISOString(), ...options.manifestExtra,
      queryIds: unique, notFound, records: listed,
    }
    done(null, Readable.from([Buffer.from(`${JSON.stringify(written, null, 2)}\n`, 'utf8')]))
  })
  zip.end()
  zip.on('error', fail)
  zip.outputStream.on('error', fail)
  zip.outputStream.on('end', () => {
    if (written !== undefined) settle?.resolve(written)
  })
  zip.outputStream.pipe(out)
  // A reader that stops early (a closed download) ends the export unfinished.
  out.on('close', () => settle?.reject(new SecurityServerError('io_error', 'The evidence ZIP was not read to its end')))
  return { stream: out, records: records.map((r) => ({ id: r.id, queryId: r.queryId, response: r.response })), notFound, manifest }
}
