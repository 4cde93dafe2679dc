import { identifierEquals } from '@shared/domain/identifiers'
import { SecurityServerError } from '../platform'
import type { SoapHeader } from './soap-header'

/**
 * The consumer's check that the provider's response belongs to the request (X-Road's `SoapUtils.checkConsistency`
 * over the `@CheckConsistency` fields of `SoapHeader`; PR-MESS §2.3: the response echoes the request's headers):
 * `client`, `service`, `userId`, `representedParty`, `issue` and `id` must be equal, else
 * `service_failed.inconsistent_response` (a fault on the other side). `protocolVersion`, `securityServer`,
 * `requestHash` and `securityToken` are not compared.
 */
export function checkConsistency(request: SoapHeader, response: SoapHeader): void {
  const field = firstInconsistentField(request, response)
  if (field !== undefined) {
    throw new SecurityServerError('inconsistent_response', `Response from server proxy is not consistent with request (field '${field}' does not match)`, {
      prefixes: ['service_failed'],
    })
  }
}

export function firstInconsistentField(request: SoapHeader, response: SoapHeader): string | undefined {
  if (!identifierEquals(request.client, response.client)) return 'client'
  if (!identifierEquals(request.service, response.service)) return 'service'
  if (request.userId !== response.userId) return 'userId'
  const a = request.representedParty
  const b = response.representedParty
  if ((a === undefined) !== (b === undefined) || a?.partyClass !== b?.partyClass || a?.partyCode !== b?.partyCode) return 'representedParty'
  if (request.issue !== response.issue) return 'issue'
  if (request.id !== response.id) return 'queryId'
  return undefined
}
