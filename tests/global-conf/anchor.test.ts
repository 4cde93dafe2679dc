import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it } from 'vitest'
import { anchorHash, parseConfigurationAnchor, parseSharedParameters } from '../../src-main/global-conf'
import { SecurityServerError } from '../../src-main/platform'
import { describeFixtures } from '../support/describe-fixtures'
import { readFixture } from '../support/fixtures'

function errorOf(fn: () => unknown): SecurityServerError {
  try {
    fn()
  } catch (error) {
    if (error instanceof SecurityServerError) return error
    throw error
  }
  throw new SecurityServerError('internal_error', 'expected an error')
}

describeFixtures('configuration anchors (fixtures)', () => {
  it('parses the DEV internal anchor with both sources and shows its SHA-256', () => {
    const bytes = readFixture('globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml')
    const anchor = parseConfigurationAnchor(bytes)
    expect(anchor.instanceIdentifier).toBe('DEV')
    expect(anchor.generatedAt?.toISOString()).toBe('2025-11-05T22:10:45.770Z')
    expect(anchor.sources.map((s) => s.downloadUrl)).toEqual(['http://cs/internalconf', 'https://cs/internalconf'])
    expect(anchor.sources[0]?.verificationCerts).toHaveLength(1)
    const hex = createHash('sha256').update(bytes).digest('hex').toUpperCase()
    expect(anchor.hash.replace(/:/g, '')).toBe(hex)
    expect(anchor.hash).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  })

  it('parses anchors with several verification certificates and the external anchor', () => {
    expect(parseConfigurationAnchor(readFixture('globalconf', 'parsed-dirs', 'configuration-anchor2.xml')).sources[0]?.verificationCerts).toHaveLength(2)
    const external = parseConfigurationAnchor(readFixture('globalconf', 'cs-trusted-anchors', 'test-data', 'external-configuration-anchor.xml'))
    expect(external.sources[0]?.downloadUrl).toBe('http://cs/externalconf')
  })

  it('rejects the invalid trusted anchors with malformed_anchor', () => {
    const dir = ['globalconf', 'cs-trusted-anchors', 'files', 'trusted-anchor']
    const missingInstance = errorOf(() => parseConfigurationAnchor(readFixture(...dir, 'trusted-anchor-invalid-1.xml')))
    expect(missingInstance.code).toBe('malformed_anchor')
    expect(missingInstance.message).toMatch(/instanceIdentifier/)
    expect(errorOf(() => parseConfigurationAnchor(readFixture(...dir, 'trusted-anchor-invalid-2.xml'))).code).toBe('malformed_anchor')
  })
})

const CERT = 'MIIBszCCAVmgAwIBAgIUAA=='

it('rejects anchors without sources, with a non-HTTP URL or a non-anchor root', () => {
  const anchor = (inner: string, root = 'configurationAnchor'): string =>
    `<x:${root} xmlns:x="http://x-road.eu/xsd/xroad.xsd"><instanceIdentifier>LAB</instanceIdentifier>${inner}</x:${root}>`
  expect(errorOf(() => parseConfigurationAnchor(anchor(''))).message).toMatch(/no source/)
  expect(errorOf(() => parseConfigurationAnchor(anchor(`<source><downloadURL>file:///etc/passwd</downloadURL><verificationCert>${CERT}</verificationCert></source>`))).message).toMatch(/http or https/)
  expect(errorOf(() => parseConfigurationAnchor(anchor('<source><downloadURL>http://cs/internalconf</downloadURL></source>'))).message).toMatch(/no verificationCert/)
  expect(errorOf(() => parseConfigurationAnchor(anchor('', 'conf'))).code).toBe('malformed_anchor')
  expect(parseConfigurationAnchor(anchor(`<source><downloadURL>http://cs/internalconf</downloadURL><verificationCert>${CERT}</verificationCert></source>`)).sources).toHaveLength(1)
  expect(anchorHash('abc')).toBe(createHash('sha256').update('abc').digest('hex').toUpperCase().match(/../g)?.join(':'))
})

it('rejects billion-laughs and XXE anchors and parameters with a clear error and no network access', async () => {
  let requests = 0
  const server = createServer((_req, res) => {
    requests++
    res.end('<x/>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  try {
    const xxe = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "http://127.0.0.1:${port}/evil">]>`
      + '<x:configurationAnchor xmlns:x="http://x-road.eu/xsd/xroad.xsd"><instanceIdentifier>&e;</instanceIdentifier></x:configurationAnchor>'
    const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
      + '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
      + '<x:configurationAnchor xmlns:x="http://x-road.eu/xsd/xroad.xsd"><instanceIdentifier>&lol3;</instanceIdentifier></x:configurationAnchor>'
    for (const doc of [xxe, laughs]) {
      const error = errorOf(() => parseConfigurationAnchor(doc))
      expect(error.code).toBe('malformed_anchor')
      expect(error.message).toMatch(/DTD/)
    }
    const sharedXxe = xxe.replace(/configurationAnchor/g, 'conf')
    expect(errorOf(() => parseSharedParameters(sharedXxe)).code).toBe('malformed_global_conf')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(requests).toBe(0)
  } finally {
    server.close()
  }
})
