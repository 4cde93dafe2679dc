import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A throwaway CA made with the openssl CLI, issuing certificates from our CSRs with the requested extensions. */
export interface TestCa {
  readonly certPem: string
  readonly certFile: string
  readonly keyFile: string
  issue(csrFile: string, outFile: string, days?: number): void
}

export function createTestCa(dir: string): TestCa {
  const keyFile = join(dir, 'ca.key')
  const certFile = join(dir, 'ca.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30',
    '-subj', '/C=EE/O=Gatehouse Test/CN=Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'pipe' })
  const certPem = execFileSync('openssl', ['x509', '-in', certFile], { encoding: 'utf8' })
  return {
    certPem, certFile, keyFile,
    issue(csrFile, outFile, days = 10) {
      const ext = join(dir, 'leaf.ext')
      writeFileSync(ext, 'basicConstraints=CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n')
      execFileSync('openssl', ['x509', '-req', '-in', csrFile, '-CA', certFile, '-CAkey', keyFile, '-CAcreateserial', '-out', outFile,
        '-days', String(days), '-copy_extensions', 'copy', '-extfile', ext, '-sha256'], { stdio: 'pipe' })
    },
  }
}
