import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  memberId, serviceId, subsystemId, type ClientId, type MemberId, type SecurityServerId, type ServiceId,
} from '@shared/domain/identifiers'
import { initLab, openLab } from '../../src-main/lab'
import { silentLogger } from '../../src-main/platform'
import { createSecurityServer, dataDirLayout, parseServerConfig, type ClusterConfig } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID, type KeyAlgorithm } from '../../src-main/signer'
import { registerThroughManagementService, type RegistrationSummary } from './lab-pair-registration'

/**
 * A complete two-agency trust domain in a temporary folder, built through the domains' public APIs only: a lab
 * (CA, OCSP, TSA, signed global configuration), a consumer agency LAB/GOV/1001 (subsystems `consumer` and
 * `intruder`, the latter without access rights) and a provider agency LAB/GOV/2002 (subsystem `provider` with the
 * REST service `pets`), each security server with an initialized data directory, a software token holding an
 * authentication and a signing key with lab-issued certificates, and free loopback ports in its gatehouse.json.
 * Used by `npm run demo` and `npm run bench`; nothing here is left running — see `startLabPair` in lab-pair-servers.ts
 * (with `registration: 'management-service'` the servers run here once, to send their management requests).
 */
export const LAB_INSTANCE = 'LAB'
/** The lab's certificate profile (X-Road's EJBCA profile: sign C/O/CN, auth C/CN). */
export const LAB_CERTIFICATE_PROFILE = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

export interface AgencyPorts {
  clientProxyHttp: number
  serverProxy: number
  ocspResponder: number
  admin: number
  /** The load balancers' health check (X-Road's health-check-port). */
  healthCheck: number
}

export interface Agency {
  name: string
  member: MemberId
  serverCode: string
  server: SecurityServerId
  subsystem: ClientId
  dataDir: string
  ports: AgencyPorts
}

export interface LabPair {
  dir: string
  labDir: string
  labPorts: { conf: number; ocsp: number; tsa: number }
  /** The software-token PIN of both servers. */
  pin: string
  consumer: Agency
  provider: Agency
  /** A second consumer subsystem registered everywhere but without an access right to `pets`. */
  intruder: ClientId
  /** The provider's REST service. */
  pets: ServiceId
  serviceUrl: string
  /** How the servers and clients were registered, when through management requests. */
  registration?: RegistrationSummary
}

export interface LabPairOptions {
  /** Base URL of the REST service behind the provider (e.g. the sample service). */
  serviceUrl: string
  /** Parent folder; a fresh temporary folder by default. */
  dir?: string
  pin?: string
  /** Message-log and server log level written to gatehouse.json. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /**
   * `management-service`: servers and clients register through management requests to the lab (pr-mserv, see
   * lab-pair-registration.ts); `direct` (default): the lab operator's registry commands write them in at once.
   */
  registration?: 'direct' | 'management-service'
  /**
   * The servers' authentication and signing keys: EC P-256 by default (issue 15 §4, the cheapest to sign and verify);
   * an RSA size to measure or demonstrate RSA keys (messages then carry `rsa-sha512` signatures).
   */
  keyAlgorithm?: KeyAlgorithm
  /**
   * The provider as the primary node of a cluster (issue 18): its bootstrap file gets this `cluster` section, so its
   * server and key configuration are written into the shared PostgreSQL (`npm run demo:cluster`).
   */
  providerCluster?: ClusterConfig
}

/**
 * The peer's OCSP-response endpoint is found at its server-proxy port + 77 (5500 → 5577, X-Road's fixed pair; see
 * OCSP_PORT_OFFSET in src-main/server), so each server's two external ports are chosen together.
 */
export const OCSP_PORT_OFFSET = 77

function reserve(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(undefined))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/**
 * Where ports are chosen: below the kernel's ephemeral range (`ip_local_port_range`, from which `listen(0)` and every
 * outgoing connection take theirs), so that between the release of a chosen port and its server's listen no other
 * process of a parallel test run is given it by the kernel (that race refused a server's start with EADDRINUSE).
 */
