import 'reflect-metadata'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { webcrypto, X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { SecurityServerError, writeFileAtomic, type Clock } from '../platform'

/**
 * The internal TLS certificate of the admin HTTPS listener: a self-signed ECDSA P-256 certificate for
 * localhost/127.0.0.1/::1, generated at first start into `DATA_DIR/tls/admin.{key,crt}` (PEM). An administrator
 * may replace both files with their own; they are read at every start.
 */
export interface AdminTlsMaterial {
  key: string
  cert: string
  /** SHA-256 fingerprint of the certificate, shown so a browser warning can be checked. */
  fingerprint256: string
  generated: boolean
}

export async function loadOrCreateAdminTls(tlsDir: string, clock: Clock): Promise<AdminTlsMaterial> {
  const keyFile = join(tlsDir, 'admin.key')
  const certFile = join(tlsDir, 'admin.crt')
  let generated = false
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    mkdirSync(tlsDir, { recursive: true, mode: 0o700 })
    const { key, cert } = await generateSelfSigned(clock.now())
    writeFileAtomic(keyFile, key, 0o600)
    writeFileAtomic(certFile, cert, 0o644)
    generated = true
  }
  const key = readFileSync(keyFile, 'utf8')
  const cert = readFileSync(certFile, 'utf8')
  let fingerprint256: string
  try {
    fingerprint256 = new X509Certificate(cert).fingerprint256
  } catch (cause) {
    throw new SecurityServerError('incorrect_certificate', `The admin TLS certificate ${certFile} cannot be read`, { cause })
  }
  return { key, cert, fingerprint256, generated }
}

type CryptoKeyPairLike = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys']

async function generateSelfSigned(now: Date): Promise<{ key: string; cert: string }> {
  const crypto = webcrypto
  x509.cryptoProvider.set(crypto as unknown as ReturnType<typeof x509.cryptoProvider.get>)
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  const notBefore = new Date(now.getTime() - 60_000)
  const notAfter = new Date(now.getTime() + 2 * 365 * 24 * 3600_000)
  const serial = Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
  serial[0] = (serial[0] as number) & 0x7f
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'CN=Gatehouse admin (localhost)',
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    keys: keys as unknown as CryptoKeyPairLike,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      // RFC 6125 §6.4: browsers match the subjectAltName, not the CN.
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
    ],
  })
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`
  return { key, cert: cert.toString('pem') + '\n' }
}
