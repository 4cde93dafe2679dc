import { Agent, request } from 'node:http'

/** One REST call through a client proxy (an information system's view): status, headers and the body as text. */
export interface RestReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  ms: number
}

export function restCall(url: string, headers: Record<string, string>, agent: Agent, timeoutMs = 15_000): Promise<RestReply> {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: Number(process.hrtime.bigint() - t0) / 1e6,
        }),
      )
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** X-Road's REST error (PR-REST §4.4): the `X-Road-Error` header and the JSON body's `type`/`message`. */
export function xroadError(reply: RestReply): { code: string; message: string } | undefined {
  const header = reply.headers['x-road-error']
  let type: string | undefined
  let message = ''
  try {
    const parsed = JSON.parse(reply.body) as { type?: unknown; message?: unknown }
    if (typeof parsed.type === 'string') type = parsed.type
    if (typeof parsed.message === 'string') message = parsed.message
  } catch {
    // not an X-Road error body
  }
  const code = (typeof header === 'string' ? header : undefined) ?? type
  return code === undefined ? undefined : { code, message }
}
