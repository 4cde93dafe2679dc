import { SecurityServerError, toSecurityServerError, type ReadableDb } from '../platform'
import { findRecordsByQueryId } from './message-record-repository'
import { containerEntryName } from './archive-writer'
import { loadRecordEvidence, type EvidenceContainerWriter } from './record-evidence'

/**
 * Evidence export for a query id (xroad-protocols.md §6.3 `/asic?queryId=…`): the ASiC-E container of each logged
 * request/response, each with the verdict of the container verifier (the signature domain's `verifyAsicContainer`).
 */
export interface ExportedContainer {
  fileName: string
  recordId: number
  response: boolean
  timestamped: boolean
  bodyLogged: boolean
  container: Uint8Array
  verification: EvidenceVerification
}

/** Verifies one container, throwing X-Road's error when it does not verify (asicverifier semantics, §6.4). */
export type EvidenceContainerVerifier = (container: Uint8Array) => unknown | Promise<unknown>

export type EvidenceVerification =
  | { valid: true; report: unknown }
  | { valid: false; code: string; message: string }
  | { valid: null; reason: string }

async function verifyEvidence(verifier: EvidenceContainerVerifier | undefined, container: Uint8Array): Promise<EvidenceVerification> {
  if (verifier === undefined) return { valid: null, reason: 'no verification configuration was given' }
  try {
    return { valid: true, report: await verifier(container) }
  } catch (error) {
    const coded = toSecurityServerError(error)
    return { valid: false, code: coded.faultCode, message: coded.message }
  }
}

export interface ExportOptions {
  requestOnly?: boolean
  responseOnly?: boolean
}

export async function exportEvidence(
  db: ReadableDb,
  queryId: string,
  writer: EvidenceContainerWriter,
  verifier: EvidenceContainerVerifier | undefined,
  options: ExportOptions = {},
): Promise<ExportedContainer[]> {
  const records = findRecordsByQueryId(db, queryId).filter(
    (r) => !(options.requestOnly && r.response) && !(options.responseOnly && !r.response),
  )
  if (records.length === 0) throw new SecurityServerError('not_found', `No logged message has query id '${queryId}'`, { clientFault: true })
  const out: ExportedContainer[] = []
  for (const record of records) {
    const container = await writer(loadRecordEvidence(db, record.id))
    out.push({
      fileName: containerEntryName(record),
      recordId: record.id,
      response: record.response,
      timestamped: record.timestampRecordId !== null,
      bodyLogged: record.bodyLogged,
      container,
      verification: await verifyEvidence(verifier, container),
    })
  }
  return out
}
