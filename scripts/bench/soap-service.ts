import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { soapServiceAnswer } from './bench-support'

/**
 * The benchmark's SOAP service, its own process behind the provider (and behind the floor's hops): any POST with a
 * SOAP 4.0 request — text/xml, or multipart/related with the envelope as its first part and attachments after it —
 * is answered with a text/xml response whose header is the request's own (as X-Road requires of a service) and whose
 * body echoes the request's `<value>`. Attachments are read and dropped. Prints {"url":…}; stops on SIGTERM.
 */
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
    const body = req.method === 'POST' ? soapServiceAnswer(Buffer.concat(chunks)) : undefined
    if (body === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('not a SOAP 4.0 request')
      return
    }
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
