import type { ClassContext } from './fault-context'
import type { LabService, Side } from './fault-pair'
import { isAcknowledged, type Outcome } from './fault-load'
import type { CertificateDto } from '@shared/admin-api/admin-api'
import { openLab } from '../../../src-main/lab'

/**
 * tsa-outage, ocsp-outage, conf-source-outage: one of the lab's services stopped mid-load, a security server restarted
 * during the outage, the service started again. Each class shortens its period (by system parameter or by the
 * central server's global setting, as an operator would) so a trial takes seconds, and checks that traffic follows
 * the parameter: it flows until the period runs out, is then refused with the X-Road error of the cause, stays
 * refused across the restart, and flows again once the service answers, without restarting anything.
 */

interface OutagePlan {
  service: LabService
  /** Seconds from the stop until traffic may stop at the earliest, and must have stopped at the latest. */
  earliestSeconds: number
  latestSeconds: number
  /** The X-Road error expected while refused. */
  refusal: RegExp
  /** Seconds within which traffic must flow again once the service is back. */
  recoverySeconds: number
  /** What the servers report about the cause when traffic stopped (for the progress log). */
  describe?: () => Promise<string>
  /** A check of the refusal against the servers' own record of the cause: a failure, or undefined. */
  check?: (refusal: Outcome) => Promise<string | undefined>
}

async function outageTrials(ctx: ClassContext, plan: OutagePlan): Promise<void> {
  const lab = (): typeof ctx.pair.lab => ctx.pair.lab
  for (let trial = 1; trial <= ctx.sizes.outageTrials; trial++) {
    const side: Side = trial % 2 === 1 ? 'consumer' : 'provider'
    ctx.startLoad()
    try {
      if ((await ctx.waitForTraffic(Date.now(), 60_000)) === undefined) throw new Error(`no traffic before the ${plan.service} outage`)
      await ctx.pause(ctx.between(500, 1500))
      // What one exchange takes on this machine now (the slowest answered in the last 10 s): the first message sent
      // after the service returns needs that long on top of the server's own recovery.
      const exchangeMs = ctx.slowestExchange(Date.now() - 10_000, Date.now())
      const stoppedAt = Date.now()
      await lab().stopService(plan.service)
      ctx.report.trials++
      const refusal = await ctx.waitForRefusal(stoppedAt, (plan.latestSeconds + 30) * 1000)
      if (plan.describe !== undefined) ctx.note(await plan.describe())
      const wrong = refusal === undefined ? undefined : await plan.check?.(refusal)
      if (wrong !== undefined) ctx.fail(`${plan.service} trial ${trial}: ${wrong}`)
      if (refusal === undefined) {
        ctx.fail(`${plan.service} trial ${trial}: traffic did not stop within ${plan.latestSeconds + 30} s of the outage`)
      } else {
        const after = (refusal.atMs - stoppedAt) / 1000
        // Answers sent after the refusal that still got through (the refusal started a window of fail-closed).
        ctx.note(`${plan.service} trial ${trial}: traffic stopped ${after.toFixed(1)} s after the outage began (expected ${plan.earliestSeconds}–${plan.latestSeconds} s), with ${refusal.code || `HTTP ${refusal.status}`}`)
        if (after < plan.earliestSeconds) ctx.fail(`${plan.service} trial ${trial}: traffic stopped after ${after.toFixed(1)} s, before the period allowed (${plan.earliestSeconds} s)`)
        if (after > plan.latestSeconds) ctx.fail(`${plan.service} trial ${trial}: traffic stopped only after ${after.toFixed(1)} s, later than the period allows (${plan.latestSeconds} s)`)
        if (!plan.refusal.test(refusal.code)) ctx.fail(`${plan.service} trial ${trial}: refused with '${refusal.code}' (HTTP ${refusal.status}), expected ${String(plan.refusal)}`)
      }
      // Across a restart: the outage goes on, and the restarted server must still refuse.
      await ctx.server(side).stop()
      await ctx.server(side).start()
      const restartedAt = Date.now()
      await ctx.pause(ctx.sizes.holdMs)
      const lateAcks = ctx.all().filter((o) => o.sentAtMs >= restartedAt + ctx.sizes.holdMs / 2 && isAcknowledged(o))
      if (lateAcks.length > 0) ctx.fail(`${plan.service} trial ${trial}: ${lateAcks.length} message(s) acknowledged after the ${side} restarted during the outage`)
      // The restarted server may refuse for a consequence of the cause (e.g. a peer without valid OCSP is unreachable),
      // but always with an X-Road error the information system can read.
      const refusedAgain = ctx.all().filter((o) => o.sentAtMs >= restartedAt && !isAcknowledged(o))
      const unclean = refusedAgain.filter((o) => o.code === '' || o.code.startsWith('network:'))
      if (unclean.length > 0) ctx.fail(`${plan.service} trial ${trial}: ${unclean.length} answer(s) without an X-Road error after the ${side} restarted (e.g. ${unclean[0]?.code || `HTTP ${unclean[0]?.status}`})`)
      const codes = [...new Set(refusedAgain.map((o) => o.code))]
      ctx.note(`${plan.service} trial ${trial}: after the ${side} restarted during the outage, refused with ${codes.join(', ') || 'nothing (no request answered)'}`)
      const returnedAt = Date.now()
      await lab().startService(plan.service)
      const flowing = await ctx.waitForTraffic(returnedAt, (plan.recoverySeconds + 30) * 1000)
      if (flowing === undefined) {
        ctx.fail(`${plan.service} trial ${trial}: traffic did not flow again within ${plan.recoverySeconds + 30} s of the ${plan.service} returning`)
      } else {
        ctx.report.recoveredWithoutRestart++
        const took = (flowing - returnedAt) / 1000
        const bound = plan.recoverySeconds + exchangeMs / 1000
        ctx.note(`${plan.service} trial ${trial}: traffic flowed again ${took.toFixed(1)} s after the ${plan.service} returned (bound ${plan.recoverySeconds} s + one exchange, ${(exchangeMs / 1000).toFixed(1)} s before the outage)`)
        if (took > bound) ctx.fail(`${plan.service} trial ${trial}: recovery took ${took.toFixed(1)} s, more than ${plan.recoverySeconds} s + one exchange (${(exchangeMs / 1000).toFixed(1)} s)`)
      }
      await ctx.pause(ctx.sizes.holdMs / 3)
    } finally {
      await lab().startService(plan.service).catch(() => undefined)
      await ctx.stopLoad()
    }
  }
  ctx.countUnrecorded()
}

