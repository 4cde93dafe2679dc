import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { formatIdPath } from '@shared/domain/identifiers'
import { buildLabPair } from '../lib/lab-pair'
import { haveBuild, startLabPair } from '../lib/lab-pair-servers'
import { runLoad } from '../lib/load-generator'
import { GATEHOUSE_NODE_ENV, GATEHOUSE_NODE_FLAGS, startNodeProcess, startTsProcess, type Started } from '../lib/processes'
import { Agent } from 'node:http'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { findOperationalRecords } from '../../src-main/op-monitoring/operational-data-repository'
import { restCall } from '../demo/rest-call'
import { makeHopCertificates } from '../lib/test-pki'
import { activityProfile, activityTable, gatehouseModuleResolver } from './perf-activities'

/**
 * `npx tsx scripts/profile/profile-pair.ts [--duration MS] [--concurrency N] [--cpu-prof DIR] [--floor] [--skeleton] [--syscalls] [--perf] [--phases] [--threads] [--alloc DIR [--alloc-kept | --alloc-promoted]] [--flags="…"] [--warmup MS] [--warmup-concurrency N] [--server-stdout DIR]`: CPU per
 * exchange of a lab pair under closed-loop load (both servers' utime+stime from /proc over the measured window,
 * divided by the exchanges), optionally the same for the floor's two bare hops, and with --cpu-prof a V8 CPU profile
 * of each server (written when it stops) summarised by source area. Each server's CPU is also split by thread (main,
 * the message-log writer, libuv's pool) and into user and system time. --alloc samples what each main thread allocates
 * over the window (everything, collected or not) and lists the functions allocating most, per exchange; with --alloc-kept
 * only what is still on the heap when the window ends (live, or dead in the old generation and not yet collected: what
 * an old generation that fills up between major collections is made of); with --alloc-promoted what did not die young
 * (promoted to the old generation, or still alive, at the window's end: what the young-generation collections let
 * through, and what makes major collections necessary). With --skeleton the pair's servers are replaced,
 * after their first answer, by the bench's security-off skeleton (skeleton-server.ts) over the same data directories.
 * --warmup (default 2000 ms, at the measured concurrency unless --warmup-concurrency) runs the pair before the idle
 * reading and the window: V8 keeps optimising the servers' code for 10–30 s of load, so a short warm-up measures
 * part of that compilation. --server-stdout writes what each server prints once it is up (its standard output, which
 * is otherwise dropped) to DIR/consumer.stdout and DIR/provider.stdout: with `--flags="… --trace-deopt"`, V8's deoptimisations.
 * --perf records each server with Linux perf over the window (on-CPU samples, kernel time and every thread included)
 * and splits its CPU per exchange by thread and the main thread's by activity (perf-activities.ts): where the CPU
 * goes, without the V8 profiler's charging of preempted wall time to whatever the thread was running.
 * A diagnostic for issue 15, not a bench: the figures of record come from `npm run bench`.
 */
const CLK_TCK = 100
/** perf's sampling rate for --perf: one sample per millisecond of CPU on each thread. */
const PERF_HZ = 1000

function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

interface ThreadCpu { user: number; sys: number; sleeps: number }

/**
 * Each thread's user and system CPU (ms) and voluntary context switches (each a wait ended by a wake-up: the thread
 * blocked in epoll, a futex or a file sync), keyed `main` for the thread the process started on and by name for the
 * rest (Node names V8's platform workers and worker_threads alike `node`; with `byThreadId` each thread is listed apart).
 */
