import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A throwaway PKI made with the openssl CLI: a root CA, an intermediate CA and RSA authentication certificates
 * (EKU clientAuth+serverAuth) issued by the intermediate, as X-Road auth certificates are.
 */
export interface TestCert {
  keyPem: string
  certPem: string
  der: Buffer
  /** Leaf + intermediate, the chain a security server presents (no root). */
  chainPem: string
}

export interface TestPki {
  rootPem: string
  intermediatePem: string
  issue(name: string): TestCert
  selfSigned(name: string): TestCert
  dispose(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pki-'))
  const ext = join(dir, 'ext.cnf')
  writeFileSync(
    ext,
    '[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' +
      '[auth]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth,serverAuth\n',
  )
  const key = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`])
  key('root')
  openssl(dir, ['req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=Test Root', '-days', '2', '-out', 'root.pem', '-extensions', 'ca', '-config', ext, '-sha256'])
  key('int')
  openssl(dir, ['req', '-new', '-key', 'int.key', '-subj', '/CN=Test Intermediate', '-out', 'int.csr'])
  openssl(dir, ['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-extensions', 'ca', '-out', 'int.pem', '-sha256'])
  const read = (file: string) => readFileSync(join(dir, file), 'utf8')
  const toDer = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64')
  const intermediatePem = read('int.pem')
  return {
    rootPem: read('root.pem'),
    intermediatePem,
    issue(name) {
      key(name)
      openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/O=Gatehouse Test/CN=${name}`, '-out', `${name}.csr`])
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-extensions', 'auth', '-out', `${name}.pem`, '-sha256'])
      const certPem = read(`${name}.pem`)
      return { keyPem: read(`${name}.key`), certPem, der: toDer(certPem), chainPem: certPem + intermediatePem }
    },
    selfSigned(name) {
      key(name)
      openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.pem`, '-extensions', 'auth', '-config', ext, '-sha256'])
      const certPem = read(`${name}.pem`)
      return { keyPem: read(`${name}.key`), certPem, der: toDer(certPem), chainPem: certPem }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  }
}
