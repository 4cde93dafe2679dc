import { createHash } from 'node:crypto'
import { encodeIdentifier, serviceId, subsystemId, type ClientId } from '@shared/domain/identifiers'
import type { ServiceAccessRights } from '../../../src-main/access-control'
import { SecurityServerError } from '../../../src-main/platform'
import {
  bufferBody, type ClientProxyDeps, type GlobalConfView, type MessagePart, type MessageRecord, type PeerClient, type ProviderServer,
  type ServerProxyDeps, type ServiceCall,
} from '../../../src-main/proxy'

/**
 * In-memory fakes of the pipelines' narrow interfaces (signer, verifier, log, server-conf, global-conf) for wiring the
 * real listeners in tests; the "signature" is SHA-512 over the signer and the parts.
 */
const fakeSignature = (member: ClientId, parts: MessagePart[]) =>
  parts.reduce((h, p) => h.update(p.name).update('bytes' in p ? p.bytes : p.digest), createHash('sha512').update(encodeIdentifier(member))).digest()

export const consumer = subsystemId('DEV', 'COM', '4422', 'CLIENT')
export const provider = subsystemId('DEV', 'GOV', '1234', 'PROVIDER')
export const svc = serviceId(provider, 'orders')

export function providerServer(address: string): ProviderServer {
  return { serverId: { objectType: 'SERVER', xRoadInstance: 'DEV', memberClass: 'GOV', memberCode: '1234', serverCode: 'ss2' }, address, inMaintenanceMode: false }
}

export interface FakeWorld {
  calls: ServiceCall[]
  log: MessageRecord[]
  globalConf: GlobalConfView
  serverDeps: ServerProxyDeps
  clientDeps(peer: PeerClient): ClientProxyDeps
  /** Auth-cert hashes (SHA-256 hex) registered in global conf for the provider's server. */
  providerAuthHashes: Set<string>
  /** Auth-cert hashes registered for any server (the server proxy's `checkClientTrusted`). */
  trustedAuthHashes: Set<string>
  addresses: string[]
}

export function fakeWorld(): FakeWorld {
  const calls: ServiceCall[] = []
  const log: MessageRecord[] = []
  const providerAuthHashes = new Set<string>()
  const trustedAuthHashes = new Set<string>()
  const addresses: string[] = []
  const rights: ServiceAccessRights = { serviceId: svc, disabled: false, endpoints: [{ method: '*', path: '/api/**', subjects: [consumer] }] }
  const globalConf: GlobalConfView = {
    assertValid: () => {},
    instanceIdentifier: () => 'DEV',
    serversOf: () => addresses.map(providerServer),
    authCertMatchesMember: (der) => providerAuthHashes.has(createHash('sha256').update(der).digest('hex')),
    memberExists: () => true,
    isGlobalGroupMember: () => false,
  }
  const signer = { sign: async (member: ClientId, parts: MessagePart[]) => ({ signatureXml: fakeSignature(member, parts) }) }
  const verifier = {
    verify: async (expected: ClientId, parts: MessagePart[], sig: { signatureXml: Uint8Array }) => {
      if (!fakeSignature(expected, parts).equals(Buffer.from(sig.signatureXml))) throw new SecurityServerError('invalid_signature_value', 'Signature is not valid')
    },
  }
  const messageLog = { assertAcceptingMessages: () => {}, bodyLimit: () => undefined, record: async (r: MessageRecord) => void log.push(r) }
  const serverConf = {
    // The consumer at the client proxy; the provider at the server proxy (`verifyClientStatus`).
    isRegisteredClient: (id: ClientId) => encodeIdentifier(id) === encodeIdentifier(consumer) || encodeIdentifier(id) === encodeIdentifier(provider),
    accessRightsFor: (id: typeof svc) => (encodeIdentifier(id) === encodeIdentifier(svc) ? rights : undefined),
    localGroupMembers: () => [],
    service: () => ({ url: 'http://service.local/base/', timeoutSeconds: 5, sslVerify: true }),
    isAuthentication: () => undefined,
  }
  const serverDeps: ServerProxyDeps = {
    globalConf, serverConf, verifier, signer, messageLog,
    tlsClientVerifier: {
      verify: async (_client, chain) => {
        if (chain.length < 2) throw new SecurityServerError('ssl_authentication_failed', 'Expected the auth certificate and its intermediate')
      },
    },
    serviceClient: {
      call: async (call) => {
        calls.push(call)
        return { status: 200, reason: 'OK', headers: [['Content-Type', 'application/json']], body: bufferBody(Buffer.from(JSON.stringify({ n: calls.length, got: call.body?.size ?? 0 }))) }
      },
    },
  }
  return {
    calls, log, globalConf, serverDeps, providerAuthHashes, trustedAuthHashes, addresses,
    clientDeps: (peer) => ({ globalConf, serverConf, signer, verifier, messageLog, peer, proxyVersion: '7.8.0', authOcspResponses: async () => [] }),
  }
}
