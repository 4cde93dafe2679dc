import { X509Certificate, createHash } from 'node:crypto'
import {
  encodeIdentifier, identifierEquals, type ClientId, type GlobalGroupId, type SecurityServerId,
} from '@shared/domain/identifiers'
import { LruCache, SecurityServerError, bytesKey } from '../platform'
import type {
  ApprovedCa, ApprovedTsa, CaInfo, GlobalConfSnapshot, InstanceConfiguration, ManagementService, Member,
  OcspResponder, SecurityServer, SharedParameters,
} from './conf-model'

/**
 * The lookups a security server makes in global configuration, over one immutable snapshot
 * (X-Road's `GlobalConfProvider`). Every instance in the snapshot counts (federation, §5.2).
 */
export interface ApprovedCaMatch {
  readonly instanceIdentifier: string
  readonly ca: ApprovedCa
  /** The DER of the CA certificate (top or intermediate) that issued the certificate. */
  readonly issuerCert: Uint8Array
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b))
}

function tryCertificate(der: Uint8Array): X509Certificate | undefined {
  try {
    return new X509Certificate(der)
  } catch {
    return undefined
  }
}

export class GlobalConf {
  constructor(readonly snapshot: GlobalConfSnapshot) {}

  get instanceIdentifier(): string {
    return this.snapshot.instanceIdentifier
  }

  /** The own instance's configuration. */
  get own(): InstanceConfiguration {
    return this.snapshot.instances.get(this.snapshot.instanceIdentifier) as InstanceConfiguration
  }

  get expiresAt(): Date | undefined {
    return this.snapshot.expiresAt
  }

  /** `globalSettings/ocspFreshnessSeconds` of the own instance (xroad-protocols.md §4.8). */
  get ocspFreshnessSeconds(): number {
    return this.own.shared.ocspFreshnessSeconds
  }

  get ocspFetchIntervalSeconds(): number {
    return this.snapshot.ocspFetchIntervalSeconds
  }

  get verifyNextUpdate(): boolean {
    return this.snapshot.verifyNextUpdate
  }

  get monitoringClient(): ClientId | undefined {
    return this.snapshot.monitoringClient
  }

  get timeStampingIntervalSeconds(): number | undefined {
    return this.own.private?.timeStampingIntervalSeconds
  }

  get managementService(): ManagementService | undefined {
    return this.own.private?.managementService
  }

  getInstanceIdentifiers(): string[] {
    return [...this.snapshot.instances.keys()]
  }

  getSharedParameters(instance = this.instanceIdentifier): SharedParameters | undefined {
    return this.snapshot.instances.get(instance)?.shared
  }

  private allShared(): SharedParameters[] {
    return [...this.snapshot.instances.values()].map((i) => i.shared)
  }

  private sharedFor(instance: string): SharedParameters | undefined {
    return this.snapshot.instances.get(instance)?.shared
  }

  /** Expired when the earliest part expiry is not after `now` (PR-GCONF §2.3 Expire-date). */
  isExpired(now: Date): boolean {
    return this.snapshot.expiresAt !== undefined && now.getTime() >= this.snapshot.expiresAt.getTime()
  }

  /** X-Road's `verifyValidity`: an outdated configuration makes every request fail with `global_conf_outdated`. */
  assertValid(now: Date): void {
    if (this.isExpired(now)) {
      throw new SecurityServerError('global_conf_outdated', `Global configuration expired at ${this.snapshot.expiresAt?.toISOString()}`)
    }
  }

  /** Members and subsystems are known when listed in their instance's shared parameters. */
  isMemberOrSubsystem(client: ClientId): boolean {
    const member = this.findMember(client)
    if (member === undefined) return false
    return client.objectType === 'MEMBER' || member.subsystems.some((s) => identifierEquals(s.id, client))
  }

  findMember(client: ClientId): Member | undefined {
    const shared = this.sharedFor(client.xRoadInstance)
    return shared === undefined ? undefined : this.indexOf(shared).members.get(memberKey(client.memberClass, client.memberCode))
  }

  getMemberName(client: ClientId): string | undefined {
    return this.findMember(client)?.name
  }

  /**
   * Security servers serving `provider`: those it owns (a member is implicitly a client of its own servers)
   * and those listing it as a client (xroad-protocols.md §4.1, §5.4).
   */
  getSecurityServers(provider: ClientId): SecurityServer[] {
    const shared = this.sharedFor(provider.xRoadInstance)
    if (shared === undefined) return []
    return [...(this.indexOf(shared).serversByClient.get(encodeIdentifier(provider)) ?? [])]
  }

