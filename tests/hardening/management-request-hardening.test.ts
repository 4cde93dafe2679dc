import { describe, expect, it, vi } from 'vitest'
import { memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import {
  MANAGEMENT_REQUEST_MAX_BYTES, buildManagementRequest, decodeManagementParts, encodeManagementParts, parseManagementRequest,
} from '../../src-main/management'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * Management requests from outside (what the lab's management service reads, pr-mserv): oversized bodies, deep or
 * wide XML, many MIME parts and huge base64 fields are refused with bounded messages, in time comparable to a benign
 * request of the same size. Bound: O(n) in the body, n ≤ MANAGEMENT_REQUEST_MAX_BYTES (X-Road's 100 000).
 */
vi.setConfig({ testTimeout: 120_000 })

const owner = memberId('DEV', 'COM', '1234')
const server = securityServerId(owner, 'SS0')
const client = subsystemId('DEV', 'COM', '1234', 'sub')

function clientReg(name: string): Buffer {
  return buildManagementRequest({ service: 'clientReg', server, client, subsystemName: name }, { sender: owner, receiver: owner, id: 'x' })
}

function signed(soap: Buffer, pad = 0): { contentType: string; body: Buffer } {
  const sig = { algorithm: 'SHA512withRSA' as const, value: Buffer.alloc(256 + pad, 1) }
  return encodeManagementParts({ form: 'signed', soap, signature: sig, cert: Buffer.alloc(900, 2), ocsp: Buffer.alloc(1500, 3) }, 'bnd')
}

describe('management request reading is bounded', () => {
  it('a body over X-Road\'s 100 000 bytes is refused before parsing', async () => {
    const big = clientReg('n'.repeat(MANAGEMENT_REQUEST_MAX_BYTES))
    const benign = clientReg('n'.repeat(MANAGEMENT_REQUEST_MAX_BYTES - 2000))
    const { adversarial } = await compareWithBenign('oversized management request', () => parseManagementRequest(big), () => parseManagementRequest(benign))
    expectRefusal(adversarial, 'invalid_request')
  })

  it('deep nesting in the body is refused by the XML limits', async () => {
    const text = clientReg('x').toString('utf8')
    const deep = Buffer.from(text.replace('<xroad:subsystemName>x</xroad:subsystemName>', `<xroad:subsystemName>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</xroad:subsystemName>`))
    const benign = clientReg('y'.repeat(deep.byteLength - text.length))
    const { adversarial } = await compareWithBenign('deep management request', () => parseManagementRequest(deep), () => parseManagementRequest(benign))
    expectRefusal(adversarial, /invalid_soap|invalid_xml/)
  })

  it('many MIME parts are refused by the multipart limits', async () => {
    const soap = clientReg('x')
    const one = signed(soap)
    const many = Buffer.concat([one.body.subarray(0, one.body.lastIndexOf('--bnd--')), ...Array.from({ length: 1000 }, () => Buffer.from('--bnd\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n')), Buffer.from('--bnd--\r\n')])
    const benign = signed(soap, many.byteLength - one.body.byteLength)
    const { adversarial } = await compareWithBenign('many parts', () => decodeManagementParts(one.contentType, many), () => decodeManagementParts(benign.contentType, benign.body))
    expectRefusal(adversarial, 'invalid_message')
  })

  it('a refusal quotes at most a few dozen characters of the input', () => {
    const bad = Buffer.from(clientReg('x').toString('utf8').replace(/clientReg/g, `c${'Z'.repeat(5000)}`))
    try {
      parseManagementRequest(bad)
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(200)
    }
  })
})