async function setParameter(ctx: ClassContext, name: string, value: string | undefined): Promise<void> {
  for (const side of ['consumer', 'provider'] as const) {
    const admin = ctx.server(side).admin()
    if (value === undefined) await admin.call('settings', 'reset', [{ name }])
    else await admin.call('settings', 'set', [{ name, value }])
  }
}

/** Changes the lab's global settings and publishes a configuration with them. */
function labSettings(ctx: ClassContext, values: Parameters<ReturnType<typeof openLab>['setGlobalSettings']>[0]): void {
  const lab = openLab(ctx.pair.built.labDir)
  try {
    lab.setGlobalSettings(values)
  } finally {
    lab.close()
  }
  ctx.pair.lab.regenerate()
}

/** Both servers download the configuration now (what follows from it applies in the running servers). */
async function refreshBoth(ctx: ClassContext): Promise<void> {
  for (const side of ['consumer', 'provider'] as const) await ctx.server(side).admin().call('globalConf', 'refresh', [])
}

const TIMESTAMPING_INTERVAL_SECONDS = 2

/**
 * tsa-outage: `message-log.acceptable-timestamp-failure-period` P and a time-stamping interval of 2 s. The failure
 * clock starts one interval after the oldest unstamped record (or at the first failed attempt); traffic stops once
 * P has passed, with `timestamping_failed`.
 */
export async function tsaOutageClass(ctx: ClassContext): Promise<void> {
  const period = ctx.sizes.timestampFailurePeriodSeconds
  labSettings(ctx, { timeStampingIntervalSeconds: TIMESTAMPING_INTERVAL_SECONDS })
  await setParameter(ctx, 'message-log.acceptable-timestamp-failure-period', String(period))
  await refreshBoth(ctx)
  try {
    await outageTrials(ctx, {
      service: 'tsa', earliestSeconds: period - 1, latestSeconds: period + 2 * TIMESTAMPING_INTERVAL_SECONDS + 8,
      refusal: /timestamping/i, recoverySeconds: 2 * TIMESTAMPING_INTERVAL_SECONDS + 8,
    })
  } finally {
    await setParameter(ctx, 'message-log.acceptable-timestamp-failure-period', undefined)
  }
}

const OCSP_FETCH_INTERVAL_SECONDS = 2