function threadCpu(pid: number | undefined, byThreadId = false): Map<string, ThreadCpu> {
  const threads = new Map<string, ThreadCpu>()
  if (pid === undefined) return threads
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string
    let status: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
    } catch {
      continue
    }
    const name = tid === String(pid) ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}${byThreadId ? `#${tid}` : ''}`
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const t = threads.get(name) ?? { user: 0, sys: 0, sleeps: 0 }
    t.user += (Number(fields[11]) * 1000) / CLK_TCK
    t.sys += (Number(fields[12]) * 1000) / CLK_TCK
    t.sleeps += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0)
    threads.set(name, t)
  }
  return threads
}

/**
 * Per exchange, by thread: what a server's threads spent between two `threadCpu` readings, and how often they slept and
 * were woken (a thread that ended is missing).
 */
function threadSummary(before: Map<string, ThreadCpu>, after: Map<string, ThreadCpu>, exchanges: number): string {
  const rows: string[] = []
  for (const [name, t] of after) {
    const b = before.get(name) ?? { user: 0, sys: 0, sleeps: 0 }
    const user = (t.user - b.user) / exchanges
    const sys = (t.sys - b.sys) / exchanges
    const sleeps = (t.sleeps - b.sleeps) / exchanges
    if (user + sys >= 0.005) rows.push(`${name} ${user.toFixed(3)} user + ${sys.toFixed(3)} sys, ${sleeps.toFixed(1)} wake-ups`)
  }
  return rows.join(', ')
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

/** Microseconds on the monotonic clock V8's profiles use. */
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

/** Self time by area (the folder under src-main, or node internals / GC / idle) and the top functions, from a .cpuprofile. */
function summarise(file: string, top: number, window: { fromUs: number; toUs: number }): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let t = profile.startTime
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    t += delta
    if (t >= window.fromUs && t <= window.toUs) self.set(id, (self.get(id) ?? 0) + delta)
  })
  const areas = new Map<string, number>()
  const fns = new Map<string, number>()
  let busy = 0
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (node === undefined) continue
    const { url, functionName, lineNumber } = node.callFrame
    if (functionName === '(idle)') continue
    busy += us
    const m = /src-main\/([^/]+)\/(?:([^/]+)\/)?/.exec(url)
    const area = m !== null ? `src-main/${m[1]}${m[1] === 'proxy' && m[2] !== undefined && !m[2].endsWith('.ts') ? `/${m[2]}` : ''}`
      : url.includes('node_modules/') ? `node_modules/${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'}`
        : url.startsWith('node:') ? `node:${url.slice(5).split('/')[0]}` : functionName.startsWith('(') ? functionName : '(native/other)'
    areas.set(area, (areas.get(area) ?? 0) + us)
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*src-main\//, '').replace(/^.*node_modules\//, 'nm/')}:${lineNumber + 1}`
    fns.set(key, (fns.get(key) ?? 0) + us)
  }
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)}%`
  const lines = [`  busy ${(busy / 1000).toFixed(0)} ms`]
  if (busy === 0) return '  no samples in the measured window'
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 25)) lines.push(`  ${pct(us)}  ${a}`)
  lines.push('  top functions (self):')
  for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${f}`)
  return lines.join('\n')
}

/**
 * --alloc: a preload for the servers' main threads. SIGUSR2 starts V8's sampling heap profiler with collected objects
 * kept (so the samples count everything allocated, not what survives); the next SIGUSR2 stops it and writes
 * `<dir>/alloc-<pid>.json`.
 */
const ALLOC_PRELOAD = `const dir = process.env.GATEHOUSE_ALLOC_DIR
const kept = process.env.GATEHOUSE_ALLOC_KEPT
if (dir && require('node:worker_threads').isMainThread) {
  const session = new (require('node:inspector').Session)()
  session.connect()
  let sampling = false
  process.on('SIGUSR2', () => {
    if (!sampling) {
      sampling = true
      session.post('HeapProfiler.enable')
      session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: kept !== 'live', includeObjectsCollectedByMinorGC: kept === undefined })
      return
    }
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) return
      const fs = require('node:fs')
      fs.writeFileSync(dir + '/alloc-' + process.pid + '.part', JSON.stringify(result.profile))
      fs.renameSync(dir + '/alloc-' + process.pid + '.part', dir + '/alloc-' + process.pid + '.json')
    })
  })
}
`

interface AllocationNode { callFrame: ProfileNode['callFrame']; selfSize: number; children: AllocationNode[] }

/** Bytes allocated per exchange by a server's main thread, and the functions that allocate them (self and with callees). */
const ALLOCATION_SCOPE = {
  all: 'allocated by the main thread',
  kept: 'allocated by the main thread in the window and still on its heap at the end',
  promoted: 'allocated by the main thread in the window and not collected young (promoted, or alive at the end)',
}

