import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The sample REST service the demo and the benchmark put behind the provider: `GET /pets/{id}` answers a small
 * JSON document, `POST /echo` returns the body it got, `POST /stream` streams the body back as it arrives (for large
 * bodies: nothing is held here), anything else 404. Counts the requests it served so the demo can show that denied
 * requests never reached it.
 */
export interface SampleService {
  url: string
  served(): number
  close(): Promise<void>
}

export async function startSampleService(port = 0): Promise<SampleService> {
  let served = 0
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
      served++
      const url = new URL(req.url ?? '/', 'http://sample')
      const pet = /^\/pets\/(\d+)$/.exec(url.pathname)
      if (req.method === 'GET' && pet) {
        const body = JSON.stringify({ id: Number(pet[1]), name: `Pet ${pet[1]}`, species: 'cat', vaccinated: true })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      } else if (req.method === 'POST' && url.pathname === '/echo') {
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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served: () => served,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