function choosableRange(): [number, number] {
  let ephemeralStart = 32768
  try {
    ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralStart
  } catch {
    // Not Linux: its usual ephemeral range starts at 49152 or higher, above the range below.
  }
  const high = Math.min(ephemeralStart, 49152) - 1 - OCSP_PORT_OFFSET
  return [Math.max(1024, high - 12_000), high]
}

/** A free port in the choosable range, reserved (held open) until released. */
async function reserveChoosable(): Promise<Server> {
  const [low, high] = choosableRange()
  for (let attempt = 0; attempt < 500; attempt++) {
    const server = await reserve(low + Math.floor(Math.random() * (high - low + 1)))
    if (server !== undefined) return server
  }
  throw new Error(`Could not find a free port on 127.0.0.1 in ${low}–${high}`)
}

/**
 * Free TCP ports on 127.0.0.1, all distinct: `count` single ports and `pairs` pairs (p, p + OCSP_PORT_OFFSET), from
 * below the ephemeral range (`choosableRange`). All are held open together while choosing, then released.
 */
export async function freePorts(count: number, pairs = 0): Promise<{ single: number[]; pairs: Array<[number, number]> }> {
  const held: Server[] = []
  const portOf = (s: Server): number => (s.address() as AddressInfo).port
  try {
    const single: number[] = []
    for (let i = 0; i < count; i++) {
      const s = await reserveChoosable()
      held.push(s)
      single.push(portOf(s))
    }
    const chosen: Array<[number, number]> = []
    for (let attempts = 0; chosen.length < pairs; attempts++) {
      if (attempts > 200) throw new Error('Could not find free port pairs on 127.0.0.1')
      const first = await reserveChoosable()
      held.push(first)
      const port = portOf(first)
      const second = await reserve(port + OCSP_PORT_OFFSET)
      if (second === undefined) continue
      held.push(second)
      chosen.push([port, port + OCSP_PORT_OFFSET])
    }
    return { single, pairs: chosen }
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  }
}

