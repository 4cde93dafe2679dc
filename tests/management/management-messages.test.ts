import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, sign as cryptoSign, constants } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import {
  MANAGEMENT_REQUEST_FORMS, MANAGEMENT_SERVICE_CODES, buildManagementRequest, buildManagementResponse, decodeManagementParts,
  encodeManagementParts, parseManagementRequest, parseManagementResponse, verifyManagementSignature,
  type ManagementRequestBody, type ManagementServiceCode,
} from '../../src-main/management'
import { soapFaultXml } from '../../src-main/soap'
import { fixturePath } from '../support/fixtures'
import { FIXTURES, XMLLINT, describeWith } from '../support/requirements'
import { PR_MSERV, annexAExample, envelopeOf, exampleAttachmentHeaders } from './support/pr-mserv'

/**
 * The management-service message model against pr-mserv: every Annex A example is read by our parser, the same
 * request built by our builder reads back to the same fields (header and body), the multipart parts come in Annex A's
 * order with its headers, and every body we build validates against X-Road's request.xsd (fixtures) with xmllint.
 */
const owner = memberId('EE', 'GOV', 'TS1OWNER')
const server = securityServerId(owner, 'TS1')
const subsystem = subsystemId('EE', 'COM', 'client', 'subsystem')

function sampleBody(service: ManagementServiceCode, authCert = Buffer.from('certificate')): ManagementRequestBody {
  switch (service) {
    case 'authCertReg': return { service, server, address: '192.168.74.202', authCert }
    case 'authCertDeletion': return { service, server, authCert }
    case 'clientReg': return { service, server, client: subsystem, subsystemName: 'subsystem name' }
    case 'clientRename': return { service, server, client: subsystem, subsystemName: 'new name' }
    case 'clientDeletion': case 'clientDisable': case 'clientEnable': return { service, server, client: subsystem }
    case 'ownerChange': return { service, server, client: memberId('EE', 'GOV', 'NEWOWNER') }
    case 'addressChange': return { service, server, address: 'ss1.example.org' }
    case 'maintenanceModeEnable': return { service, server, message: 'Back at 18:00 & later' }
    case 'maintenanceModeDisable': return { service, server }
  }
}

describeWith([PR_MSERV], 'pr-mserv Annex A examples', () => {
  for (const service of MANAGEMENT_SERVICE_CODES) {
    it(`${service}: our request reads back field by field as Annex A's`, () => {
      const example = annexAExample(service)
      const theirs = parseManagementRequest(Buffer.from(envelopeOf(example.request).trim()))
      expect(theirs.body.service).toBe(service)
      const ours = parseManagementRequest(buildManagementRequest(theirs.body, {
        sender: theirs.header.client, receiver: { ...theirs.header.service, objectType: 'MEMBER' } as never, id: theirs.header.id,
      }))
      expect(ours.header).toEqual(theirs.header)
      expect(ours.body).toEqual(theirs.body)
      expect(ours.header.service.serviceCode).toBe(service)
    })

    it(`${service}: Annex A's response gives the request id; ours echoes the request`, () => {
      const example = annexAExample(service)
      const request = parseManagementRequest(Buffer.from(envelopeOf(example.request).trim()))
      const response = parseManagementResponse(Buffer.from(envelopeOf(example.response).trim()), 'text/xml; charset=UTF-8', request)
      expect(response.requestId).toBeGreaterThan(0)
      const ours = parseManagementResponse(buildManagementResponse(request, 4711), 'text/xml', request)
      expect(ours.requestId).toBe(4711)
      expect(ours.body).toEqual(request.body)
    })

    it(`${service}: parts in Annex A's order and form`, () => {
      const example = annexAExample(service)
      const form = MANAGEMENT_REQUEST_FORMS[service]
      const headers = exampleAttachmentHeaders(example.request)
      const sig = { algorithm: 'SHA512withRSA' as const, value: Buffer.from('sig') }
      const soap = buildManagementRequest(sampleBody(service), { sender: owner, receiver: owner })
      const parts = form === 'plain' ? { form, soap } as const
        : form === 'signed' ? { form, soap, signature: sig, cert: Buffer.from('c'), ocsp: Buffer.from('o') } as const
          : { form, soap, authSignature: sig, ownerSignature: sig, authCert: Buffer.from('a'), ownerCert: Buffer.from('c'), ownerOcsp: Buffer.from('o') } as const
      const encoded = encodeManagementParts(parts, 'jetty113950090iemuz6a3')
      if (form === 'plain') {
        // Annex A shows clientDeletion and authCertDeletion as bare SOAP, as X-Road's SimpleManagementRequest sends them.
        expect(example.request.trimStart().startsWith('<?xml')).toBe(true)
        expect(encoded.contentType).toBe('text/xml; charset=UTF-8')
        return
      }
      expect(headers.length).toBe(form === 'signed' ? 3 : 5)
      const ourHeaders = encoded.body.toString('latin1').split('--jetty113950090iemuz6a3').slice(2, -1)
        .map((p) => p.split('\r\n').filter((l) => /^[A-Za-z-]+: /.test(l)).map((l) => l.toLowerCase()))
      expect(ourHeaders).toEqual(headers.map((h) => h.map((l) => l.toLowerCase())))
      expect(encoded.contentType).toMatch(/^multipart\/related; type="application\/octet-stream"; charset=UTF-8; boundary=/)
      const decoded = decodeManagementParts(encoded.contentType, encoded.body)
      expect(decoded.parts).toEqual(parts)
    })
  }
})

