import type { HealthCheckName, HealthCheckStatus } from '@shared/admin-api/admin-api'
import type { HealthAnswer } from '../proxy'
import type { Clock, Logger } from '../platform'
import type { SecurityServerCore } from './security-server-core'

/**
 * X-Road's health checks for load balancers (ig-xlb §3.4; `HealthChecks`, `StoppableCombinationHealthCheckProvider`,
 * `HealthCheckPort` in the proxy): global configuration valid, the authentication key available on a logged-in token
 * with a good OCSP status, server configuration readable, in that order, the first failure answering 500 with its
 * message. Gatehouse adds a fourth, last check that X-Road's proxy does not have: the message log still accepts messages
 * (evidence not lost, time-stamping not failing past `acceptable-timestamp-failure-period`, its database answering),
 * since a node whose log refuses would refuse every exchange anyway (docs/xroad-differences.md). Each check has 5 s to answer; a success is kept for 2 s, a failure for 30 s (`cacheResultFor(2, 30)`).
 * Maintenance mode answers 503 without running a check and, as in X-Road, ends with the process.
 *
 * Gatehouse drops the authentication key the moment its token logs out, so there is no 300 s key cache to wait for
 * (ig-xlb §3.4.1): a logout shows within the 2 s a success is kept (docs/xroad-differences.md).
 */
export const HEALTH_CHECK_TIMEOUT_MS = 5_000
export const HEALTH_OK_VALID_MS = 2_000
export const HEALTH_FAILURE_VALID_MS = 30_000
/** X-Road's `HealthCheckPort.MAINTENANCE_MESSAGE`. */
export const MAINTENANCE_MESSAGE = 'Health check interface is in maintenance mode.'

interface CheckResult {
  ok: boolean
  message: string
}

interface CheckSpec {
  name: HealthCheckName
  /** The name X-Road puts in its timeout and failure messages. */
  label: string
  run(): Promise<CheckResult>
}

export interface HealthChecks {
  /** What the endpoint answers now. */
  answer(): Promise<HealthAnswer>
  /** The answer with each check's latest result, for the GUI. */
  status(): Promise<Pick<HealthCheckStatus, 'maintenanceMode' | 'httpStatus' | 'message' | 'checks'>>
  maintenanceMode(): boolean
  /** X-Road's answer: `Maintenance mode set: false => true`. */
  setMaintenanceMode(enabled: boolean): string
}

const OK: CheckResult = { ok: true, message: 'ok' }
const failure = (message: string): CheckResult => ({ ok: false, message })