  /**
   * An instance's lookups by key, built once per snapshot on first use, so that what every message asks — its
   * provider's servers, whether its client is a member, a global group's members — is a lookup, not a scan of every
   * server, client, member or group member of the instance (an instance such as Estonia's has thousands of servers:
   * routing one message by scanning 3 000 servers of 5 clients each took 1.4 ms, by the index 1.3 µs).
   */
  private indexOf(shared: SharedParameters): InstanceIndex {
    let index = this.instanceIndexes.get(shared)
    if (index === undefined) this.instanceIndexes.set(shared, (index = indexInstance(shared)))
    return index
  }

  private readonly instanceIndexes = new WeakMap<SharedParameters, InstanceIndex>()

  getServerById(id: SecurityServerId): SecurityServer | undefined {
    return this.sharedFor(id.xRoadInstance)?.securityServers.find((s) => identifierEquals(s.id, id))
  }

  isSecurityServerClient(client: ClientId, server: SecurityServerId): boolean {
    const s = this.getServerById(server)
    return s !== undefined && (identifierEquals(s.owner, client) || s.clients.some((c) => identifierEquals(c, client)))
  }

  /** The server whose `authCertHash` matches this certificate, in any instance (§4.1 server-side TLS trust). */
  getServerByAuthCert(certDer: Uint8Array): SecurityServer | undefined {
    let found: { place: number; server: SecurityServer } | undefined
    for (const [algorithm, byHash] of this.authCertIndex()) {
      const entry = byHash.get(certHash(certDer, algorithm))
      if (entry !== undefined && (found === undefined || entry.place < found.place)) found = entry
    }
    return found?.server
  }

  /**
   * Every server's authentication certificate hashes, by hash algorithm, each with the server that registered it first
   * in instance and server order (the order a scan would meet them in): built once per snapshot, so that the server
   * proxy's check of every message's peer is a lookup, not a scan of every security server of every instance (an
   * instance such as Estonia's has thousands).
   */
  private authCertIndex(): Map<string, Map<string, { place: number; server: SecurityServer }>> {
    if (this.authCertsByHash !== undefined) return this.authCertsByHash
    const index = new Map<string, Map<string, { place: number; server: SecurityServer }>>()
    let place = 0
    for (const shared of this.allShared()) {
      for (const server of shared.securityServers) {
        let byHash = index.get(server.authCertHashAlgorithm)
        if (byHash === undefined) index.set(server.authCertHashAlgorithm, (byHash = new Map()))
        for (const hash of server.authCertHashes) if (!byHash.has(hash)) byHash.set(hash, { place, server })
        place++
      }
    }
    this.authCertsByHash = index
    return index
  }

  private authCertsByHash: Map<string, Map<string, { place: number; server: SecurityServer }>> | undefined

  /**
   * X-Road's `authCertMatchesMember`: the certificate is an authentication certificate of a security server where
   * `party` is the owner or a client, in the party's instance. Each server's hashes are compared in their own
   * algorithm — SHA-1 in a V2 configuration, SHA-256 from V3 (`GlobalConfImpl.calculateCertHash`,
   * `SharedParametersV2Converter`).
   */
  authCertMatchesMember(certDer: Uint8Array, party: ClientId): boolean {
    return this.getSecurityServers(party).some((s) => authCertHashOf(s, certDer))
  }

  /** X-Road's `getServerId(cert) != null`: the certificate is an authentication certificate of some server, any instance. */
  isSecurityServerAuthCert(certDer: Uint8Array): boolean {
    return this.getServerByAuthCert(certDer) !== undefined
  }

  /** Whether the certificate's hash (SHA-1 for conf V2, SHA-256 for V3+) is an `authCertHash` of the server. */
  authCertHashMatches(serverId: SecurityServerId, certDer: Uint8Array): boolean {
    const server = this.getServerById(serverId)
    return server !== undefined && authCertHashOf(server, certDer)
  }

  /** Approved CAs of every instance (own first). */
  getApprovedCas(instance?: string): ApprovedCa[] {
    if (instance !== undefined) return [...(this.sharedFor(instance)?.approvedCas ?? [])]
    return this.orderedShared().flatMap((s) => [...s.approvedCas])
  }

  private orderedShared(): SharedParameters[] {
    const own = this.own.shared
    return [own, ...this.allShared().filter((s) => s !== own)]
  }

  /** Every CA certificate (top and intermediate) in DER. */
  getAllCaCerts(): Uint8Array[] {
    return this.getApprovedCas().flatMap((ca) => [ca.topCa.cert, ...ca.intermediateCas.map((i) => i.cert)])
  }

  /**
   * The approved CA (top or intermediate) that issued `certDer`: issuer name matches the CA subject and
   * the signature verifies with the CA's key.
   */
  getApprovedCaFor(certDer: Uint8Array): ApprovedCaMatch | undefined {
    // Asked for the same few certificates on every signature; the snapshot never changes, so the answer does not.
    return this.approvedCaMatches.getOrCompute(bytesKey(certDer), () => ({ match: this.findApprovedCaFor(certDer) })).match
  }

