import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  memberId, securityServerId, serviceId, subsystemId, type ClientId, type MemberId, type SecurityServerId, type ServiceId,
} from '@shared/domain/identifiers'
import { initLab, openLab, startLabServer, type LabAuthority, type RunningLabServer } from '../../src-main/lab'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import type { MessageLogSettingsInput } from '../../src-main/message-log'
import { silentLogger, type Clock, type Logger } from '../../src-main/platform'
import { SOFTWARE_TOKEN_ID, type KeyAlgorithm } from '../../src-main/signer'
import { startSampleService, type SampleService } from '../../scripts/lib/sample-service'

/**
 * Two real security servers on loopback over one lab trust domain (reusable by integration tests, the demo and the
 * benchmark): consumer agency `LAB/GOV/1001` with subsystem `consumer`, provider agency `LAB/GOV/2002` with subsystem
 * `provider` offering REST service `pets` (the sample service) with an access right for the consumer. Each server has
 * a software token with a PIN, EC auth and sign keys whose CSRs the lab CA signed, registered in the lab's global
 * configuration; both run in-process with `createSecurityServer` and have downloaded the configuration.
 */
export const TOKEN_PIN = 'Lab-Pair-Pin-1'
const EJBCA_PROFILE = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

export interface PairSide {
  member: MemberId
  subsystem: ClientId
  serverId: SecurityServerId
  server: SecurityServer
  dataDir: string
  serverProxyPort: number
  ocspResponderPort: number
  /** `http://127.0.0.1:port` of the client proxy. */
  clientProxyUrl: string
  authCertDer: Uint8Array
  signCertDer: Uint8Array
}

export interface LabPair {
  root: string
  labDir: string
  /** The running lab services; a test may replace it with a restarted one, which `close()` then stops. */
  labServer: RunningLabServer
  /** An open handle on the lab for registrations, revocations and regeneration. */
  lab: LabAuthority
  consumer: PairSide
  provider: PairSide
  sample: SampleService
  /** The consumer's `pets` service id at the provider. */
  pets: ServiceId
  close(): Promise<void>
}

export interface LabPairOptions {
  confExpireSeconds?: number
  messageLog?: MessageLogSettingsInput
  clock?: Clock
  /** Opens each server's health-check endpoint on a free loopback port (off otherwise, as by default). */
  healthCheck?: boolean
  /** The servers' logger (silent otherwise). */
  logger?: Logger
  /** Opens each server's admin interface on a free loopback port, serving the built GUI from this folder. */
  rendererDir?: string
  /** Opens each server's admin HTTPS listener on a free port without a GUI (`rendererDir` opens it too). */
  adminPort?: 0
  /** How often the servers re-check what nothing announces (default 5 s). */
  reconcileIntervalMs?: number
  /** How long a stop waits for exchanges in flight (default 200 ms, so tests end fast). */
  shutdownGraceMs?: number
  /** The servers' authentication and signing keys (EC P-256 by default, the lab default of issue 15 §4). */
  keyAlgorithm?: KeyAlgorithm
  /**
   * The trust domain's names (default: instance LAB, consumer GOV/1001, provider GOV/2002); each side's subsystem is
   * still `consumer` / `provider`, `subsystems` adds more subsystems registered on that side's server.
   */
  identities?: { instance: string; consumer: PairMember; provider: PairMember }
}

export interface PairMember {
  memberClass: string
  memberCode: string
  subsystems?: string[]
}

/** A free port P such that P + 77 is free too (Gatehouse's `host:port` → OCSP responder at port + 77 convention). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort(0)
    if (port + 77 > 65535) continue
    if ((await freePort(port + 77).catch(() => -1)) === port + 77) return port
  }
  throw new Error('no free port pair found')
}

function freePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : port
      server.close(() => resolve(bound))
    })
  })
}

/**
 * Runs `work` while the consumer's software token takes `delayMs` per signature, so that requests arriving meanwhile
 * accumulate into the next batch (issue 15 §4); the token's own signing is put back afterwards.
 */
export async function withSlowConsumerToken<T>(pair: LabPair, delayMs: number, work: () => Promise<T>): Promise<T> {
  const driver = pair.consumer.server.core.signer.driver(SOFTWARE_TOKEN_ID)
  const sign = driver.sign.bind(driver)
  driver.sign = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    return sign(...args)
  }
  try {
    return await work()
  } finally {
    driver.sign = sign
  }
}

