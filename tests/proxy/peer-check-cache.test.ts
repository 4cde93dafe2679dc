import { describe, expect, it } from 'vitest'
import { PeerCheckCache, type PeerCheckInputs } from '../../src-main/proxy'

/** Issue 15 §2: the server proxy's TLS client checks are decided once per connection and never reused stale. */
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)

function setup() {
  const cache = new PeerCheckCache()
  const conf = {}
  const inputs = (over: Partial<PeerCheckInputs> = {}): PeerCheckInputs => ({
    conf, client: 'SUBSYSTEM:LAB/GOV/1/app', chain: [bytes(1, 2), bytes(3)], ocspResponses: [bytes(9, 9)], ...over,
  })
  let checks = 0
  const check = (validUntilMs = 10_000) => () => {
    checks++
    return validUntilMs
  }
  return { cache, conf, inputs, check, checks: () => checks }
}

describe('PeerCheckCache', () => {
  it('decides once per connection and reuses the decision for the same inputs', async () => {
    const { cache, inputs, check, checks } = setup()
    const connection = {}
    await cache.verify(connection, inputs(), 1000, check())
    await cache.verify(connection, inputs(), 2000, check())
    await cache.verify(connection, inputs({ chain: [bytes(1, 2), bytes(3)], ocspResponses: [bytes(9, 9)] }), 3000, check())
    expect(checks()).toBe(1)
    expect(cache.stats).toEqual({ reused: 2, checked: 1 })
    // Another connection decides for itself; without a connection every request is checked.
    await cache.verify({}, inputs(), 3000, check())
    await cache.verify(undefined, inputs(), 3000, check())
    await cache.verify(undefined, inputs(), 3000, check())
    expect(checks()).toBe(4)
  })

  it('decides again when the configuration, the client, the chain or the OCSP responses differ', async () => {
    const { cache, inputs, check, checks } = setup()
    const connection = {}
    await cache.verify(connection, inputs(), 1000, check())
    await cache.verify(connection, inputs({ conf: {} }), 1000, check())
    expect(checks()).toBe(2)
    const conf = {}
    await cache.verify(connection, inputs({ conf }), 1000, check())
    await cache.verify(connection, inputs({ conf, client: 'SUBSYSTEM:LAB/GOV/1/other' }), 1000, check())
    await cache.verify(connection, inputs({ conf, client: 'SUBSYSTEM:LAB/GOV/1/other', chain: [bytes(1, 2)] }), 1000, check())
    await cache.verify(connection, inputs({ conf, client: 'SUBSYSTEM:LAB/GOV/1/other', chain: [bytes(1, 2)], ocspResponses: [bytes(9, 8)] }), 1000, check())
    await cache.verify(connection, inputs({ conf, client: 'SUBSYSTEM:LAB/GOV/1/other', chain: [bytes(1, 2)], ocspResponses: [bytes(9, 8), bytes(7)] }), 1000, check())
    expect(checks()).toBe(7)
  })

  it('decides again after an invalidation (the live runtime re-derives on a configuration change)', async () => {
    const { cache, inputs, check, checks } = setup()
    const connection = {}
    await cache.verify(connection, inputs(), 1000, check())
    cache.invalidate()
    await cache.verify(connection, inputs(), 1000, check())
    await cache.verify(connection, inputs(), 1000, check())
    expect(checks()).toBe(2)
  })

  it('keeps nothing from a check during which the configuration changed', async () => {
    const { cache, inputs } = setup()
    const connection = {}
    let count = 0
    await cache.verify(connection, inputs(), 1000, async () => {
      count++
      cache.invalidate()
      return 10_000
    })
    await cache.verify(connection, inputs(), 1000, () => ++count && 10_000)
    expect(count).toBe(2)
  })

  it('holds only inside the time window the check returned (certificate expiry, OCSP freshness)', async () => {
    const { cache, inputs, check, checks } = setup()
    const connection = {}
    await cache.verify(connection, inputs(), 1000, check(5000))
    await cache.verify(connection, inputs(), 5000, check(5000))
    expect(checks()).toBe(1)
    await cache.verify(connection, inputs(), 5001, check(9000))
    expect(checks()).toBe(2)
    // A clock set back before the decision decides again.
    await cache.verify(connection, inputs(), 4000, check(9000))
    expect(checks()).toBe(3)
  })

  it('never keeps a refusal: a failed check is made again on the next request', async () => {
    const { cache, inputs, check, checks } = setup()
    const connection = {}
    const refuse = (): number => {
      throw new Error('OCSP response indicates certificate status is REVOKED')
    }
    await expect(cache.verify(connection, inputs(), 1000, refuse)).rejects.toThrow(/REVOKED/)
    await expect(cache.verify(connection, inputs(), 1000, refuse)).rejects.toThrow(/REVOKED/)
    await cache.verify(connection, inputs(), 1000, check())
    expect(checks()).toBe(1)
    // And a refusal after a success drops the success.
    await expect(cache.verify(connection, inputs({ conf: {} }), 1000, refuse)).rejects.toThrow(/REVOKED/)
    await expect(cache.verify(connection, inputs(), 1000, refuse)).rejects.toThrow(/REVOKED/)
  })

  it('compares the bytes it saw, not the buffers a later message reuses', async () => {
    const { cache, inputs, check, checks } = setup()
    const connection = {}
    const ocsp = bytes(9, 9)
    await cache.verify(connection, inputs({ ocspResponses: [ocsp] }), 1000, check())
    ocsp[1] = 8
    await cache.verify(connection, inputs({ ocspResponses: [ocsp] }), 1000, check())
    expect(checks()).toBe(2)
  })
})
