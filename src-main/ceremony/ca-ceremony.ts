import 'reflect-metadata'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { memberId } from '@shared/domain/identifiers'
import { SecurityServerError, clientError, writeFileAtomic } from '../platform'
import { certificateToPem, initLab, openLab, type CaSigner, type ExternalCaKey, type LabAuthority, type SignatureAlgorithmName } from '../lab'
import { ecdsaRawToDer } from '../signer'
import type { KeyCeremony } from './key-ceremony'
import { KEY_DUAL_CONTROL, type PresentedConfirmation } from './participants'
import { artifactOf, type Artifact } from './transcript'

/**
 * The offline CA ceremony, for instances that have no PKI of their own (as CamDX did): the lab CA's key is generated
 * on a PKCS#11 token (dual control, through the key ceremony's steps), the lab is initialized with that key as its
 * CA signer (the CA certificate is self-signed on the token; no CA key file exists), CSRs are read from removable
 * media and signed with the token key, and the results are published for the online side: the certificates, the
 * CA certificate and a certificate status file signed by the CA that an online lab imports for its OCSP responder.
 */

export const CERTIFICATE_STATUS_FILE = 'certificate-status.json'
const CSR_EXTENSIONS = new Set(['.csr', '.pem', '.der', '.p10'])

export interface SignedCsr {
  csrFile: string
  certificateFile: string
  serial: string
  subject: string
  usage: 'sign' | 'auth'
}

/** The ceremony key as the lab's CA key: the token signs the digest; ECDSA comes back raw and is DER-encoded for X.509. */
export function tokenCaKey(ceremony: KeyCeremony): ExternalCaKey {
  const key = ceremony.state.key
  if (key === undefined) throw clientError('ceremony_step_refused', 'Generate the CA key on the token first')
  const info = ceremony.signer.listKeys().find((k) => k.id === key.keyId)
  if (info === undefined) throw new SecurityServerError('key_not_found', `Key ${key.keyId} is not in the ceremony's key configuration`)
  const driver = ceremony.driver()
  const ec = key.algorithm === 'ec-p256'
  return {
    spki: info.publicKeyDer,
    keyType: ec ? 'ec' : 'rsa',
    async sign(tbsDer: Uint8Array, algorithm: SignatureAlgorithmName) {
      const hash = algorithm.endsWith('512') ? 'sha512' : 'sha256'
      const digest = createHash(hash).update(tbsDer).digest()
      if (ec !== algorithm.startsWith('ecdsa')) throw new SecurityServerError('unsupported_sign_algorithm', `Algorithm ${algorithm} does not match the CA key`)
      const signature = await driver.sign(key.keyId, ec ? `ecdsa-${hash}` : `rsa-pkcs1-${hash}`, digest)
      return ec ? ecdsaRawToDer(signature) : signature
    },
  }
}

export class CaCeremony {
  constructor(readonly keys: KeyCeremony) {}

  private caSigner(labDir: string): CaSigner {
    const key = tokenCaKey(this.keys)
    const certificate = new x509.X509Certificate(readFileSync(join(labDir, 'ca.pem'), 'utf8'))
    return { certificate: new Uint8Array(certificate.rawData), keyType: key.keyType, sign: (tbs, algorithm) => key.sign(tbs, algorithm) }
  }

  private openLab(labDir: string): LabAuthority {
    return openLab(labDir, { caSigner: this.caSigner(labDir) })
  }

  /** Step (dual control): initialize the lab with the token key as its CA (self-signs the CA certificate, signs OCSP and TSA). */
  async initLab(actor: string, input: { labDir: string; instance?: string }, confirmations: PresentedConfirmation[]): Promise<{ caCertificate: Uint8Array; anchorSha256: string }> {
    const { result } = await this.keys.session.controlled(
      {
        step: 'init-ca', title: 'Create the CA certificate with the token key and initialize the lab', actor, rule: KEY_DUAL_CONTROL, confirmations,
        details: { labDir: input.labDir, instance: input.instance ?? 'LAB', keyId: this.keys.state.key?.keyId },
      },
      async () => {
        const init = await initLab(input.labDir, { instance: input.instance, caKey: tokenCaKey(this.keys), keyAlgorithm: 'ec-p256' })
        const lab = this.openLab(input.labDir)
        try {
          const ca = lab.certificateDer('ca')
          return {
            result: { caCertificate: ca, anchorSha256: init.anchorSha256 },
            details: { anchorSha256: init.anchorSha256, caKeyFile: 'none: the CA key is on the token' },
            artifacts: [
              artifactOf('ca.pem', readFileSync(init.caCertificate)), artifactOf('ocsp.pem', lab.certificateDer('ocsp')),
              artifactOf('tsa.pem', lab.certificateDer('tsa')), artifactOf('anchor.xml', readFileSync(init.anchor)),
            ],
          }
        } finally {
          lab.close()
        }
      },
    )
    return result
  }

