import { gzipSync } from 'node:zlib'
import { OP_MONITORING_NS } from './monitoring-services'
import type { OperationalDataResult } from './operational-data-query'

/**
 * The answer to `getSecurityServerOperationalData` (PR-OPMON §2, Annex C.2): a multipart/related message whose SOAP
 * part's body holds `recordsCount`, `records` (a swaRef, WS-I AP 1.0 — SOAP with attachments, not MTOM: X-Road's
 * `SoapEncoderAttachmentMarshaller` implements only `addSwaRefAttachment`) and `nextRecordsFrom`; the second part is
 * the records as JSON (`{"records":[…]}`), gzip-compressed (RFC 1952), `application/gzip`, with the content id
 * `operational-monitoring-data.json.gz` (`OperationalDataRequestHandler.CID`), `Content-Transfer-Encoding: binary`.
 */
export const OPERATIONAL_DATA_CONTENT_ID = 'operational-monitoring-data.json.gz'
export const OPERATIONAL_DATA_CONTENT_TYPE = 'application/gzip'

export interface MonitoringAttachment {
  contentId: string
  contentType: string
  /** MIME headers besides Content-Type, as X-Road writes them (`QueryRequestHandler.getAdditionalAttachmentHeaders`). */
  headers: ReadonlyArray<readonly [string, string]>
  content: Buffer
}

export interface OperationalDataResponse {
  /** The `om:getSecurityServerOperationalDataResponse` element that replaces the request's body content. */
  bodyXml: string
  attachment: MonitoringAttachment
}

/** The JSON payload (Annex B): `{"records":[…]}`. */
export function operationalDataPayload(result: OperationalDataResult): string {
  return JSON.stringify({ records: result.records })
}

export function operationalDataResponse(result: OperationalDataResult): OperationalDataResponse {
  const next = result.nextRecordsFrom === undefined ? '' : `<om:nextRecordsFrom>${result.nextRecordsFrom}</om:nextRecordsFrom>`
  return {
    bodyXml:
      `<om:getSecurityServerOperationalDataResponse xmlns:om="${OP_MONITORING_NS}">` +
      `<om:recordsCount>${result.records.length}</om:recordsCount>` +
      `<om:records>cid:${OPERATIONAL_DATA_CONTENT_ID}</om:records>${next}` +
      '</om:getSecurityServerOperationalDataResponse>',
    attachment: {
      contentId: OPERATIONAL_DATA_CONTENT_ID,
      contentType: OPERATIONAL_DATA_CONTENT_TYPE,
      headers: [['Content-Transfer-Encoding', 'binary'], ['Content-ID', `<${OPERATIONAL_DATA_CONTENT_ID}>`]],
      content: gzipSync(Buffer.from(operationalDataPayload(result), 'utf8')),
    },
  }
}
