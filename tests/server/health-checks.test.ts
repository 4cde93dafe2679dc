import { describe, expect, it } from 'vitest'
import { ManualClock, SecurityServerError, silentLogger } from '../../src-main/platform'
import { createHealthChecks, HEALTH_FAILURE_VALID_MS, HEALTH_OK_VALID_MS, MAINTENANCE_MESSAGE } from '../../src-main/server/health-checks'

/**
 * The load balancer's health checks at handler level (ig-xlb §3.4), over fakes of the four parts they read: X-Road's
 * three checks in X-Road's order, then Gatehouse's message-log check (issue 18), the first failure answering 500 with
 * its message, successes kept 2 s and failures 30 s, maintenance 503 before any check.
 */
type Core = Parameters<typeof createHealthChecks>[0]

interface World {
  confValid: boolean
  tokenLoggedIn: boolean
  ocsp: 'good' | 'revoked' | 'none'
  identity: boolean
  /** What the message log's fail-closed decision throws, if anything. */
  logRefuses?: SecurityServerError
  logDbBroken: boolean
  calls: string[]
}

function fakeCore(world: World): Core {
  const cert = { id: 'auth-cert', certDer: Buffer.from('auth') }
  return {
    globalConf: {
      current: () => {
        world.calls.push('global-conf')
        return {
          assertValid: () => {
            if (!world.confValid) throw new Error('expired')
          },
        }
      },
    },
    signer: {
      getAuthKey: async () => {
        world.calls.push('auth-key-ocsp')
        if (!world.tokenLoggedIn) throw new Error('token logged out')
        return { certDer: cert.certDer }
      },
      listCertificates: () => [cert],
      ocspStatus: () => ({ status: world.ocsp }),
    },
    serverConf: {
      identity: () => {
        world.calls.push('server-conf')
        return world.identity ? { serverId: {} } : undefined
      },
    },
    messageLog: {
      assertAcceptingMessages: () => {
        world.calls.push('message-log')
        if (world.logRefuses !== undefined) throw world.logRefuses
      },
      countUnstamped: () => {
        if (world.logDbBroken) throw new Error('SQLITE_CANTOPEN')
        return 0
      },
    },
  } as unknown as Core
}

function setup(overrides: Partial<World> = {}): { world: World; clock: ManualClock; health: ReturnType<typeof createHealthChecks> } {
  const world: World = { confValid: true, tokenLoggedIn: true, ocsp: 'good', identity: true, logDbBroken: false, calls: [], ...overrides }
  const clock = new ManualClock('2026-12-06T12:00:00Z')
  return { world, clock, health: createHealthChecks(fakeCore(world), clock, silentLogger()) }
}

describe('health checks (ig-xlb §3.4, plus the message log)', () => {
  it('answers 200 with an empty body when all four checks pass, run in X-Road\'s order with the message log last', async () => {
    const { world, health } = setup()
    expect(await health.answer()).toEqual({ status: 200, message: '' })
    expect(world.calls).toEqual(['global-conf', 'auth-key-ocsp', 'server-conf', 'message-log'])
    const status = await health.status()
    expect(status.checks.map((c) => [c.name, c.ok])).toEqual([['global-conf', true], ['auth-key-ocsp', true], ['server-conf', true], ['message-log', true]])
  })

  it('answers 500 with the message log\'s refusal when time-stamping has failed past its period, and runs nothing after the first failure', async () => {
    const refusal = new SecurityServerError('timestamping_failed', 'Cannot time-stamp messages: time-stamping has failed since 2026-12-06T08:00:00.000Z, longer than the acceptable 14400 s')
    const { world, health } = setup({ logRefuses: refusal })
    expect(await health.answer()).toEqual({ status: 500, message: `Message log is not accepting messages: ${refusal.message}` })

    const earlier = setup({ logRefuses: refusal, confValid: false })
    expect(await earlier.health.answer()).toEqual({ status: 500, message: 'Global configuration is expired' })
    expect(earlier.world.calls).toEqual(['global-conf'])
    expect(world.calls).toEqual(['global-conf', 'auth-key-ocsp', 'server-conf', 'message-log'])
  })

  it('answers 500 while lost evidence refuses traffic (logging_failed)', async () => {
    const { health } = setup({ logRefuses: new SecurityServerError('logging_failed', 'The message log has lost or altered acknowledged evidence (seq 4); no more messages are accepted') })
    const answer = await health.answer()
    expect(answer.status).toBe(500)
    expect(answer.message).toMatch(/^Message log is not accepting messages: The message log has lost/)
  })

  it('answers 500 when the message log database does not answer a read', async () => {
    const { health } = setup({ logDbBroken: true })
    expect(await health.answer()).toEqual({ status: 500, message: 'Message log database did not respond as expected' })
  })

  it('keeps a success 2 s and a failure 30 s before checking again', async () => {
    const { world, clock, health } = setup()
    await health.answer()
    world.logDbBroken = true
    clock.advance(HEALTH_OK_VALID_MS - 1)
    expect((await health.answer()).status).toBe(200)
    clock.advance(1)
    expect((await health.answer()).status).toBe(500)
    world.logDbBroken = false
    clock.advance(HEALTH_FAILURE_VALID_MS - 1)
    expect((await health.answer()).status).toBe(500)
    clock.advance(1)
    expect((await health.answer()).status).toBe(200)
  })

  it('answers 503 in maintenance mode without running a check', async () => {
    const { world, health } = setup({ logDbBroken: true })
    expect(health.setMaintenanceMode(true)).toBe('Maintenance mode set: false => true')
    expect(await health.answer()).toEqual({ status: 503, message: MAINTENANCE_MESSAGE })
    expect(world.calls).toEqual([])
  })
})