function allocationSummary(file: string, exchanges: number, top: number, scope: keyof typeof ALLOCATION_SCOPE): string {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: AllocationNode }).head
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  const walk = (node: AllocationNode, stack: string[]): void => {
    const { functionName, url, lineNumber } = node.callFrame
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\//, '')}:${lineNumber + 1}`
    total += node.selfSize
    self.set(key, (self.get(key) ?? 0) + node.selfSize)
    const path = stack.includes(key) ? stack : [...stack, key]
    for (const k of path) inclusive.set(k, (inclusive.get(k) ?? 0) + node.selfSize)
    for (const child of node.children) walk(child, path)
  }
  walk(head, [])
  const kib = (bytes: number): string => `${(bytes / exchanges / 1024).toFixed(1).padStart(6)} KiB`
  const rows = (map: Map<string, number>): string[] => [...map].filter(([k]) => !k.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, b]) => `  ${kib(b)}  ${k}`)
  return [`  ${kib(total).trim()} per exchange ${ALLOCATION_SCOPE[scope]}`, '  self:', ...rows(self), '  with callees:', ...rows(inclusive)].join('\n')
}

/**
 * --phases: where an exchange's time goes, from the operational monitoring records of the measured window (X-Road's
 * four timestamps per side, in milliseconds): the consumer's work before sending, its wait for the provider and its work
 * on the answer; the provider's work before calling the service, the service, and its work on the answer. Medians and
 * means, per side.
 */
