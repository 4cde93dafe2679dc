import { Agent, request } from 'node:http'

/**
 * A closed-loop HTTP load generator: `concurrency` workers each send the next request as soon as the previous one
 * answered, over keep-alive connections, until `durationMs` has passed (or `maxRequests` were sent). Bounded in time
 * and stops by itself.
 */
export interface LoadResult {
  concurrency: number
  requests: number
  errors: number
  /** The errors by HTTP status (0: no answer). */
  errorStatuses: Record<string, number>
  /** The first error's answer (its first 300 characters) or why there was none. */
  firstError?: string
  seconds: number
  requestsPerSecond: number
  /** Request and response body bytes of the measured requests. */
  bytes: number
  p50Ms: number
  p99Ms: number
  /** Every measured request's latency, ascending (to merge windows: `mergeLoadResults`). */
  latenciesMs: number[]
}

export interface LoadOptions {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: Buffer
  concurrency: number
  durationMs: number
  warmupMs?: number
  /** A response counts as an error unless this accepts its status. */
  ok?: (status: number) => boolean
  /** The body and extra headers of the n-th request, instead of `body` (the warm-up and the measured requests each count from 0). */
  requestAt?: (index: number) => { body: Buffer; headers?: Record<string, string> }
  /** Measured requests sent at most. */
  maxRequests?: number
  /** Called as the measured window opens (after the warm-up) and as it closes (every answer in). */
  onWindowStart?: () => void
  onWindowEnd?: () => void
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

function once(agent: Agent, options: LoadOptions, index: number): Promise<{ status: number; bytes: number; head?: string }> {
  const at = options.requestAt?.(index)
  const body = at?.body ?? options.body
  const headers = at?.headers === undefined ? options.headers : { ...options.headers, ...at.headers }
  return new Promise((resolve, reject) => {
    const req = request(options.url, { method: options.method ?? 'GET', headers, agent }, (res) => {
      let bytes = body?.length ?? 0
      const failed = (res.statusCode ?? 0) >= 300
      let head = ''
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (failed && head.length < 300) head += chunk.toString('utf8', 0, 300)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ...(failed ? { head: head.slice(0, 300) } : {}) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const ok = options.ok ?? ((s) => s >= 200 && s < 300)
  const warmupEnd = Date.now() + (options.warmupMs ?? 500)
  for (let w = 0; Date.now() < warmupEnd; w++) await once(agent, options, w).catch(() => 0)
  const latencies: number[] = []
  let errors = 0
  const errorStatuses: Record<string, number> = {}
  let firstError: string | undefined
  let bytes = 0
  let sent = 0
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY
  options.onWindowStart?.()
  const start = process.hrtime.bigint()
  const deadline = Date.now() + options.durationMs
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline && sent < maxRequests) {
      const t0 = process.hrtime.bigint()
      const answer = await once(agent, options, sent++).catch((error: Error) => ({ status: 0, bytes: 0, head: error.message }))
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
      bytes += answer.bytes
      if (!ok(answer.status)) {
        errors++
        errorStatuses[answer.status] = (errorStatuses[answer.status] ?? 0) + 1
        firstError ??= answer.head
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  options.onWindowEnd?.()
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    concurrency: options.concurrency,
    requests: latencies.length,
    errors,
    errorStatuses,
    ...(firstError === undefined ? {} : { firstError }),
    seconds: Number(seconds.toFixed(3)),
    requestsPerSecond: Number((latencies.length / seconds).toFixed(1)),
    bytes,
    p50Ms: Number(percentile(latencies, 50).toFixed(3)),
    p99Ms: Number(percentile(latencies, 99).toFixed(3)),
    latenciesMs: latencies,
  }
}

/** Several windows of one load as one result: requests and seconds added up, percentiles over every latency. */
export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  const first = results[0]
  if (first === undefined) throw new Error('no load results to merge')
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b)
  const seconds = results.reduce((sum, r) => sum + r.seconds, 0)
  const errorStatuses: Record<string, number> = {}
  for (const r of results) for (const [status, n] of Object.entries(r.errorStatuses)) errorStatuses[status] = (errorStatuses[status] ?? 0) + n
  const firstError = results.find((r) => r.firstError !== undefined)?.firstError
  return {
    concurrency: first.concurrency,
    requests: latencies.length,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    errorStatuses,
    ...(firstError === undefined ? {} : { firstError }),
    seconds: Number(seconds.toFixed(3)),
    requestsPerSecond: Number((latencies.length / seconds).toFixed(1)),
    bytes: results.reduce((sum, r) => sum + r.bytes, 0),
    p50Ms: Number(percentile(latencies, 50).toFixed(3)),
    p99Ms: Number(percentile(latencies, 99).toFixed(3)),
    latenciesMs: latencies,
  }
}