export function createHealthChecks(core: Pick<SecurityServerCore, 'globalConf' | 'signer' | 'serverConf' | 'messageLog'>, clock: Clock, logger: Logger): HealthChecks {
  const specs: CheckSpec[] = [
    {
      name: 'global-conf',
      label: 'Global conf validity',
      async run() {
        // `checkGlobalConfStatus`: `verifyValidity()` fails alike with no configuration and with an expired one.
        const conf = core.globalConf.current()
        if (conf === undefined) return failure('Global configuration is expired')
        try {
          conf.assertValid(clock.now())
          return OK
        } catch {
          return failure('Global configuration is expired')
        }
      },
    },
    {
      name: 'auth-key-ocsp',
      label: 'Authentication key OCSP status',
      async run() {
        // `checkAuthKeyOcspStatus`: the key must be available (token logged in), then its certificate's OCSP status.
        let certDer: Buffer
        try {
          certDer = (await core.signer.getAuthKey()).certDer
        } catch {
          return failure('No authentication key available. Signer might be down.')
        }
        const cert = core.signer.listCertificates().find((c) => c.certDer.equals(certDer))
        const status = cert === undefined ? 'none' : core.signer.ocspStatus(cert.id).status
        if (status === 'none') return failure('Getting OCSP response for authentication key failed.')
        return { ok: status === 'good', message: `Authentication key OCSP response status ${status}` }
      },
    },
    {
      name: 'server-conf',
      label: 'Server conf database status',
      async run() {
        // `checkServerConfDatabaseStatus`: reading the identity fails when the database is unreadable or not initialized.
        try {
          if (core.serverConf.identity() === undefined) return failure('Server Conf database did not respond as expected')
          return OK
        } catch (error) {
          logger.error({ err: error }, 'health check: server configuration database did not respond')
          return failure('Server Conf database did not respond as expected')
        }
      },
    },
    {
      name: 'message-log',
      label: 'Message log status',
      async run() {
        // The message path's own fail-closed decision (reliability-and-security.md §1.2, LogManager.verifyCanLogMessage):
        // `timestamping_failed` past the acceptable period, `logging_failed` while lost evidence is unacknowledged.
        try {
          core.messageLog.assertAcceptingMessages()
        } catch (error) {
          return failure(`Message log is not accepting messages: ${(error as Error).message}`)
        }
        // The writer's database answers a read (a locked, removed or corrupt file fails here before a message does).
        try {
          core.messageLog.countUnstamped(1)
          return OK
        } catch (error) {
          logger.error({ err: error }, 'health check: message log database did not respond')
          return failure('Message log database did not respond as expected')
        }
      },
    },
  ]

  const cached = new Map<HealthCheckName, { result: CheckResult; at: number }>()
  const inFlight = new Map<HealthCheckName, Promise<CheckResult>>()
  let maintenance = false

  const withTimeout = async (spec: CheckSpec): Promise<CheckResult> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve(failure(`Fetching health check response timed out for: ${spec.label}`)), HEALTH_CHECK_TIMEOUT_MS)
    })
    try {
      return await Promise.race([
        spec.run().catch((error: unknown) => {
          logger.error({ err: error, check: spec.name }, 'health check failed')
          return failure(`Fetching health check response failed for: ${spec.label}`)
        }),
        timeout,
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  const resultOf = (spec: CheckSpec): Promise<CheckResult> => {
    const now = clock.now().getTime()
    const hit = cached.get(spec.name)
    if (hit !== undefined && now - hit.at < (hit.result.ok ? HEALTH_OK_VALID_MS : HEALTH_FAILURE_VALID_MS)) return Promise.resolve(hit.result)
    let running = inFlight.get(spec.name)
    if (running === undefined) {
      running = withTimeout(spec).then((result) => {
        cached.set(spec.name, { result, at: clock.now().getTime() })
        if (hit !== undefined && hit.result.ok !== result.ok) logger.info({ check: spec.name, ok: result.ok, reason: result.message }, 'health check changed')
        return result
      }).finally(() => inFlight.delete(spec.name))
      inFlight.set(spec.name, running)
    }
    return running
  }

  /** X-Road stops at the first failure; the checks after it are not run. */
  const answer = async (): Promise<HealthAnswer> => {
    if (maintenance) return { status: 503, message: MAINTENANCE_MESSAGE }
    for (const spec of specs) {
      const result = await resultOf(spec)
      if (!result.ok) return { status: 500, message: result.message }
    }
    return { status: 200, message: '' }
  }

  return {
    answer,
    async status() {
      const current = await answer()
      const checks = specs.flatMap((spec) => {
        const hit = cached.get(spec.name)
        return hit === undefined ? [] : [{ name: spec.name, ok: hit.result.ok, message: hit.result.message, checkedAt: new Date(hit.at).toISOString() }]
      })
      return { maintenanceMode: maintenance, httpStatus: current.status, message: current.message, checks }
    },
    maintenanceMode: () => maintenance,
    setMaintenanceMode(enabled) {
      const previous = maintenance
      maintenance = enabled
      logger.info({ maintenanceMode: enabled }, 'health check maintenance mode set')
      return `Maintenance mode set: ${previous} => ${enabled}`
    },
  }
}
