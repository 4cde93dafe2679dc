import type { ClientId, SecurityServerId, ServiceId } from '@shared/domain/identifiers'

/**
 * The X-Road SOAP header (PR-MESS §2.3; xroad-protocols.md §3.1; X-Road's `SoapHeader`): the fields a message
 * carries, as read from the envelope. Optional strings keep the difference between absent and empty (`<xroad:issue/>`
 * is the empty string), as X-Road's consistency check does.
 */
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const SOAP_ENCODING_NS = 'http://schemas.xmlsoap.org/soap/encoding/'
export const XROAD_NS = 'http://x-road.eu/xsd/xroad.xsd'
export const REPRESENTATION_NS = 'http://x-road.eu/xsd/representation.xsd'
export const SECURITY_TOKEN_NS = 'http://x-road.eu/xsd/security-token.xsd'
/** `requestHash@algorithmId` the provider writes (SHA-512, X-Road's default digest; xroad-protocols.md §3.2). */
export const REQUEST_HASH_ALGORITHM_ID = 'http://www.w3.org/2001/04/xmlenc#sha512'

export interface RequestHash {
  algorithmId?: string
  value: string
}

/** Third-party representation extension (PR-THIRDPARTY): `repr:partyClass`?, `repr:partyCode`. */
export interface RepresentedParty {
  partyClass?: string
  partyCode?: string
}

/** Security-token extension: `sectoken:securityToken@tokenType`. */
export interface SecurityToken {
  tokenType?: string
  value: string
}

export interface SoapHeader {
  client: ClientId
  service: ServiceId
  id: string
  protocolVersion: string
  userId?: string
  issue?: string
  securityServer?: SecurityServerId
  requestHash?: RequestHash
  representedParty?: RepresentedParty
  securityToken?: SecurityToken
}