  private readonly approvedCaMatches = new LruCache<string, { match: ApprovedCaMatch | undefined }>(256)

  private findApprovedCaFor(certDer: Uint8Array): ApprovedCaMatch | undefined {
    const cert = tryCertificate(certDer)
    if (cert === undefined) return undefined
    for (const shared of this.orderedShared()) {
      for (const ca of shared.approvedCas) {
        for (const info of [ca.topCa, ...ca.intermediateCas]) {
          const caCert = tryCertificate(info.cert)
          if (caCert !== undefined && cert.checkIssued(caCert) && cert.verify(caCert.publicKey)) {
            return { instanceIdentifier: shared.instanceIdentifier, ca, issuerCert: info.cert }
          }
        }
      }
    }
    return undefined
  }

  /** OCSP responders configured for this CA certificate (top or intermediate, §4.8). */
  getOcspResponders(caCertDer: Uint8Array): OcspResponder[] {
    const info = this.findCaInfo(caCertDer)
    return info === undefined ? [] : [...info.ocsp]
  }

  /** Certificates of all configured OCSP responders (candidates for `ResponderID`, §4.8). */
  getOcspResponderCerts(): Uint8Array[] {
    return this.getApprovedCas().flatMap((ca) =>
      [ca.topCa, ...ca.intermediateCas].flatMap((i) => i.ocsp.flatMap((o) => (o.cert ? [o.cert] : []))))
  }

  private findCaInfo(caCertDer: Uint8Array): CaInfo | undefined {
    for (const ca of this.getApprovedCas()) {
      for (const info of [ca.topCa, ...ca.intermediateCas]) if (sameBytes(info.cert, caCertDer)) return info
    }
    return undefined
  }

  /** Approved time-stamping authorities of the own instance. */
  getTsas(): ApprovedTsa[] {
    return [...this.own.shared.approvedTsas]
  }

  /** X-Road's `isSubjectInGlobalGroup`: the client is listed in the group exactly. */
  isInGlobalGroup(client: ClientId, group: GlobalGroupId): boolean {
    const shared = this.sharedFor(group.xRoadInstance)
    return shared !== undefined && (this.indexOf(shared).groupMembers.get(group.groupCode)?.has(encodeIdentifier(client)) ?? false)
  }
}

/** What `GlobalConf.indexOf` keeps of one instance's shared parameters. */
interface InstanceIndex {
  /** Members by `memberKey`, the first of the list where two share one. */
  members: Map<string, Member>
  /** Security servers by the encoded identifier of each client they serve (the owner included), in server order. */
  serversByClient: Map<string, SecurityServer[]>
  /** Global groups' members (encoded identifiers) by group code, the first of the list where two share one. */
  groupMembers: Map<string, Set<string>>
}

const memberKey = (memberClass: string, memberCode: string): string => `${memberClass}\u0000${memberCode}`

function indexInstance(shared: SharedParameters): InstanceIndex {
  const members = new Map<string, Member>()
  for (const m of shared.members) {
    const key = memberKey(m.id.memberClass, m.id.memberCode)
    if (!members.has(key)) members.set(key, m)
  }
  const serversByClient = new Map<string, SecurityServer[]>()
  for (const server of shared.securityServers) {
    for (const key of new Set([encodeIdentifier(server.owner), ...server.clients.map((c) => encodeIdentifier(c))])) {
      const servers = serversByClient.get(key)
      if (servers === undefined) serversByClient.set(key, [server])
      else servers.push(server)
    }
  }
  const groupMembers = new Map<string, Set<string>>()
  for (const g of shared.globalGroups) {
    if (!groupMembers.has(g.id.groupCode)) groupMembers.set(g.id.groupCode, new Set(g.members.map((m) => encodeIdentifier(m))))
  }
  return { members, serversByClient, groupMembers }
}

function authCertHashOf(server: SecurityServer, certDer: Uint8Array): boolean {
  return server.authCertHashes.includes(certHash(certDer, server.authCertHashAlgorithm))
}

/** The certificate's hash (base64) in `algorithm`, as `authCertHash` holds it; kept per certificate buffer. */
function certHash(certDer: Uint8Array, algorithm: string): string {
  let hashes = authCertHashes.get(certDer)
  if (hashes === undefined) authCertHashes.set(certDer, (hashes = new Map()))
  let hash = hashes.get(algorithm)
  if (hash === undefined) hashes.set(algorithm, (hash = createHash(algorithm).update(certDer).digest('base64')))
  return hash
}

/**
 * Hashes of an authentication certificate by algorithm, per certificate buffer: the peer's certificate is one buffer
 * per TLS connection (read once, never written), checked on every message over it (issue 15). Certificate buffers
 * given here must not be mutated afterwards, as everywhere certificates are passed around.
 */
const authCertHashes = new WeakMap<Uint8Array, Map<string, string>>()
