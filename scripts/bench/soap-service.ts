import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SOAP_OPERATION } from './bench-support'

/**
 * The benchmark's SOAP service, its own process behind the provider (and behind the floor's hops): any POST with a
 * SOAP 4.0 request — text/xml, or multipart/related with the envelope as its first part and attachments after it —
 * is answered with a text/xml response whose header is the request's own (as X-Road requires of a service) and whose
 * body echoes the request's `<value>`. Attachments are read and dropped. Prints {"url":…}; stops on SIGTERM.
 */
const ENVELOPE_START = /<SOAP-ENV:Envelope\b[^>]*>/
const HEADER = /<SOAP-ENV:Header>[\s\S]*?<\/SOAP-ENV:Header>/
const VALUE = /<value>([^<]*)<\/value>/

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  let held = 0
  req.on('data', (c: Buffer) => {
    // The envelope comes first and is small: keep its first 64 KB, let the attachment bytes go.
    if (held < 65_536) {
      chunks.push(c)
      held += c.length
    }
  })
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('latin1')
    const start = ENVELOPE_START.exec(text)?.[0]
    const header = HEADER.exec(text)?.[0]
    if (req.method !== 'POST' || start === undefined || header === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('not a SOAP 4.0 request')
      return
    }
    const value = VALUE.exec(text)?.[1] ?? ''
    const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${start}${header}<SOAP-ENV:Body><b:${SOAP_OPERATION}Response xmlns:b="urn:gatehouse-bench">` +
      `<echo>${value}</echo></b:${SOAP_OPERATION}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>\n`, 'latin1')
    res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-length': body.length }).end(body)
  })
})
server.keepAliveTimeout = 30_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/soap` })}\n`))
process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})