export async function startLabPair(options: LabPairOptions = {}): Promise<LabPair> {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-pair-'))
  const labDir = join(root, 'lab')
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(root, { recursive: true, force: true })]
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  }
  try {
    const ids = options.identities ?? { instance: 'LAB', consumer: { memberClass: 'GOV', memberCode: '1001' }, provider: { memberClass: 'GOV', memberCode: '2002' } }
    await initLab(labDir, {
      instance: ids.instance,
      keyAlgorithm: 'ec-p256',
      ...(options.confExpireSeconds === undefined ? {} : { confExpireSeconds: options.confExpireSeconds }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    })
    const labServer = await startLabServer(labDir, {
      ports: { ocsp: 0, tsa: 0, conf: 0 },
      ...(options.confExpireSeconds === undefined ? {} : { confExpireSeconds: options.confExpireSeconds }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    })
    const holder = { labServer }
    cleanups.push(() => holder.labServer.close())
    const lab = openLab(labDir, options.clock === undefined ? {} : { clock: options.clock })
    cleanups.push(() => lab.close())
    const sample = await startSampleService()
    cleanups.push(() => sample.close())

    const member = (m: PairMember): MemberId => memberId(ids.instance, m.memberClass, m.memberCode)
    const consumer = await setUpSide(root, 'consumer', member(ids.consumer), 'Consumer Agency', lab, labServer, options, ids.consumer.subsystems)
    cleanups.push(() => consumer.server.stop())
    const provider = await setUpSide(root, 'provider', member(ids.provider), 'Provider Agency', lab, labServer, options, ids.provider.subsystems)
    cleanups.push(() => provider.server.stop())

    const pets = serviceId(provider.subsystem, 'pets')
    const conf = provider.server.core.serverConf
    conf.addService(provider.subsystem, { code: 'pets', url: sample.url, timeoutSeconds: 10 })
    conf.grantAccess(pets, consumer.subsystem)
    lab.regenerateConfiguration()

    for (const side of [consumer, provider]) {
      const listeners = await side.server.start()
      const http = listeners.find((l) => l.name === 'clientProxyHttp')
      if (http === undefined) throw new Error(`${side.dataDir}: no client proxy listener`)
      side.clientProxyUrl = http.url.replace(/\/$/, '')
      // Signing needs a good OCSP status of the own certificates (reliability-and-security.md §1.3).
      const statuses = await side.server.core.signer.refreshOcsp()
      const bad = statuses.filter((s) => s.status !== 'good')
      if (bad.length > 0) throw new Error(`OCSP not good for own certificates: ${JSON.stringify(bad)}`)
    }
    const result: LabPair = {
      root, labDir, lab, consumer, provider, sample, pets, close,
      get labServer() {
        return holder.labServer
      },
      set labServer(next: RunningLabServer) {
        holder.labServer = next
      },
    }
    return result
  } catch (error) {
    await close()
    throw error
  }
}

async function setUpSide(
  root: string, name: string, owner: MemberId, memberName: string, lab: LabAuthority, labServer: RunningLabServer, options: LabPairOptions,
  extraSubsystems: readonly string[] = [],
): Promise<PairSide> {
  const dataDir = join(root, name)
  const serverProxyPort = await freePortPair()
  const ocspResponderPort = serverProxyPort + 77
  const config = parseServerConfig({
    internal: { host: '127.0.0.1', adminPort: options.adminPort ?? (options.rendererDir === undefined ? null : 0), clientProxyHttpPort: 0, clientProxyHttpsPort: null },
    external: { host: '127.0.0.1', serverProxyPort, ocspResponderPort },
    ...(options.healthCheck === true ? { healthCheck: { host: '127.0.0.1', port: 0 } } : {}),
    logging: { level: 'silent' },
    shutdownGraceMs: options.shutdownGraceMs ?? 200,
  }, 'lab-pair')
  const server = createSecurityServer({
    dataDir, config, logger: options.logger ?? silentLogger(),
    ...(options.rendererDir === undefined ? {} : { rendererDir: options.rendererDir }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.messageLog === undefined ? {} : { messageLog: options.messageLog }),
    ...(options.reconcileIntervalMs === undefined ? {} : { reconcileIntervalMs: options.reconcileIntervalMs }),
  })
  const { serverConf, signer } = server.core
  const serverCode = `ss-${name}`
  const serverId = securityServerId(owner, serverCode)
  const subsystem = subsystemId(owner.xRoadInstance, owner.memberClass, owner.memberCode, name)
  lab.addMember(owner, memberName, name)
  serverConf.initialize(owner, serverCode, { sourcePath: labServer.anchor, content: readFileSync(labServer.anchor) })
  serverConf.addClient(subsystem, 'REGISTERED')

  const token = await signer.initSoftwareToken(TOKEN_PIN)
  await signer.login(token.id, TOKEN_PIN)
  const caDer = lab.certificateDer('ca')
  const issue = async (usage: 'auth' | 'sign'): Promise<Uint8Array> => {
    const key = await signer.generateKey({ tokenId: token.id, usage, algorithm: options.keyAlgorithm ?? 'ec-p256', label: `${name}-${usage}` })
    const csr = await signer.generateCsr({ keyId: key.id, subjectOf: usage === 'auth' ? serverId : owner, certificateProfile: EJBCA_PROFILE, format: 'pem' })
    const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), usage)
    const cert = await signer.importCertificate(issued.der, { ...(usage === 'sign' ? { memberId: owner } : {}), approvedCaCertificates: [caDer] })
    signer.activateCertificate(cert.id)
    return issued.der
  }
  const authCertDer = await issue('auth')
  const signCertDer = await issue('sign')
  lab.addSecurityServer(owner, serverCode, `127.0.0.1:${serverProxyPort}`, authCertDer)
  lab.addClient(serverId, subsystem)
  for (const code of extraSubsystems) {
    const extra = subsystemId(owner.xRoadInstance, owner.memberClass, owner.memberCode, code)
    lab.addMember(owner, memberName, code)
    serverConf.addClient(extra, 'REGISTERED')
    lab.addClient(serverId, extra)
  }
  return { member: owner, subsystem, serverId, server, dataDir, serverProxyPort, ocspResponderPort, clientProxyUrl: '', authCertDer, signCertDer }
}
