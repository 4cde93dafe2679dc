import { Agent, request } from 'node:http'

/**
 * Load for the fault harness: `concurrency` information-system workers each POST a small body with a unique marker to
 * the echo service through the consumer's client proxy, one request after the other, until stopped. Every answer is
 * kept with its time, status, X-Road error code and query id (`X-Road-Id`), so a class can ask which messages were
 * acknowledged (2xx) and what the refusals said during each phase of a fault.
 */
export interface Outcome {
  /** When the answer (or the failure) came, ms since the epoch. */
  atMs: number
  sentAtMs: number
  status: number
  /** `X-Road-Error` header or the JSON body's `type`; `network:<message>` when no HTTP answer came. */
  code: string
  queryId: string | null
  marker: string
}

export interface RunningLoad {
  outcomes: Outcome[]
  /** When each request still waiting for its answer was sent (ms since the epoch). */
  inFlight(): number[]
  /** Stops sending and resolves once every request in flight was answered or timed out. */
  stop(): Promise<Outcome[]>
}

export interface LoadTarget {
  url: string
  headers: Record<string, string>
  concurrency: number
  /** Prefix of the markers, unique per class. */
  prefix: string
  /** Per-request deadline. */
  timeoutMs?: number
  bodyBytes?: number
}

export function isAcknowledged(o: Outcome): boolean {
  return o.status >= 200 && o.status < 300 && o.queryId !== null
}

let sequence = 0

function once(agent: Agent, target: LoadTarget, marker: string): Promise<Outcome> {
  const sentAtMs = Date.now()
  const body = Buffer.from(`${marker}|`.padEnd(target.bodyBytes ?? 600, 'x'))
  return new Promise((resolve) => {
    const done = (status: number, code: string, queryId: string | null): void => resolve({ atMs: Date.now(), sentAtMs, status, code, queryId, marker })
    const req = request(target.url, { method: 'POST', headers: { ...target.headers, 'content-length': body.length }, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const status = res.statusCode ?? 0
        const header = res.headers['x-road-error']
        let code = typeof header === 'string' ? header : ''
        if (code === '' && status >= 300) {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: unknown }
            if (typeof parsed.type === 'string') code = parsed.type
          } catch {
            code = `http-${status}`
          }
        }
        const id = res.headers['x-road-id']
        done(status, code, typeof id === 'string' ? id : null)
      })
      res.on('error', (e) => done(0, `network:${e.message}`, null))
    })
    req.setTimeout(target.timeoutMs ?? 20_000, () => req.destroy(new Error('no answer in time')))
    req.on('error', (e) => done(0, `network:${e.message}`, null))
    req.end(body)
  })
}

export function startLoad(target: LoadTarget): RunningLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: target.concurrency })
  const outcomes: Outcome[] = []
  const sending = new Map<number, number>()
  let running = true
  const worker = async (w: number): Promise<void> => {
    while (running) {
      sending.set(w, Date.now())
      const outcome = await once(agent, target, `${target.prefix}-${w}-${++sequence}`)
      sending.delete(w)
      outcomes.push(outcome)
      // A refused or failed request is retried after a short pause, as an information system would, not in a hot loop.
      if (!isAcknowledged(outcome)) await new Promise((r) => setTimeout(r, 50))
    }
  }
  const workers = Array.from({ length: target.concurrency }, (_, w) => worker(w))
  return {
    outcomes,
    inFlight: () => [...sending.values()],
    async stop() {
      running = false
      await Promise.all(workers)
      agent.destroy()
      return outcomes
    },
  }
}

/** One request (the same as the load's), e.g. to see whether traffic flows. */
export function probe(target: LoadTarget): Promise<Outcome> {
  const agent = new Agent({ keepAlive: false })
  return once(agent, { ...target, timeoutMs: target.timeoutMs ?? 15_000 }, `${target.prefix}-probe-${++sequence}`).finally(() => agent.destroy())
}
