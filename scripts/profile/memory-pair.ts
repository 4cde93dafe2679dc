import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent } from 'node:http'
import { formatIdPath } from '@shared/domain/identifiers'
import { buildLabPair } from '../lib/lab-pair'
import { haveBuild, startLabPair } from '../lib/lab-pair-servers'
import { runLoad, type LoadResult } from '../lib/load-generator'
import { GATEHOUSE_NODE_FLAGS, startTsProcess, type Started } from '../lib/processes'
import { restCall } from '../demo/rest-call'
import { mixedRequestAt } from '../bench/bench-support'

/**
 * `npx tsx scripts/profile/memory-pair.ts [--duration MS] [--flags="--max-semi-space-size=8 …"]`: where a lab pair's
 * memory goes (issue 15, ≤ 200 MB RSS per server). Each server samples its own memory every 100 ms (a preload:
 * RSS, V8 heap by space, external and ArrayBuffer memory) while the pair takes, one after the other, REST at c=16,
 * X-Road's mixed-size workload at c=16 (its first 300 requests) and REST at c=256; printed per phase: each server's peak RSS and the heap
 * breakdown at that peak, the requests, errors and CPU per exchange. `--flags` replaces the Node flags of
 * bin/gatehouse.js's first line for this run (to measure V8 heap settings against each other). A diagnostic, not a
 * bench.
 */
const CLK_TCK = 100
const MIXED_REQUESTS = 300

function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

interface Sample { t: number; rss: number; heapTotal: number; heapUsed: number; external: number; ab: number; spaces: Record<string, number>; anon: number; file: number; shmem: number }