function phaseSummary(side: 'consumer' | 'provider', dataDir: string, fromMs: number): string {
  const db = openDatabase(join(dataDir, 'opmonitor.sqlite'), { readonly: true })
  try {
    const complete = findOperationalRecords(db, Math.floor(fromMs / 1000), Number.MAX_SAFE_INTEGER, 1_000_000)
      .filter((r) => r.requestInTs >= fromMs && r.securityServerType === (side === 'consumer' ? 'Client' : 'Producer'))
      .flatMap((r) => (r.requestOutTs === undefined || r.responseInTs === undefined ? [] : [{ a: r.requestInTs, b: r.requestOutTs, c: r.responseInTs, d: r.responseOutTs }]))
    const stat = (values: number[]): string => {
      const sorted = [...values].sort((x, y) => x - y)
      const mean = values.reduce((x, y) => x + y, 0) / Math.max(1, values.length)
      return `median ${sorted[Math.floor(sorted.length / 2)] ?? 0}, mean ${mean.toFixed(2)}`
    }
    const [before, wait, after] = side === 'consumer' ? ['before sending', 'waiting for the provider', 'on the answer'] : ['before the service', 'service', 'on the answer']
    return `${side} phases over ${complete.length} exchanges (ms): ${before} ${stat(complete.map((r) => r.b - r.a))}; ${wait} ${stat(complete.map((r) => r.c - r.b))}; `
      + `${after} ${stat(complete.map((r) => r.d - r.c))}`
  } finally {
    closeDatabase(db)
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    duration: { type: 'string', default: '8000' }, concurrency: { type: 'string', default: '16' }, 'cpu-prof': { type: 'string' },
    floor: { type: 'boolean', default: false }, skeleton: { type: 'boolean', default: false }, top: { type: 'string', default: '40' }, syscalls: { type: 'boolean', default: false },
    phases: { type: 'boolean', default: false }, flags: { type: 'string' }, threads: { type: 'boolean', default: false }, alloc: { type: 'string' }, 'alloc-kept': { type: 'boolean', default: false }, 'alloc-promoted': { type: 'boolean', default: false },
    perf: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '2000' }, 'warmup-concurrency': { type: 'string' }, 'server-stdout': { type: 'string' },
  } })
  // --flags replaces the servers' Node flags (those of bin/gatehouse.js's first line), to compare V8 settings in one minute.
  if (values.flags !== undefined) GATEHOUSE_NODE_FLAGS.splice(0, GATEHOUSE_NODE_FLAGS.length, ...values.flags.split(/\s+/).filter((f) => f !== ''))
  const durationMs = Number(values.duration)
  const concurrency = Number(values.concurrency)
  const print = (line: string): void => void process.stdout.write(`${line}\n`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-profile-'))
  const processes: Array<Started<unknown>> = []
  try {
    const service = await startTsProcess<{ url: string }>(resolve(__dirname, '../lib/sample-service-main.ts'), ['0'])
    processes.push(service)
    if (values.floor) {
      const certs = makeHopCertificates(join(dir, 'hops'))
      const hop = resolve(__dirname, '../bench/forwarding-hop.ts')
      const exit = await startTsProcess<{ port: number }>(hop, ['exit', service.ready.url, certs])
      const entry = await startTsProcess<{ port: number }>(hop, ['entry', `https://127.0.0.1:${exit.ready.port}`, certs])
      processes.push(exit, entry)
      await runLoad({ url: `http://127.0.0.1:${entry.ready.port}/pets/1`, concurrency, durationMs: 1000, warmupMs: 500 })
      const before = cpuMs(entry.child.pid) + cpuMs(exit.child.pid)
      const hopThreads = [entry.child.pid, exit.child.pid].map((p) => threadCpu(p))
      const r = await runLoad({ url: `http://127.0.0.1:${entry.ready.port}/pets/1`, concurrency, durationMs, warmupMs: 0 })
      const used = cpuMs(entry.child.pid) + cpuMs(exit.child.pid) - before
      print(`floor c${concurrency}: ${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, CPU ${(used / r.requests).toFixed(3)} ms/exchange (both hops)`)
      for (const [i, pid] of [entry.child.pid, exit.child.pid].entries()) print(`floor ${i === 0 ? 'entry' : 'exit'} hop CPU by thread, ms per exchange: ${threadSummary(hopThreads[i]!, threadCpu(pid), r.requests)}`)
      await Promise.all([entry.stop(), exit.stop()])
    }
    const profDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof'])
    if (profDir !== undefined) {
      mkdirSync(profDir, { recursive: true })
      // The servers are started with bin/gatehouse.js's flags (--cpu-prof is not allowed in NODE_OPTIONS).
      GATEHOUSE_NODE_FLAGS.push('--cpu-prof', `--cpu-prof-dir=${profDir}`)
    }
    const allocDir = values.alloc === undefined ? undefined : resolve(values.alloc)
    if (allocDir !== undefined) {
      mkdirSync(allocDir, { recursive: true })
      writeFileSync(join(dir, 'alloc-preload.cjs'), ALLOC_PRELOAD)
      GATEHOUSE_NODE_FLAGS.push('--require', join(dir, 'alloc-preload.cjs'))
      process.env.GATEHOUSE_ALLOC_DIR = allocDir
      if (values['alloc-kept']) process.env.GATEHOUSE_ALLOC_KEPT = 'live'
      if (values['alloc-promoted']) process.env.GATEHOUSE_ALLOC_KEPT = 'old'
    }
    // --perf: JIT frames named in /tmp/perf-<pid>.map for `perf script`.
    if (values.perf) GATEHOUSE_NODE_FLAGS.push('--perf-basic-prof-only-functions')
    const window = { fromUs: 0, toUs: 0 }
    const built = await buildLabPair({ serviceUrl: service.ready.url, dir: join(dir, 'pair'), logLevel: 'warn' })
    const useBuild = haveBuild()
    const pair = await startLabPair(built, { useBuild, runner: 'autologin', timeoutMs: 120_000 })
    if (values['server-stdout'] !== undefined) {
      // What the servers print from their first answer on (e.g. V8's --trace-deopt with --flags), one file per server.
      const outDir = resolve(values['server-stdout'])
      mkdirSync(outDir, { recursive: true })
      pair.consumer.process.child.stdout?.pipe(createWriteStream(join(outDir, 'consumer.stdout')))
      pair.provider.process.child.stdout?.pipe(createWriteStream(join(outDir, 'provider.stdout')))
    }
    try {
      const url = `${pair.consumer.clientProxyUrl}/r1/${formatIdPath(built.provider.subsystem)}/pets/pets/1`
      const headers = { 'X-Road-Client': formatIdPath(built.consumer.subsystem) }
      for (let i = 0; ; i++) {
        const probe = await restCall(url, headers, new Agent({ keepAlive: false })).catch((e: Error) => e)
        if (!(probe instanceof Error) && probe.status === 200) break
        if (i > 120) throw new Error(`no answer: ${probe instanceof Error ? probe.message : probe.body.slice(0, 300)}`)
        await new Promise((r) => setTimeout(r, 250))
      }
      let pids = [pair.consumer.process.child.pid, pair.provider.process.child.pid]
      if (values.skeleton) {
        // The same pair with the security steps as pass-throughs (the bench's skeleton-server.ts) in place of its servers.
        await pair.stopServers()
        const skeletons = await Promise.all([built.consumer, built.provider].map(async (agency) => {
          const options = {
            env: { ...GATEHOUSE_NODE_ENV, GATEHOUSE_TOKEN_PIN: built.pin }, timeoutMs: 60_000,
            isReady: (v: unknown): v is unknown => typeof v === 'object' && v !== null && (v as { ready?: unknown }).ready === true,
          }
          // Compiled like the bench's (build-bench-servers.mjs) when the pair runs from the build: tsx's loader keeps
          // every function's name with a defineProperty call at each closure's creation, which the shipped server does not.
          const server = useBuild
            ? await startNodeProcess<unknown>([...GATEHOUSE_NODE_FLAGS, resolve(__dirname, '../../out/bench/skeleton-server.js'), agency.dataDir], options, 'skeleton')
            : await startTsProcess<unknown>(resolve(__dirname, '../bench/skeleton-server.ts'), [agency.dataDir], { ...options, nodeFlags: GATEHOUSE_NODE_FLAGS })
          processes.push(server)
          return server
        }))
        pids = skeletons.map((s) => s.child.pid)
        for (let i = 0; ; i++) {
          const probe = await restCall(url, headers, new Agent({ keepAlive: false })).catch((e: Error) => e)
          if (!(probe instanceof Error) && probe.status === 200) break
          if (i > 120) throw new Error(`no answer from the skeleton: ${probe instanceof Error ? probe.message : probe.body.slice(0, 300)}`)
          await new Promise((r) => setTimeout(r, 250))
        }
      }
      await runLoad({ url, headers, concurrency: Number(values['warmup-concurrency'] ?? concurrency), durationMs: Number(values.warmup), warmupMs: 500 })
      // What the servers spend with no traffic (timers, status sampling), subtracted below: on a loaded machine the
      // exchanges are few and that fixed cost would otherwise dominate the per-exchange figure.
      const idleStart = pids.map(cpuMs)
      const idleT0 = Date.now()
      await new Promise((r) => setTimeout(r, 3000))
      const idleRate = pids.map((p, i) => (cpuMs(p) - (idleStart[i] ?? 0)) / (Date.now() - idleT0))
      // --syscalls: socket writes and file syncs per exchange, counted by strace over the window (slows the servers: counts only).
      const tracers = values.syscalls ? pids.map((pid) => {
        const out = join(dir, `strace-${pid}.txt`)
        const tracer = spawn('strace', ['-f', '-qq', '-y', '-e', 'signal=none', '-e', 'trace=write,writev,pwrite64,sendmsg,sendto,fsync,fdatasync', '-s', '0', '-o', out, '-p', String(pid)], { stdio: 'ignore' })
        return { out, tracer, exited: new Promise((r) => tracer.once('exit', r)) }
      }) : []
      if (tracers.length > 0) await new Promise((r) => setTimeout(r, 1000))
      const recorders = values.perf ? pids.map((pid) => {
        const out = join(dir, `perf-${pid}.data`)
        const recorder = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(PERF_HZ), '-g', '-o', out, '-p', String(pid)], { stdio: 'ignore' })
        return { pid: pid!, out, recorder, exited: new Promise((r) => recorder.once('exit', r)) }
      }) : []
      if (recorders.length > 0) await new Promise((r) => setTimeout(r, 500))
      const before = pids.map(cpuMs)
      const threadsBefore = pids.map((p) => threadCpu(p, values.threads))
      const t0 = Date.now()
      const windowStartMs = t0
      window.fromUs = nowUs()
      if (allocDir !== undefined) for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGUSR2')
      const r = await runLoad({ url, headers, concurrency, durationMs, warmupMs: 0 })
      window.toUs = nowUs()
      if (allocDir !== undefined) {
        for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGUSR2')
        for (const [i, pid] of pids.entries()) {
          const file = join(allocDir, `alloc-${pid}.json`)
          for (let waited = 0; !existsSync(file) && waited < 20_000; waited += 100) await new Promise((resolveWait) => setTimeout(resolveWait, 100))
          print(`${i === 0 ? 'consumer' : 'provider'} allocations (${file}):\n${allocationSummary(file, r.requests, Number(values.top), values['alloc-kept'] ? 'kept' : values['alloc-promoted'] ? 'promoted' : 'all')}`)
        }
      }
      for (const t of tracers) t.tracer.kill('SIGINT')
      for (const p of recorders) p.recorder.kill('SIGINT')
      const moduleAt = gatehouseModuleResolver()
      for (const [i, p] of recorders.entries()) {
        await p.exited
        const script = spawnSync('perf', ['script', '-i', p.out, '-F', 'tid,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 })
        const profile = activityProfile(script.stdout, p.pid, moduleAt)
        print(`${i === 0 ? 'consumer' : 'provider'} on-CPU time by thread and activity (perf, cpu-clock ${PERF_HZ} Hz, ${profile.samples} samples):\n${activityTable(profile, r.requests, PERF_HZ).join('\n')}`)
        rmSync(`/tmp/perf-${p.pid}.map`, { force: true })
      }
      for (const [i, t] of tracers.entries()) {
        await t.exited
        // Each line: `N writev(23<socket:[…]>, …` — by call and by what the descriptor is (a socket, a pipe or eventfd, a file).
        const counts = new Map<string, number>()
        for (const line of readFileSync(t.out, 'utf8').split('\n')) {
          const m = /(\w+)\(\d+<([^:>]+)/.exec(line)
          if (m === null) continue
          // Syncs by file (the four FULL commits of an exchange are the unavoidable part of its latency, issue 15 §6);
          // positioned writes by file too (`pwrite64 messagelog.ack` is a synchronised write: O_DSYNC, ack-file.ts).
          const kind = m[2]!.startsWith('socket') ? 'socket' : m[2]!.startsWith('pipe') || m[2]!.startsWith('anon') ? 'pipe/event' : m[1]!.includes('sync') || m[1] === 'pwrite64' ? basename(m[2]!) : 'file'
          const key = `${m[1]} ${kind}`
          counts.set(key, (counts.get(key) ?? 0) + 1)
        }
        print(`${i === 0 ? 'consumer' : 'provider'} writes and syncs per exchange: ${[...counts].map(([k, n]) => `${k} ${(n / r.requests).toFixed(2)}`).join(', ')}`)
      }
      const elapsed = Date.now() - t0
      const used = pids.map((p, i) => cpuMs(p) - (before[i] ?? 0))
      pids.forEach((p, i) => print(`${i === 0 ? 'consumer' : 'provider'} CPU by thread, ms per exchange: ${threadSummary(threadsBefore[i]!, threadCpu(p, values.threads), r.requests)}`))
      const net = used.map((u, i) => Math.max(0, u - (idleRate[i] ?? 0) * elapsed))
      print(`${values.skeleton ? 'skeleton' : 'gatehouse'} c${concurrency}: ${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, ${r.errors} errors, CPU ${((used[0]! + used[1]!) / r.requests).toFixed(3)} ms/exchange `
        + `(consumer ${(used[0]! / r.requests).toFixed(3)}, provider ${(used[1]! / r.requests).toFixed(3)}); `
        + `net of idle ${(idleRate[0]! * 1000).toFixed(0)}+${(idleRate[1]! * 1000).toFixed(0)} ms/s: ${((net[0]! + net[1]!) / r.requests).toFixed(3)} ms/exchange`)
      if (values.phases) {
        // Once the servers stopped, their operational monitoring records are all written.
        await Promise.all(processes.splice(processes.length - (values.skeleton ? 2 : 0)).map((p) => p.stop().catch(() => null)))
        await pair.stopServers()
        for (const side of ['consumer', 'provider'] as const) print(phaseSummary(side, built[side].dataDir, windowStartMs))
      }
    } finally {
      // The skeleton's servers first (they are in `processes`), so that their profiles are written before the summary.
      await Promise.all(processes.splice(processes.length - (values.skeleton ? 2 : 0)).map((p) => p.stop().catch(() => null)))
      await pair.stop()
    }
    if (profDir !== undefined) {
      // The main threads' profiles (the message-log writer thread writes its own, `.2.` in the name).
      for (const f of readdirSync(profDir).filter((n) => n.endsWith('.0.001.cpuprofile'))) print(`\n${f}\n${summarise(join(profDir, f), Number(values.top), window)}`)
    }
  } finally {
    await Promise.all(processes.map((p) => p.stop().catch(() => null)))
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`profile: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
