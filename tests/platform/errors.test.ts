import { describe, expect, it } from 'vitest'
import { SecurityServerError, clientError, toSecurityServerError } from '../../src-main/platform'
import { memberId, IdentifierError } from '@shared/domain/identifiers'
import { isErrorCode, normalizeFaultCode } from '@shared/error-codes'

describe('SecurityServerError', () => {
  it('builds dotted fault codes with withPrefix, outermost first', () => {
    const error = clientError('missing_body', 'Malformed SOAP message: body missing')
    const fault = error.withPrefix('service_failed').withPrefix('server.clientproxy')
    expect(fault.faultCode).toBe('server.clientproxy.service_failed.missing_body')
    expect(fault.origin).toBe('server.clientproxy')
    expect(fault.clientFault).toBe(true)
    expect(error.faultCode).toBe('missing_body')
  })

  it('carries a reason named in detail with its parameters across the transports, prefixes included', () => {
    const error = new SecurityServerError('ceremony_step_refused', 'Carl confirmed twice', { detail: 'confirmed-twice', params: { person: 'Carl' }, clientFault: true })
    expect(error.withPrefix('server').toDto()).toEqual({ code: 'server.ceremony_step_refused', message: 'Carl confirmed twice', detail: 'confirmed-twice', params: { person: 'Carl' } })
    expect(clientError('not_found', 'gone').toDto()).toEqual({ code: 'not_found', message: 'gone' })
  })

  it('keeps identifier errors as client faults and wraps anything else as internal', () => {
    let idError: unknown
    try {
      memberId('EE', '', '1')
    } catch (e) {
      idError = e
    }
    expect(idError).toBeInstanceOf(IdentifierError)
    const wrapped = toSecurityServerError(idError)
    expect(wrapped.code).toBe('invalid_identifier')
    expect(wrapped.clientFault).toBe(true)
    const internal = toSecurityServerError(new TypeError('boom'))
    expect(internal.code).toBe('internal_error')
    expect(internal.clientFault).toBe(false)
  })

  it("matches 7.7 and 7.8 spellings of a fault code", () => {
    expect(normalizeFaultCode('Server.ClientProxy.SslAuthenticationFailed')).toBe(normalizeFaultCode('server.clientproxy.ssl_authentication_failed'))
    expect(isErrorCode('global_conf_outdated')).toBe(true)
    expect(isErrorCode('OutdatedGlobalConf')).toBe(false)
  })
})
