/**
 * An operational monitoring record (PR-OPMON; query_operational_data_response_payload_schema.yaml): timestamps
 * in milliseconds except `monitoringDataTs` (seconds), identifiers in their encoded form.
 */
export interface OperationalRecord {
  monitoringDataTs: number
  securityServerType: 'Client' | 'Producer'
  requestInTs: number
  requestOutTs?: number
  responseInTs?: number
  responseOutTs: number
  clientId?: string
  serviceId?: string
  restMethod?: string
  restPath?: string
  messageId?: string
  xRequestId?: string
  messageUserId?: string
  messageIssue?: string
  representedParty?: string
  messageProtocolVersion?: string
  clientSecurityServerAddress?: string
  serviceSecurityServerAddress?: string
  requestSize?: number
  responseSize?: number
  statusCode?: number
  succeeded: boolean
  faultCode?: string
  faultString?: string
  serviceType?: 'WSDL' | 'REST' | 'OPENAPI3'
}

export interface TrafficBucket {
  /** Bucket start, seconds since the epoch. */
  start: number
  succeeded: number
  failed: number
}
