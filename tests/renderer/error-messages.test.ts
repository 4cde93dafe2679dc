// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { AdminError } from '../../src-renderer/lib/admin-client'
import { describeError } from '../../src-renderer/lib/error-messages'
import en from '../../src-renderer/i18n/locales/en/errors.json'

/** A central server's refusal relayed by the management service ("<code> with statusCode <status>") is explained by its own code. */
describe('describeError', () => {
  it('explains a refusal the management service relays by the central server\'s code, and keeps its text as the title', () => {
    const relayed = describeError(new AdminError('internal_error', 'management_request_client_already_registered with statusCode 409'))
    expect(relayed).toEqual({
      title: 'management_request_client_already_registered with statusCode 409', code: 'internal_error',
      text: en.codes.management_request_client_already_registered,
    })
    expect(describeError(new AdminError('internal_error', 'no_such_code with statusCode 409')).text).toBe(en.codes.internal_error)
    expect(describeError(new AdminError('server.clientproxy.internal_error', 'management_request_member_not_found with statusCode 404')).text)
      .toBe(en.codes.management_request_member_not_found)
  })
})
