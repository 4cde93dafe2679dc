import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { answerSoap, OPENAPI_PATH, sampleOpenApi, sampleWsdl, SOAP_PATH } from './sample-service-soap'

/**
 * The sample service the demo and the benchmark put behind the provider: `GET /pets/{id}` answers a small
 * JSON document, `POST /echo` returns the body it got, `POST /stream` streams the body back as it arrives (for large
 * bodies: nothing is held here); the SOAP operation `echo` at `POST /soap` with its WSDL at `GET /soap?wsdl`, and the
 * OpenAPI description of `/pets/{id}` at `GET /openapi.yaml` (see sample-service-soap.ts); anything else 404. Counts the
 * REST and the SOAP requests it served so the demo can show that denied requests never reached it.
 */
export interface SampleService {
  url: string
  /** REST requests served (`/pets`, `/echo`, `/stream` and 404s; not the SOAP operation or the descriptions). */
  served(): number
  /** SOAP requests to `POST /soap` served. */
  soapServed(): number
  close(): Promise<void>
}

export async function startSampleService(port = 0): Promise<SampleService> {
  let served = 0
  let soapServed = 0
  let url = ''
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/stream') {
      const length = req.headers['content-length']
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', ...(length === undefined ? {} : { 'content-length': length }) })
      req.pipe(res)
      req.once('end', () => served++)
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const target = new URL(req.url ?? '/', 'http://sample')
      if (target.pathname === SOAP_PATH && req.method === 'GET' && target.search.toLowerCase() === '?wsdl') {
        const wsdl = sampleWsdl(url)
        res.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-length': Buffer.byteLength(wsdl) })
        res.end(wsdl)
        return
      }
      if (target.pathname === OPENAPI_PATH && req.method === 'GET') {
        const yaml = sampleOpenApi(url)
        res.writeHead(200, { 'content-type': 'application/x-yaml', 'content-length': Buffer.byteLength(yaml) })
        res.end(yaml)
        return
      }
      if (target.pathname === SOAP_PATH && req.method === 'POST') {
        soapServed++
        const answer = answerSoap(req.headers['content-type'] ?? '', Buffer.concat(chunks))
        res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': answer.body.length })
        res.end(answer.body)
        return
      }
      served++
      const pet = /^\/pets\/(\d+)$/.exec(target.pathname)
      if (req.method === 'GET' && pet) {
        const body = JSON.stringify({ id: Number(pet[1]), name: `Pet ${pet[1]}`, species: 'cat', vaccinated: true })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      } else if (req.method === 'POST' && target.pathname === '/echo') {
        const body = Buffer.concat(chunks)
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'content-length': body.length })
        res.end(body)
      } else {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end('{"error":"not found"}')
      }
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    served: () => served,
    soapServed: () => soapServed,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