  /**
   * Step (dual control): sign every CSR in `inDir` (removable media) with the token key and write the certificates to
   * `outDir`. Members named by signing CSRs are registered first when `registerMembers` (the CA is the registry here).
   */
  async signCsrs(
    actor: string,
    input: { labDir: string; inDir: string; outDir: string; usage?: 'sign' | 'auth'; registerMembers?: boolean },
    confirmations: PresentedConfirmation[],
  ): Promise<SignedCsr[]> {
    const usage = input.usage ?? 'sign'
    const files = readdirSync(input.inDir).filter((f) => CSR_EXTENSIONS.has(extname(f).toLowerCase()) && !f.endsWith('.cert.pem')).sort()
    const csrs = files.map((f) => ({ name: f, bytes: readFileSync(join(input.inDir, f)) }))
    const { result } = await this.keys.session.controlled(
      {
        step: 'sign-csrs', title: `Sign the ${usage} certificate requests from removable media with the token CA key`, actor, rule: KEY_DUAL_CONTROL, confirmations,
        details: { inDir: input.inDir, outDir: input.outDir, usage, requests: files },
        artifacts: csrs.map((c) => artifactOf(c.name, c.bytes)),
      },
      async () => {
        if (csrs.length === 0) throw clientError('validation_failed', `No certificate requests (${[...CSR_EXTENSIONS].join(', ')}) in ${input.inDir}`)
        mkdirSync(input.outDir, { recursive: true })
        const lab = this.openLab(input.labDir)
        const signed: SignedCsr[] = []
        const artifacts: Artifact[] = []
        try {
          for (const csr of csrs) {
            if (usage === 'sign' && input.registerMembers) registerMemberOf(lab, csr.bytes)
            const issued = await lab.issueCertificate(csr.bytes, usage)
            const name = `${basename(csr.name, extname(csr.name)).replace(/\.csr$/, '')}.cert.pem`
            const file = join(input.outDir, name)
            writeFileAtomic(file, issued.pem, 0o644)
            artifacts.push(artifactOf(name, Buffer.from(issued.pem)))
            signed.push({ csrFile: join(input.inDir, csr.name), certificateFile: file, serial: issued.serial, subject: issued.subject, usage })
          }
        } finally {
          lab.close()
        }
        return { result: signed, details: { issued: signed.map((s) => ({ serial: s.serial, subject: s.subject })) }, artifacts }
      },
    )
    return result
  }

  /**
   * Step (dual control: the CA key signs the status file): publish the CA certificate and the certificate status
   * file for the online responder (`importCertificateStatus`) to `outDir`.
   */
  async publish(actor: string, input: { labDir: string; outDir: string }, confirmations: PresentedConfirmation[]): Promise<{ statusFile: string; caFile: string }> {
    const { result } = await this.keys.session.controlled(
      { step: 'publish', title: 'Publish the CA certificate and the signed certificate status file', actor, rule: KEY_DUAL_CONTROL, confirmations, details: { outDir: input.outDir } },
      async () => {
        mkdirSync(input.outDir, { recursive: true })
        const lab = this.openLab(input.labDir)
        try {
          const status = await lab.exportCertificateStatus()
          const statusText = `${JSON.stringify(status, null, 2)}\n`
          const caPem = certificateToPem(lab.certificateDer('ca'))
          const statusFile = join(input.outDir, CERTIFICATE_STATUS_FILE)
          const caFile = join(input.outDir, 'ca.pem')
          writeFileAtomic(statusFile, statusText, 0o644)
          writeFileAtomic(caFile, caPem, 0o644)
          const certificates = (JSON.parse(status.payload) as { certificates: unknown[] }).certificates.length
          return {
            result: { statusFile, caFile },
            details: { certificates },
            artifacts: [artifactOf(CERTIFICATE_STATUS_FILE, Buffer.from(statusText)), artifactOf('ca.pem', Buffer.from(caPem))],
          }
        } finally {
          lab.close()
        }
      },
    )
    return result
  }
}

/** Registers the member a signing CSR names (C=instance, O=member class, CN=member code) unless already known. */
function registerMemberOf(lab: LabAuthority, csrBytes: Uint8Array): void {
  const text = Buffer.from(csrBytes).toString('latin1')
  const csr = new x509.Pkcs10CertificateRequest(text.includes('-----BEGIN') ? text : new Uint8Array(csrBytes))
  const field = (name: string): string | undefined => csr.subjectName.getField(name)[0]
  const c = field('C')
  const o = field('O')
  const cn = field('CN')
  if (c === undefined || o === undefined || cn === undefined) return
  try {
    lab.addMember(memberId(c, o, cn), cn)
  } catch (error) {
    if (!(error instanceof SecurityServerError && error.code === 'conflict')) throw error
  }
}
