import type { SoapMessage } from '../../soap'
import type { ExchangeObservation } from '../proxy-deps'

/** The SOAP fields of an operational-monitoring record (PR-OPMON: protocol version, represented party, attachments). */
export function soapObservation(soap: SoapMessage, attachments: ReadonlyArray<{ body: { size: number } }>): NonNullable<ExchangeObservation['soap']> {
  const party = soap.header.representedParty
  return {
    protocolVersion: soap.header.protocolVersion,
    ...(party === undefined ? {} : { representedParty: [party.partyClass, party.partyCode].filter((p) => p !== undefined).join('/') }),
    requestAttachmentCount: attachments.length,
    ...(attachments.length === 0 ? {} : { requestMimeSize: soap.bytes.byteLength + attachments.reduce((n, a) => n + a.body.size, 0) }),
  }
}

export function responseObservation(soap: SoapMessage, attachments: ReadonlyArray<{ body: { size: number } }>): NonNullable<ExchangeObservation['soap']> {
  return {
    responseAttachmentCount: attachments.length,
    ...(attachments.length === 0 ? {} : { responseMimeSize: soap.bytes.byteLength + attachments.reduce((n, a) => n + a.body.size, 0) }),
  }
}
