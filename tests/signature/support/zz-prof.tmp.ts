import { sign as cryptoSign } from 'node:crypto'
import { memberId } from '@shared/domain/identifiers'
import * as d from '../../../src-main/signature'
import { makeCertificate, makeOcspResponse, makeTrustSetup } from './test-pki'
async function main() {
  const pki = await makeTrustSetup()
  const trust = d.verificationTrust({ instance: 'DEV', approvedCas: [{ name: 'CA', topCert: pki.ca.der, ocspResponderCerts: [pki.ocsp.der], certificateProfileInfo: 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider' }], approvedTsas: [] })
  const signer = await makeCertificate({ subject: 'C=DEV, O=COM, CN=1234', issuer: pki.ca, keyUsage: ['nonRepudiation'], kind: 'EC' })
  const ocsp = await makeOcspResponse({ cert: signer, issuer: pki.ca, responder: pki.ocsp, thisUpdate: new Date(Date.now() - 60_000) })
  const message = Buffer.from('<a>' + 'x'.repeat(1000) + '</a>')
  const sign = (req: d.SignRequest) => cryptoSign('sha512', req.dataToSign, { key: signer.keyObject, dsaEncoding: 'ieee-p1363' })
  const xml = await d.buildSignature({ parts: [{ uri: '/message.xml', data: message }], signingCert: signer.der, ocspResponses: [ocsp], sign })
  const t = Date.now()
  for (let i = 0; i < 3000; i++) {
    await d.buildSignature({ parts: [{ uri: '/message.xml', data: message }], signingCert: signer.der, ocspResponses: [ocsp], sign })
    d.verifySignature(xml, { parts: { '/message.xml': message }, expectedSigner: memberId('DEV', 'COM', '1234'), trust, atTime: new Date() })
  }
  console.log(Date.now() - t)
}
void main()
