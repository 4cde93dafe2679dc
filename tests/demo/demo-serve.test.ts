import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import type { ServedPair } from '../../scripts/demo/serve-pair'
import { startScript } from '../support/run-script'

/**
 * `npm run demo -- --serve --json` (issue 12 item 5): the demo's pair and services for others to use. The JSON line
 * comes once the pair is ready; a REST and a SOAP call made from what it says go through; SIGTERM stops everything and
 * the command exits 0, its temporary folder gone.
 */

function soapRequest(served: ServedPair, text: string): string {
  const [instance, memberClass, memberCode, subsystemCode] = served.consumer.split('/')
  const [sInstance, sClass, sCode, sSubsystem, serviceCode] = served.soapService.split('/')
  const part = (name: string, value: string | undefined): string => `<id:${name}>${value ?? ''}</id:${name}>`
  return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
  <SOAP-ENV:Header>
    <xroad:client id:objectType="SUBSYSTEM">${part('xRoadInstance', instance)}${part('memberClass', memberClass)}${part('memberCode', memberCode)}${part('subsystemCode', subsystemCode)}</xroad:client>
    <xroad:service id:objectType="SERVICE">${part('xRoadInstance', sInstance)}${part('memberClass', sClass)}${part('memberCode', sCode)}${part('subsystemCode', sSubsystem)}${part('serviceCode', serviceCode)}${part('serviceVersion', served.soapServiceVersion)}</xroad:service>
    <xroad:id>serve-test-1</xroad:id>
    <xroad:protocolVersion>4.0</xroad:protocolVersion>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body><s:${served.soapOperation} xmlns:s="${served.soapNamespace}"><s:text>${text}</s:text></s:${served.soapOperation}></SOAP-ENV:Body>
</SOAP-ENV:Envelope>
`
}

describe('npm run demo -- --serve --json', () => {
  it('prints where the pair is once it is ready, serves REST and SOAP, and stops cleanly on SIGTERM', async () => {
    const child = startScript('demo.ts', ['--serve', '--json'])
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)))
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
    const lines: string[] = []
    const firstLine = new Promise<string>((resolveLine, reject) => {
      const reader = createInterface({ input: child.stdout })
      reader.on('line', (line) => {
        lines.push(line)
        resolveLine(line)
      })
      void exited.then((code) => reject(new Error(`demo --serve exited ${String(code)} before its line: ${stderr}`)))
    })
    // Bounded: the pair must be up within 90 s, or the child is stopped and the test fails.
    const overrun = setTimeout(() => child.kill('SIGKILL'), 100_000)
    try {
      const served = JSON.parse(await firstLine) as ServedPair
      expect(Object.keys(served)).toEqual([
        'clientProxy', 'consumer', 'intruder', 'restService', 'soapService', 'soapServiceVersion', 'provider', 'soapOperation', 'soapNamespace', 'dataDirs',
      ])
      expect(served.clientProxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      for (const client of [served.consumer, served.intruder, served.provider]) expect(client).toMatch(/^[^/]+\/[^/]+\/[^/]+\/[^/]+$/)
      expect(served.restService).toBe(`${served.provider}/pets`)
      expect(served.soapService).toBe(`${served.provider}/${served.soapOperation}`)
      expect(served.soapServiceVersion).toBe('v1')
      expect(existsSync(served.dataDirs.consumer) && existsSync(served.dataDirs.provider)).toBe(true)

      const rest = await fetch(`${served.clientProxy}/r1/${served.restService}/pets/3`, { headers: { 'X-Road-Client': served.consumer } })
      expect(await rest.json()).toMatchObject({ id: 3, species: 'cat' })
      const denied = await fetch(`${served.clientProxy}/r1/${served.restService}/pets/3`, { headers: { 'X-Road-Client': served.intruder } })
      expect(denied.headers.get('x-road-error')).toMatch(/access_?denied$/i)
      const soap = await fetch(`${served.clientProxy}/`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=UTF-8' }, body: soapRequest(served, 'hello from a neighbour') })
      const answer = await soap.text()
      expect(answer).toContain('hello from a neighbour</s:echo>')
      expect(answer).toContain('xroad:requestHash')

      child.kill('SIGTERM')
      expect(await exited, stderr).toBe(0)
      expect(lines).toHaveLength(1)
      expect(existsSync(served.dataDirs.consumer)).toBe(false)
    } finally {
      clearTimeout(overrun)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }, 120_000)
})