describeWith([FIXTURES, XMLLINT], 'request bodies against request.xsd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mgmt-xsd-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  for (const service of MANAGEMENT_SERVICE_CODES) {
    it(`${service} validates`, () => {
      const bytes = buildManagementRequest(sampleBody(service), { sender: owner, receiver: owner }).toString('utf8')
      const body = bytes.slice(bytes.indexOf('<SOAP-ENV:Body>') + 15, bytes.indexOf('</SOAP-ENV:Body>'))
      const file = join(dir, `${service}.xml`)
      writeFileSync(file, body.replace(`<xroad:${service}>`, `<xroad:${service} xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">`))
      const out = execFileSync('xmllint', ['--noout', '--schema', fixturePath('schemas/common-domain/request.xsd'), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      expect(out).toBe('')
    })
  }
})

describe('management message model', () => {
  it('reads a SOAP fault as the central server wrote it', () => {
    const request = parseManagementRequest(buildManagementRequest(sampleBody('clientReg'), { sender: owner, receiver: owner }))
    const fault = soapFaultXml('Server.ServerProxy.invalid_request', 'Client already registered', 'trace-1')
    expect(() => parseManagementResponse(Buffer.from(fault), 'text/xml', request)).toThrow('Client already registered')
  })

  it('refuses a response that answers another request', () => {
    const a = parseManagementRequest(buildManagementRequest(sampleBody('clientReg'), { sender: owner, receiver: owner }))
    const b = parseManagementRequest(buildManagementRequest(sampleBody('clientReg'), { sender: owner, receiver: owner }))
    expect(() => parseManagementResponse(buildManagementResponse(b, 1), 'text/xml', a)).toThrow(/not consistent/)
  })

  it('refuses an unknown service, a missing field, and a signed request without its parts', () => {
    const clientReg = buildManagementRequest(sampleBody('clientReg'), { sender: owner, receiver: owner }).toString('utf8')
    expect(() => parseManagementRequest(Buffer.from(clientReg.replace(/clientReg/g, 'clientFoo')))).toThrow(/Unknown service code/)
    const noClient = clientReg.replace(/<xroad:client id:objectType="SUBSYSTEM">.*?<\/xroad:client>/, '')
    expect(() => parseManagementRequest(Buffer.from(noClient))).toThrow(/lacks client/)
    expect(() => decodeManagementParts('text/xml', Buffer.from(clientReg))).toThrow(/signature parts/)
  })

  it('a part missing or one too many is refused as X-Road does', () => {
    const soap = buildManagementRequest(sampleBody('ownerChange'), { sender: owner, receiver: owner })
    const sig = { algorithm: 'SHA512withRSA' as const, value: Buffer.from('s') }
    const full = encodeManagementParts({ form: 'authCertReg', soap: buildManagementRequest(sampleBody('authCertReg'), { sender: owner, receiver: owner }), authSignature: sig, ownerSignature: sig, authCert: Buffer.from('a'), ownerCert: Buffer.from('c'), ownerOcsp: Buffer.from('o') }, 'b1')
    const tooMany = full.body.toString('latin1').replace(/authCertReg/g, 'ownerChange')
    expect(() => decodeManagementParts(full.contentType, Buffer.from(tooMany.replace(/<xroad:ownerChange>.*<\/xroad:ownerChange>/, soap.toString('utf8').replace(/.*<SOAP-ENV:Body>|<\/SOAP-ENV:Body>.*/g, '')), 'latin1'))).toThrow(/Unexpected content/)
    const short = encodeManagementParts({ form: 'signed', soap, signature: sig, cert: Buffer.from('c'), ocsp: Buffer.alloc(0) }, 'b2')
    expect(() => decodeManagementParts(short.contentType, short.body)).toThrow(/OCSP is missing/)
  })

  it('verifies signatures in each of X-Road\'s algorithms and refuses a wrong one', () => {
    const data = buildManagementRequest(sampleBody('clientReg'), { sender: owner, receiver: owner })
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const certDer = selfSigned(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string)
    const pkcs1 = cryptoSign('sha512', data, rsa.privateKey)
    expect(verifyManagementSignature(data, { algorithm: 'SHA512withRSA', value: pkcs1 }, certDer)).toBe(true)
    const pss = cryptoSign('sha256', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    expect(verifyManagementSignature(data, { algorithm: 'SHA256withRSAandMGF1', value: pss }, certDer)).toBe(true)
    expect(verifyManagementSignature(Buffer.concat([data, Buffer.from(' ')]), { algorithm: 'SHA512withRSA', value: pkcs1 }, certDer)).toBe(false)
    expect(verifyManagementSignature(data, { algorithm: 'SHA256withRSA', value: pkcs1 }, certDer)).toBe(false)
  })
})

function selfSigned(keyPem: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'mgmt-cert-'))
  try {
    writeFileSync(join(dir, 'k.pem'), keyPem)
    execFileSync('openssl', ['req', '-x509', '-new', '-key', join(dir, 'k.pem'), '-subj', '/CN=t', '-days', '2', '-outform', 'DER', '-out', join(dir, 'c.der')], { stdio: 'ignore' })
    return readFileSync(join(dir, 'c.der'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