const PRELOAD = `const dir = process.env.GATEHOUSE_MEMORY_SAMPLES
if (dir && require('node:worker_threads').isMainThread) {
  const { appendFileSync, readFileSync } = require('node:fs')
  const v8 = require('node:v8')
  const file = dir + '/' + process.pid + '.jsonl'
  setInterval(() => {
    const m = process.memoryUsage()
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), Math.round(s.space_size / 1048576)]))
    const status = readFileSync('/proc/self/status', 'utf8')
    const kb = (name) => Number((new RegExp(name + ':\\\\s+(\\\\d+)').exec(status) || [])[1] || 0) >> 10
    appendFileSync(file, JSON.stringify({ t: Date.now(), rss: m.rss >> 20, heapTotal: m.heapTotal >> 20, heapUsed: m.heapUsed >> 20, external: m.external >> 20, ab: m.arrayBuffers >> 20, spaces, anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') }) + '\\n')
  }, 100).unref()
}
`

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '6000' }, flags: { type: 'string' } } })
  const durationMs = Number(values.duration)
  const print = (line: string): void => void process.stdout.write(`${line}\n`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-memory-'))
  const samples = join(dir, 'samples')
  const preload = join(dir, 'preload.cjs')
  writeFileSync(preload, PRELOAD)
  rmSync(samples, { recursive: true, force: true })
  const { mkdirSync } = await import('node:fs')
  mkdirSync(samples)
  if (values.flags !== undefined) GATEHOUSE_NODE_FLAGS.splice(0, GATEHOUSE_NODE_FLAGS.length, ...values.flags.split(/\s+/).filter((f) => f !== ''))
  GATEHOUSE_NODE_FLAGS.push('--require', preload)
  print(`node flags: ${GATEHOUSE_NODE_FLAGS.filter((f) => f !== preload && f !== '--require').join(' ') || '(none)'}`)
  process.env.GATEHOUSE_MEMORY_SAMPLES = samples
  const processes: Array<Started<unknown>> = []
  try {
    const service = await startTsProcess<{ url: string }>(resolve(__dirname, '../lib/sample-service-main.ts'), ['0'], { env: { GATEHOUSE_MEMORY_SAMPLES: '' } })
    processes.push(service)
    const built = await buildLabPair({ serviceUrl: service.ready.url, dir: join(dir, 'pair'), logLevel: 'warn' })
    const pair = await startLabPair(built, { useBuild: haveBuild(), runner: 'autologin', timeoutMs: 120_000 })
    try {
      const base = `${pair.consumer.clientProxyUrl}/r1/${formatIdPath(built.provider.subsystem)}/pets`
      const headers = { 'X-Road-Client': formatIdPath(built.consumer.subsystem) }
      for (let i = 0; ; i++) {
        const probe = await restCall(`${base}/pets/1`, headers, new Agent({ keepAlive: false })).catch((e: Error) => e)
        if (!(probe instanceof Error) && probe.status === 200) break
        if (i > 120) throw new Error(`no answer: ${probe instanceof Error ? probe.message : probe.body.slice(0, 300)}`)
        await new Promise((r) => setTimeout(r, 250))
      }
      const pids = [pair.consumer.process.child.pid as number, pair.provider.process.child.pid as number]
      const phases: Array<[string, () => Promise<LoadResult>]> = [
        ['idle 1 s', async () => (await new Promise((r) => setTimeout(r, 1000)), runLoad({ url: `${base}/pets/1`, headers, concurrency: 1, durationMs: 200, warmupMs: 0 }))],
        ['REST c=16', () => runLoad({ url: `${base}/pets/1`, headers, concurrency: 16, durationMs, warmupMs: 300 })],
        // The first 300 requests of the mix hold three 2 MB bodies and one 10 MB body (the 247th), however slow the machine.
        ['mixed c=16', () => runLoad({ url: `${base}/stream`, method: 'POST', headers: { ...headers, 'Content-Type': 'application/octet-stream' }, requestAt: mixedRequestAt(), concurrency: 16, durationMs: 120_000, maxRequests: MIXED_REQUESTS, warmupMs: 0 })],
        ['REST c=256', () => runLoad({ url: `${base}/pets/1`, headers, concurrency: 256, durationMs, warmupMs: 300 })],
      ]
      for (const [name, run] of phases) {
        const from = Date.now()
        const before = pids.map(cpuMs)
        const r = await run()
        const used = pids.map((p, i) => cpuMs(p) - (before[i] ?? 0))
        const to = Date.now()
        const errors = r.errors === 0 ? '' : ` (${Object.entries(r.errorStatuses).map(([s, n]) => `${n} × ${s}`).join(', ')}; first: ${r.firstError?.replace(/\s+/g, ' ').slice(0, 200)})`
        print(`${name}: ${r.requests} requests, ${r.errors} errors${errors}, ${r.requestsPerSecond.toFixed(0)} req/s, CPU ${((used[0]! + used[1]!) / Math.max(1, r.requests)).toFixed(3)} ms/exchange`)
        for (const [i, pid] of pids.entries()) {
          const window = readFileSync(join(samples, `${pid}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Sample).filter((s) => s.t >= from && s.t <= to)
          const peak = window.reduce((a, b) => (b.rss > a.rss ? b : a), window[0] as Sample)
          const spaces = Object.entries(peak.spaces).filter(([, mb]) => mb > 0).map(([s, mb]) => `${s} ${mb}`).join(', ')
          print(`  ${i === 0 ? 'consumer' : 'provider'} peak RSS ${peak.rss} MB: heap ${peak.heapTotal} MB (${peak.heapUsed} used; ${spaces}), external ${peak.external} MB (ArrayBuffers ${peak.ab}), native ${peak.rss - peak.heapTotal - peak.external} MB; anonymous ${peak.anon}, file ${peak.file}, shared ${peak.shmem} MB`)
        }
      }
      print(`VmHWM: consumer ${pair.consumer.process.peakRssMb()} MB, provider ${pair.provider.process.peakRssMb()} MB`)
    } finally {
      await pair.stop()
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop().catch(() => null)))
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`memory-pair: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
