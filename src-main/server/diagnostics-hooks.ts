import type { HealthCheckStatus, ListenerStatus } from '@shared/admin-api/admin-api'
import type { DiagnosticsHooks } from '../admin'
import { runProbes, type ProbeDeps } from '../diagnostics'
import { SecurityServerError } from '../platform'
import type { HealthChecks } from './health-checks'
import type { ProxyRuntime } from './proxy-runtime'
import type { SecurityServerCore } from './security-server-core'
import type { ServerConfig } from './server-config'

/**
 * The diagnostics group's view of the running server: the probes over the current state and the listeners the proxy
 * runtime owns, and the health check's answer with its configuration.
 */
export function createDiagnosticsHooks(
  core: SecurityServerCore, config: ServerConfig, runtime: () => ProxyRuntime | undefined, adminListeners: () => ListenerStatus[], health: HealthChecks,
): DiagnosticsHooks {
  const probeDeps: ProbeDeps = {
    clock: core.clock,
    globalConf: () => core.globalConf.current(),
    anchor: () => core.serverConf.anchorFile()?.content,
    ownCertificates: () => {
      const usage = new Map(core.signer.listKeys().map((k) => [k.id, k.usage]))
      return core.signer.listCertificates().map((c) => ({
        der: c.certDer, subject: c.subject, usage: usage.get(c.keyId) ?? null, inUse: c.state === 'active' || c.state === 'registered',
      }))
    },
    timestampingServices: () => core.timestampingServices(),
    listeners: () => [...(runtime()?.listenerStatus() ?? []), ...adminListeners()],
    initialized: () => core.serverConf.identity() !== undefined && core.serverConf.anchorFile() !== undefined,
    authCertDer: () => runtime()?.authCertChain()[0],
    authTls: () => runtime()?.authTls(),
    clientProxyUrl: () => {
      const open = runtime()?.listeners() ?? []
      return (open.find((l) => l.name === 'clientProxyHttp') ?? open.find((l) => l.name === 'clientProxyHttps'))?.url
    },
    onExchange: (listener) => runtime()?.onExchange(listener) ?? (() => undefined),
    verifyPeerChain: async (chain, address) => {
      const running = runtime()
      if (running === undefined) throw new SecurityServerError('unsupported', 'The security server is not running')
      await running.verifyPeerChain(chain, address)
    },
  }

  const healthStatus = async (): Promise<HealthCheckStatus> => {
    const { host, port } = config.healthCheck
    const listener = runtime()?.listenerStatus().find((l) => l.name === 'healthCheck')
    return {
      enabled: port !== null,
      address: port === null ? null : `${host}:${port}`,
      url: listener?.url ?? null,
      ...(await health.status()),
    }
  }

  return {
    probe: (request) => runProbes(request, probeDeps),
    health: healthStatus,
    setMaintenanceMode: (enabled) => {
      health.setMaintenanceMode(enabled)
    },
  }
}
