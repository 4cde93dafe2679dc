import { createHash, X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GlobalConf } from '../global-conf'
import type { MonitoredCertificate, MonitoringQueryDeps } from '../op-monitoring'
import type { SecurityServerCore } from './security-server-core'
import { GATEHOUSE_VERSION } from './version'

/**
 * What the monitoring services the server proxy answers itself need from the running server, derived on each request
 * from the current state (nothing captured): this server and its owner, owners of other servers and the monitoring
 * client from the global configuration in force, the certificates the `Certificates` metric lists (X-Road's
 * `CertificateInfoSensor`: authentication and signing certificates, the internal TLS certificate, the information
 * systems' TLS certificates) and `env-monitor.limit-remote-data-set`. Undefined before the server has an identity.
 */
export function monitoringQueryDeps(core: SecurityServerCore, conf: GlobalConf | undefined): MonitoringQueryDeps | undefined {
  const identity = core.serverConf.identity()
  if (identity === undefined) return undefined
  return {
    opMonitor: core.opMonitor,
    environment: core.environment,
    serverId: identity.serverId,
    owner: identity.owner,
    parties: {
      serverOwner: (server) => conf?.getServerById(server)?.owner,
      ...(conf?.monitoringClient === undefined ? {} : { monitoringClient: conf.monitoringClient }),
    },
    proxyVersion: GATEHOUSE_VERSION,
    metricsContext: () => ({
      limitRemoteDataSet: core.parameters.envMonitorLimitRemoteDataSet,
      certificates: monitoredCertificates(core),
      dataDir: core.layout.root,
    }),
  }
}

function monitored(der: Uint8Array, certificateType: MonitoredCertificate['certificateType'], active: boolean): MonitoredCertificate | undefined {
  try {
    const cert = new X509Certificate(der)
    return {
      // CertificateInfoSensor: `calculateDelimitedCertHexHash(cert, ":")`, the SHA-256 in upper-case pairs, though named sha1Hash.
      sha1Hash: (createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g) ?? []).join(':'),
      notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo), certificateType, active,
    }
  } catch {
    return undefined
  }
}

function monitoredCertificates(core: SecurityServerCore): MonitoredCertificate[] {
  const out: Array<MonitoredCertificate | undefined> = []
  // An authentication or signing certificate is active until disabled (X-Road's `CertificateInfo.isActive`).
  for (const c of core.signer.listCertificates()) out.push(monitored(c.certDer, 'AUTH_OR_SIGN', c.storedState !== 'disabled'))
  const internalTls = join(core.layout.tlsDir, 'admin.crt')
  if (existsSync(internalTls)) {
    try {
      out.push(monitored(new X509Certificate(readFileSync(internalTls)).raw, 'SECURITY_SERVER_TLS', true))
    } catch {
      out.push(undefined)
    }
  }
  for (const client of core.serverConf.listClients()) {
    for (const is of core.serverConf.listIsCertificates(client.id)) out.push(monitored(is.der, 'INTERNAL_IS_CLIENT_TLS', true))
  }
  return out.filter((c): c is MonitoredCertificate => c !== undefined)
}
