import { Agent, request } from 'node:http'

/**
 * A closed-loop HTTP load generator: `concurrency` workers each send the next request as soon as the previous one
 * answered, over keep-alive connections, until `durationMs` has passed. Bounded in time and stops by itself.
 */
export interface LoadResult {
  concurrency: number
  requests: number
  errors: number
  seconds: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
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
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

function once(agent: Agent, options: LoadOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(options.url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency })
  const ok = options.ok ?? ((s) => s >= 200 && s < 300)
  const warmupEnd = Date.now() + (options.warmupMs ?? 500)
  while (Date.now() < warmupEnd) await once(agent, options).catch(() => 0)
  const latencies: number[] = []
  let errors = 0
  const start = process.hrtime.bigint()
  const deadline = Date.now() + options.durationMs
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const t0 = process.hrtime.bigint()
      const status = await once(agent, options).catch(() => 0)
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
      if (!ok(status)) errors++
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    concurrency: options.concurrency,
    requests: latencies.length,
    errors,
    seconds: Number(seconds.toFixed(3)),
    requestsPerSecond: Number((latencies.length / seconds).toFixed(1)),
    p50Ms: Number(percentile(latencies, 50).toFixed(3)),
    p99Ms: Number(percentile(latencies, 99).toFixed(3)),
  }
}
