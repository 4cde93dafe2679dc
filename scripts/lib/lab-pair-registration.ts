import { readFileSync } from 'node:fs'
import type { ClientId } from '@shared/domain/identifiers'
import { configureManagementServices } from '../../src-main/admin'
import { openLab, startLabServer } from '../../src-main/lab'
import { createManagementRequests, type ManagementRequests } from '../../src-main/management'
import { silentLogger } from '../../src-main/platform'
import { createSecurityServer, dataDirLayout, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'
import type { Agency, LabPair } from './lab-pair'

/**
 * Registration of a lab pair as a real X-Road instance does it (pr-mserv), with the lab as the central server: both
 * servers run in this process for the purpose, each sends `authCertReg` for its authentication certificate straight to
 * the lab over HTTPS; the lab operator then makes the provider's server the management security server (its owner's
 * MANAGEMENT subsystem the management service provider, X-Road's one central bootstrap step), and each server sends
 * `clientReg` for its subsystems as signed X-Road messages through its own client proxy and the management security
 * server. Each server's client and certificate states move from global configuration (registration-sync) only.
 */
export interface RegistrationSummary {
  /** Management requests the lab received. */
  requests: number
  /** Of those, approved (auto-approval is on in the lab). */
  approved: number
  viaManagementService: true
}

export async function registerThroughManagementService(pair: LabPair): Promise<RegistrationSummary> {
  const labServer = await startLabServer(pair.labDir, { ports: pair.labPorts, confExpireSeconds: 600 })
  const running: Array<{ agency: Agency; server: SecurityServer; requests: ManagementRequests }> = []
  try {
    for (const agency of [pair.consumer, pair.provider]) {
      const config = parseServerConfig(JSON.parse(readFileSync(dataDirLayout(agency.dataDir).configFile, 'utf8')), 'lab pair')
      const server = createSecurityServer({ dataDir: agency.dataDir, config, logger: silentLogger() })
      running.push({ agency, server, requests: requestsOf(agency, server) })
      await server.start()
      await server.core.signer.login(SOFTWARE_TOKEN_ID, pair.pin)
    }
    const refresh = async (): Promise<void> => {
      await Promise.all(running.map(({ server }) => server.core.globalConf.service()?.refresh()))
    }
    await refresh()
    // The sender signs with the member's signing key and attaches its OCSP response (pr-mserv §2.1, §2.3).
    await Promise.all(running.map(({ server }) => server.core.signer.refreshOcsp()))

    for (const { agency, server, requests } of running) {
      const auth = server.core.signer.listCertificates().find((c) => server.core.signer.listKeys().find((k) => k.id === c.keyId)?.usage === 'auth')
      if (auth === undefined) throw new Error(`${agency.serverCode} has no authentication certificate`)
      await requests.registerAuthCertificate(auth.id, `127.0.0.1:${agency.ports.serverProxy}`)
    }

    const lab = openLab(pair.labDir)
    let provider: ClientId
    try {
      provider = lab.designateManagementSecurityServer(pair.provider.server)
    } finally {
      lab.close()
    }
    configureManagementServices((running[1] as { server: SecurityServer }).server.core.serverConf, provider, labServer.urls.managementService)
    await refresh()

    for (const { agency, requests } of running) {
      const subsystems = agency === pair.consumer ? [pair.consumer.subsystem, pair.intruder] : [pair.provider.subsystem]
      for (const client of subsystems) await requests.registerClient(client)
    }
    await refresh()
    for (const { agency, server } of running) {
      const waiting = server.core.serverConf.listClients().filter((c) => c.state !== 'REGISTERED')
      if (waiting.length > 0) throw new Error(`${agency.serverCode}: clients not registered after the lab approved them: ${waiting.map((c) => c.state).join(', ')}`)
    }
  } finally {
    for (const { server } of running.reverse()) await server.stop()
    await labServer.close()
  }
  const lab = openLab(pair.labDir)
  try {
    const counts = lab.managementRequestCounts()
    return { requests: counts.total, approved: counts.approved, viaManagementService: true }
  } finally {
    lab.close()
  }
}

function requestsOf(agency: Agency, server: SecurityServer): ManagementRequests {
  const core = server.core
  return createManagementRequests({
    db: core.databases.serverConf,
    serverConf: core.serverConf,
    globalConf: () => core.globalConf.current(),
    serverId: () => core.serverConf.identity()?.serverId,
    signer: core.signer,
    clientProxyUrl: () => `http://127.0.0.1:${agency.ports.clientProxyHttp}/`,
    clock: core.clock,
    timeoutMs: 20_000,
  })
}
