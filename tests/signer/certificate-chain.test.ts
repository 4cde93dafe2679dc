import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { createSigner } from '../../src-main/signer'

/** Intermediates in the signing context (xroad-protocols.md §4.6 CertificateValues): leaf + intermediate, never the top CA. */
describe('signing context certificate chain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-chain-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const ssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' })
  const der = (pem: string): Buffer => execFileSync('openssl', ['x509', '-in', pem, '-outform', 'DER'])

  it('stores the intermediate from the path to the approved CA and hands leaf + intermediate to the signer', async () => {
    const f = (n: string): string => join(dir, n)
    ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('root.key'), '-out', f('root.pem'), '-days', '30',
      '-subj', '/CN=Root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
    ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('int.key'), '-out', f('int.csr'), '-subj', '/CN=Intermediate CA'])
    writeFileSync(f('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n')
    ssl(['x509', '-req', '-in', f('int.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'), '-CAcreateserial', '-out', f('int.pem'), '-days', '20', '-extfile', f('ca.ext')])
    const db = openDatabase(join(dir, 'serverconf.sqlite'))
    const signer = createSigner({ db, dataDir: dir })
    try {
      await signer.initSoftwareToken('Token-Pin-1')
      await signer.login('0', 'Token-Pin-1')
      const member = memberId('EE', 'GOV', '1234')
      const key = await signer.generateKey({ tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label: 'sign' })
      const csr = await signer.generateCsr({ keyId: key.id, subjectOf: member, certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'pem' })
      writeFileSync(f('leaf.csr'), csr.encoded)
      writeFileSync(f('leaf.ext'), 'basicConstraints=CA:FALSE\n')
      ssl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.pem'), '-CAkey', f('int.key'), '-CAcreateserial', '-out', f('leaf.pem'), '-days', '10',
        '-copy_extensions', 'copy', '-extfile', f('leaf.ext')])
      // A CA delivers leaf + intermediate + root as one PEM bundle; only the root is approved.
      const bundle = Buffer.concat([readFileSync(f('leaf.pem')), readFileSync(f('int.pem')), readFileSync(f('root.pem'))])
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const cert = await signer.importCertificate(bundle, { memberId: member, approvedCaCertificates: [der(f('root.pem'))] })
      expect(cert.certDer.equals(der(f('leaf.pem')))).toBe(true)
      signer.activateCertificate(cert.id)
      const context = await signer.getSigningContext(member)
      expect(context.certChain.map((c) => c.toString('hex'))).toEqual([der(f('leaf.pem')).toString('hex'), der(f('int.pem')).toString('hex')])
    } finally {
      await signer.close()
      closeDatabase(db)
    }
  })
})
