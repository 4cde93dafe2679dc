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

/**
 * Repeats `call` until it answers 200 (the first exchange also waits for the servers' OCSP responses of their own
 * certificates) and returns how many attempts it took; throws after `timeoutMs`, or at once when nothing listens.
 */
export async function firstExchange(call: () => Promise<RestReply>, timeoutMs = 20_000): Promise<number> {
  const end = Date.now() + timeoutMs
  let probe: RestReply | undefined
  let probeError = ''
  let probes = 0
  while (Date.now() < end) {
    probes++
    probe = await call().catch((e: NodeJS.ErrnoException) => {
      // The server said it was ready, so a refused connection means there is no client proxy listening at all.
      if (e.code === 'ECONNREFUSED') throw new Error(`The consumer's client proxy is not listening: ${e.message}`)
      probeError = e.message
      return undefined
    })
    if (probe?.status === 200) return probes
    if (probe !== undefined) probeError = `${probe.status} ${xroadError(probe)?.code ?? ''} ${probe.body.slice(0, 200)}`
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`The pair never answered a first request within ${timeoutMs / 1000} s: ${probeError}`)
}