export async function buildLabPair(options: LabPairOptions): Promise<LabPair> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gatehouse-lab-pair-'))
  mkdirSync(dir, { recursive: true })
  const pin = options.pin ?? 'Demo-Token-Pin-1'
  const ports = await freePorts(9, 2)
  const [conf, ocsp, tsa, ...internal] = ports.single as [number, number, number, ...number[]]
  const labPorts = { conf, ocsp, tsa }
  const portsAt = (i: number): AgencyPorts => ({
    clientProxyHttp: internal[i * 3] as number,
    admin: internal[i * 3 + 1] as number,
    healthCheck: internal[i * 3 + 2] as number,
    serverProxy: (ports.pairs[i] as [number, number])[0],
    ocspResponder: (ports.pairs[i] as [number, number])[1],
  })

  const labDir = join(dir, 'lab')
  const viaRequests = options.registration === 'management-service'
  let built: LabPair
  await initLab(labDir, { instance: LAB_INSTANCE, keyAlgorithm: 'ec-p256' })
  const lab = openLab(labDir)
  try {
    // The anchors name the configuration source, so its address is fixed before any server takes an anchor.
    lab.setServiceAddresses({ confAddress: `127.0.0.1:${conf}`, ocspUrl: `http://127.0.0.1:${ocsp}`, tsaUrl: `http://127.0.0.1:${tsa}` })
    lab.regenerateConfiguration()
    const anchorPath = lab.paths.anchor
    const anchor = readFileSync(anchorPath)
    const caDer = lab.certificateDer('ca')

    const makeAgency = (name: string, code: string, serverCode: string, subsystemCode: string, index: number): Agency => {
      const member = memberId(LAB_INSTANCE, 'GOV', code)
      lab.addMember(member, name, subsystemCode)
      return {
        name,
        member,
        serverCode,
        server: { objectType: 'SERVER', xRoadInstance: LAB_INSTANCE, memberClass: 'GOV', memberCode: code, serverCode },
        subsystem: subsystemId(LAB_INSTANCE, 'GOV', code, subsystemCode),
        dataDir: join(dir, serverCode.toLowerCase()),
        ports: portsAt(index),
      }
    }
    const consumer = makeAgency('Consumer Agency', '1001', 'SS-CONSUMER', 'consumer', 0)
    const provider = makeAgency('Provider Agency', '2002', 'SS-PROVIDER', 'provider', 1)
    const intruder = lab.addMember(consumer.member, consumer.name, 'intruder').subsystem as ClientId
    const pets = serviceId(provider.subsystem, 'pets')

    for (const agency of [consumer, provider]) {
      mkdirSync(agency.dataDir, { recursive: true })
      const config = {
        internal: { host: '127.0.0.1', clientProxyHttpPort: agency.ports.clientProxyHttp, clientProxyHttpsPort: null, adminPort: agency.ports.admin },
        external: { host: '127.0.0.1', serverProxyPort: agency.ports.serverProxy, ocspResponderPort: agency.ports.ocspResponder },
        healthCheck: { host: '127.0.0.1', port: agency.ports.healthCheck },
        logging: { level: options.logLevel ?? 'warn' },
        ...(agency === provider && options.providerCluster !== undefined ? { cluster: options.providerCluster } : {}),
      }
      parseServerConfig(config, 'lab pair') // refuses a field the server would refuse
      writeFileSync(dataDirLayout(agency.dataDir).configFile, `${JSON.stringify(config, null, 2)}\n`)

      // The composition root, never started: its domains over the data directory's migrated databases.
      const server = createSecurityServer({ dataDir: agency.dataDir, config: parseServerConfig(config, 'lab pair'), logger: silentLogger() })
      try {
        const { serverConf, signer } = server.core
        serverConf.initialize(agency.member, agency.serverCode, { sourcePath: anchorPath, content: new Uint8Array(anchor) })
        serverConf.setClientState(agency.member, 'REGISTERED')
        const subsystems = agency === consumer ? [consumer.subsystem, intruder] : [provider.subsystem]
        for (const client of subsystems) serverConf.addClient(client, viaRequests ? 'SAVED' : 'REGISTERED')

        await signer.initSoftwareToken(pin, { label: `${agency.serverCode} token` })
        await signer.login(SOFTWARE_TOKEN_ID, pin)
        const algorithm = options.keyAlgorithm ?? 'ec-p256'
        const authKey = await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'auth', algorithm, label: 'auth' })
        const signKey = await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'sign', algorithm, label: 'sign' })
        const authCsr = await signer.generateCsr({ keyId: authKey.id, subjectOf: agency.server, certificateProfile: LAB_CERTIFICATE_PROFILE, format: 'der' })
        const signCsr = await signer.generateCsr({ keyId: signKey.id, subjectOf: agency.member, certificateProfile: LAB_CERTIFICATE_PROFILE, format: 'der' })
        const authCert = await lab.issueCertificate(new Uint8Array(authCsr.der), 'auth')
        const signCert = await lab.issueCertificate(new Uint8Array(signCsr.der), 'sign')
        const importedAuth = await signer.importCertificate(authCert.der, { approvedCaCertificates: [caDer] })
        const importedSign = await signer.importCertificate(signCert.der, { memberId: agency.member, approvedCaCertificates: [caDer] })
        // Through management requests the authentication certificate stays saved until global configuration lists it
        // (X-Road's TokenCertificateService registers only a saved one; registration-sync marks it registered).
        if (!viaRequests) signer.activateCertificate(importedAuth.id)
        signer.activateCertificate(importedSign.id)

        // Registration in the trust domain: the server with its auth certificate, then its clients (§5.4).
        if (!viaRequests) {
          lab.addSecurityServer(agency.member, agency.serverCode, `127.0.0.1:${agency.ports.serverProxy}`, authCert.der)
          for (const client of subsystems) lab.addClient(agency.server, client)
        }

        if (agency === provider) {
          serverConf.addService(provider.subsystem, { code: 'pets', url: options.serviceUrl })
          serverConf.grantAccess(pets, consumer.subsystem)
        }
      } finally {
        await server.stop()
      }
    }
    lab.regenerateConfiguration()
    built = { dir, labDir, labPorts, pin, consumer, provider, intruder, pets, serviceUrl: options.serviceUrl }
  } finally {
    lab.close()
  }
  if (viaRequests) built.registration = await registerThroughManagementService(built)
  return built
}