/** The OCSP status of each server's active certificates, as the admin API shows it. */
async function ocspSeen(ctx: ClassContext): Promise<Array<{ side: Side; usage: string; status: string; thisUpdate: string | null }>> {
  const seen: Array<{ side: Side; usage: string; status: string; thisUpdate: string | null }> = []
  for (const side of ['consumer', 'provider'] as const) {
    const certs = await ctx.server(side).admin().call<CertificateDto[]>('certificates', 'list', [])
    for (const c of certs.filter((x) => x.state === 'active')) seen.push({ side, usage: c.usage ?? '?', status: c.ocsp.status, thisUpdate: c.ocsp.thisUpdate })
  }
  return seen
}

/**
 * ocsp-outage: global configuration's `ocspFreshnessSeconds` F and FETCHINTERVAL 2 s. A response is stale once its
 * thisUpdate is F seconds old; the last one was fetched at most one interval before the outage, so traffic stops
 * between F − 2 s and F s after it (plus the time to notice), and the server refuses to sign without a fresh response.
 */
export async function ocspOutageClass(ctx: ClassContext): Promise<void> {
  const freshness = ctx.sizes.ocspFreshnessSeconds
  labSettings(ctx, { ocspFreshnessSeconds: freshness, ocspFetchIntervalSeconds: OCSP_FETCH_INTERVAL_SECONDS })
  await refreshBoth(ctx)
  try {
    await outageTrials(ctx, {
      // From the outage: at most one fetch interval plus a late fetch before `freshness`; checked exactly below.
      service: 'ocsp', earliestSeconds: 0, latestSeconds: freshness + 8,
      // Without a fresh response for its auth certificate a server is refused at the TLS handshake (X-Road's
      // ssl_authentication_failed); without one for its signing certificate it has no signing context (X-Road's
      // KeyConf.getSigningInfo: cannot_create_signature, on the client proxy as on the server proxy).
      refusal: /cannot_create_signature|ssl_authentication_failed|incorrect_validation_info|cert_validation|ocsp/i, recoverySeconds: 2 * OCSP_FETCH_INTERVAL_SECONDS + 8,
      describe: async () => `OCSP when traffic stopped (${new Date().toISOString()}): ${(await ocspSeen(ctx)).map((c) => `${c.side} ${c.usage} ${c.status} (thisUpdate ${c.thisUpdate ?? '-'})`).join(', ')}`,
      // The parameter's own clock: a response is stale `freshness` seconds after its thisUpdate (whole seconds).
      check: async (refusal) => {
        const stale = (await ocspSeen(ctx)).filter((c) => c.status === 'stale' && c.thisUpdate !== null)
        if (stale.length === 0) return `traffic stopped (${refusal.code}) while no own certificate's OCSP response was stale`
        const staleAt = Math.min(...stale.map((c) => Date.parse(c.thisUpdate as string))) + freshness * 1000
        const early = (staleAt - refusal.atMs) / 1000
        if (early > 1.5) return `traffic stopped ${early.toFixed(1)} s before the newest response went stale (thisUpdate + ${freshness} s)`
        ctx.note(`traffic stopped ${(-early).toFixed(1)} s after the last response went stale (thisUpdate + ${freshness} s)`)
        return undefined
      },
    })
  } finally {
    labSettings(ctx, { ocspFreshnessSeconds: 3600, ocspFetchIntervalSeconds: null })
    await refreshBoth(ctx)
  }
}

const CONF_INTERVAL_SECONDS = 2

/**
 * conf-source-outage: the configuration source signs a configuration valid for E seconds every 2 s, the servers
 * download it every 2 s (`configuration-client.update-interval`). Stopped, the last configuration a server holds
 * expires between E − 4 s and E s after the outage began; messages are then refused until a fresh one is downloaded.
 */
export async function confOutageClass(ctx: ClassContext): Promise<void> {
  const expiry = ctx.sizes.confExpireSeconds
  await ctx.pair.restartLab({ regenerateIntervalMs: CONF_INTERVAL_SECONDS * 1000, confExpireSeconds: expiry })
  await setParameter(ctx, 'configuration-client.update-interval', String(CONF_INTERVAL_SECONDS))
  await refreshBoth(ctx)
  try {
    await outageTrials(ctx, {
      service: 'conf', earliestSeconds: expiry - 2 * CONF_INTERVAL_SECONDS - 2, latestSeconds: expiry + 8,
      refusal: /conf|expired/i, recoverySeconds: 5 * CONF_INTERVAL_SECONDS + 8,
    })
  } finally {
    await ctx.pair.restartLab({ regenerateIntervalMs: 60_000, confExpireSeconds: 600 })
    await setParameter(ctx, 'configuration-client.update-interval', undefined)
    await refreshBoth(ctx)
  }
}
