import { createHash, X509Certificate } from 'node:crypto'
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls'

/**
 * The TLS profile between security servers (xroad-protocols.md §4.1, reliability-and-security.md §2.3): TLS 1.2
 * only, X-Road's three cipher suites (`xroad-tls-ciphers`), mutual authentication with the authentication certificate
 * plus intermediates and never the root (`getAllCertsWithoutTrustedRoot`).
 */
export const XROAD_TLS_CIPHERS = 'ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA256:ECDHE-ECDSA-AES256-SHA384'
export const XROAD_TLS_PROTOCOL = 'TLSv1.2'

export const XROAD_TLS_OPTIONS = {
  minVersion: XROAD_TLS_PROTOCOL,
  maxVersion: XROAD_TLS_PROTOCOL,
  ciphers: XROAD_TLS_CIPHERS,
  honorCipherOrder: true,
} as const

/**
 * TLS towards information systems on the client proxy's HTTPS port, as X-Road's `ClientProxy` connector
 * (`SystemProperties.getProxyClientTLSProtocols`/`getProxyClientTLSCipherSuites`, `proxy.client-tls-protocols` default
 * `TLSv1.2`, `proxy.client-tls-ciphers` default `DEFAULT_CLIENT_SSL_CIPHER_SUITES`, here in OpenSSL's names). X-Road's
 * internal TLS key is RSA; Gatehouse's is ECDSA P-256, so the ECDHE-ECDSA counterparts of X-Road's ECDHE-RSA suites
 * follow them (OpenSSL offers only the suites the key can sign). TLS 1.3 (its own suites) only when the
 * administrator allows it (`proxy.client-tls-allow-tls13`).
 */
export const XROAD_CLIENT_TLS_CIPHERS = [
  'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-SHA384',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES128-SHA256', 'DHE-RSA-AES256-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-AES256-SHA384',
].join(':')

export interface ClientTlsProfile {
  /** Offer TLS 1.3 besides TLS 1.2 (X-Road: `proxy.client-tls-protocols=TLSv1.2,TLSv1.3`). */
  allowTls13: boolean
}

export const DEFAULT_CLIENT_TLS_PROFILE: ClientTlsProfile = { allowTls13: false }

export function clientTlsOptions(profile: ClientTlsProfile) {
  return {
    minVersion: 'TLSv1.2', maxVersion: profile.allowTls13 ? 'TLSv1.3' : 'TLSv1.2', ciphers: XROAD_CLIENT_TLS_CIPHERS,
    // Jetty's SslContextFactory uses the server's cipher order; DHE suites need parameters.
    honorCipherOrder: true, dhparam: 'auto',
  } as const
}

/** Our authentication key and certificate chain (leaf first, then intermediates, no root), PEM. */
export interface AuthTlsCredentials {
  keyPem: string
  certChainPem: string
}

/** The peer's certificate chain as it presented it, leaf first, DER (no root added from our trust store). */
/** A connection's peer chain does not change; it is read once per socket (X-Road verifies per connection too). */
const peerChains = new WeakMap<TLSSocket, Uint8Array[]>()

export function peerCertificateChain(socket: TLSSocket): Uint8Array[] {
  let chain = peerChains.get(socket)
  if (chain === undefined) {
    chain = readPeerCertificateChain(socket)
    peerChains.set(socket, chain)
  }
  return chain
}

function readPeerCertificateChain(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = []
  let cert: PeerCertificate | undefined = socket.getPeerCertificate(true)
  const seen = new Set<string>()
  while (cert !== undefined && cert.raw !== undefined && cert.raw.length > 0) {
    const fingerprint = cert.fingerprint256
    if (seen.has(fingerprint)) break
    seen.add(fingerprint)
    chain.push(new Uint8Array(cert.raw))
    const issuer: PeerCertificate | undefined = (cert as DetailedPeerCertificate).issuerCertificate
    if (issuer === undefined || issuer === cert) break
    cert = issuer
  }
  // A self-signed certificate at the end is a root the peer should not have sent: keep the chain without it.
  if (chain.length > 1 && isSelfSigned(chain[chain.length - 1] as Uint8Array)) chain.pop()
  return chain
}

export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

export function sha1Hex(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex')
}

function isSelfSigned(der: Uint8Array): boolean {
  try {
    const cert = new X509Certificate(der)
    return cert.subject === cert.issuer && cert.verify(cert.publicKey)
  } catch {
    return false
  }
}
