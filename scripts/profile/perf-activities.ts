import { readFileSync } from 'node:fs'

/**
 * On-CPU time of a server by activity, from `perf script` output of `perf record -e cpu-clock -g` over the server
 * (started with `--perf-basic-prof-only-functions`, so its JIT frames are named). Unlike V8's CPU profiler, which
 * samples by wall clock and charges the time a preempted thread waits to whatever it was running (on two shared cores,
 * a socket write that wakes the peer looked like 10 % of a server), cpu-clock samples only time on a CPU, kernel
 * time included, on every thread. Each sample is charged to its thread (main, the message-log writer, the rest: V8's
 * compile and GC threads and libuv's pool) and, on the main thread, to the activity of the innermost Gatehouse frame
 * on its stack (the module it is in); samples with no Gatehouse frame to garbage collection, Node's HTTP/TLS or the
 * runtime.
 */
export interface ActivityProfile {
  samples: number
  /** Samples by thread kind. */
  threads: Map<string, number>
  /** Main-thread samples by activity. */
  activities: Map<string, number>
}

const MODULE_MARKER = /^\/\/ (src-(?:main|shared)\/\S+)/
const JS_FRAME = /JS:[*^~+]?(\S*) (\S+?):(\d+):\d+/

/** Module starts of a bundle built by electron-vite (its `// src-main/…` markers), to name a bundle line's module. */
export function bundleModules(bundlePath: string): (line: number) => string {
  const starts: Array<[number, string]> = []
  readFileSync(bundlePath, 'utf8').split('\n').forEach((text, i) => {
    const m = MODULE_MARKER.exec(text)
    if (m) starts.push([i + 1, m[1]!])
  })
  return (line) => {
    let lo = 0
    let hi = starts.length - 1
    let found = '?'
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (starts[mid]![0] <= line) {
        found = starts[mid]![1]
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
}

/** The activity of a Gatehouse module (and function, where one module serves two). */
export function activityOf(module: string, fn: string): string {
  if (module.startsWith('src-main/signer/') || /^(signBatch|buildSignatureBytes|buildHashChainDocuments)$/.test(fn)) return 'signing'
  if (/signature\/(ocsp-verifier|cert-chain-verifier|verification-cache|signature-verifier)/.test(module)) return 'verification'
  if (module.startsWith('src-main/signature/')) return 'signature documents and hash chains'
  if (module.startsWith('src-main/message-log/')) return 'message log (main thread)'
  if (/^src-main\/(server-conf|global-conf|access-control)\//.test(module)) return 'configuration lookups'
  if (module.startsWith('src-main/op-monitoring/') || module === 'src-main/server/metrics.ts') return 'monitoring and metrics'
  if (/^src-main\/proxy\/(http|body)\//.test(module)) return 'HTTP/TLS and bodies'
  if (/^src-main\/proxy\/(transport|rest|soap)\//.test(module)) return 'transport, REST and SOAP parts'
  return 'pipeline glue'
}

const GC_SYMBOL = /Scaveng|Heap::|MarkCompact|Sweep|Marking|Evacuat|GCTracer|ArrayBufferSweeper|MinorGC/
const NODE_NET_FRAME = /node:(_http|https|http|net|_tls|tls)|stream_base_commons|internal\/streams/

/**
 * A main-thread sample without a Gatehouse frame. OpenSSL's assembly keeps no frame pointer, so a sample in a digest,
 * a cipher or an elliptic-curve routine often has no caller on record: named by what it is (TLS records and
 * Gatehouse's own digests and signatures alike).
 */
function nativeActivity(frames: string[]): string {
  const leaf = frames[0] ?? ''
  if (GC_SYMBOL.test(leaf)) return 'garbage collection'
  if (frames.some((f) => NODE_NET_FRAME.test(f))) return 'HTTP/TLS (Node only)'
  if (/sha\d+_block|aesni|gcm_|_cbc_|md5_block/.test(leaf)) return 'OpenSSL digests and ciphers (caller not on record)'
  if (/nistz256|bn_|BN_|ecdsa|ECDSA/.test(leaf)) return 'OpenSSL elliptic curves (caller not on record)'
  if (/malloc|free|_int_|unlink_chunk|consolidate/.test(leaf)) return 'malloc and free (caller not on record)'
  return 'Node and V8 runtime'
}

/** Parses `perf script -F tid,ip,sym,dso` output of one process. */
export function activityProfile(scriptOutput: string, pid: number, moduleAt: (path: string, line: number) => string | undefined): ActivityProfile {
  const threads = new Map<string, number>()
  const activities = new Map<string, number>()
  const add = (map: Map<string, number>, key: string): void => void map.set(key, (map.get(key) ?? 0) + 1)
  let samples = 0
  for (const block of scriptOutput.split('\n\n')) {
    const lines = block.trim().split('\n')
    const tid = Number(lines[0]?.trim().split(/\s+/)[0])
    if (!Number.isInteger(tid) || lines[0]!.trim() === '') continue
    samples++
    const frames = lines.slice(1).map((l) => l.trim())
    if (tid !== pid) {
      add(threads, frames.some((f) => f.includes('better_sqlite3') || f.includes('[worker eval]')) ? 'message-log writer' : 'V8 and libuv threads')
      continue
    }
    add(threads, 'main')
    let activity: string | undefined
    for (const frame of frames) {
      const m = JS_FRAME.exec(frame)
      const module = m === null ? undefined : moduleAt(m[2]!, Number(m[3]))
      if (module !== undefined) {
        activity = activityOf(module, m![1]!)
        break
      }
    }
    activity ??= nativeActivity(frames)
    add(activities, activity)
  }
  return { samples, threads, activities }
}

/**
 * A frame's Gatehouse module: from the bundle's markers for the build's chunks, from the path for sources run by tsx;
 * undefined for anything else (Node's own code, node_modules).
 */
export function gatehouseModuleResolver(): (path: string, line: number) => string | undefined {
  const bundles = new Map<string, (line: number) => string>()
  return (path, line) => {
    const source = /(src-(?:main|shared)\/.+\.tsx?)$/.exec(path)
    if (source) return source[1]
    if (!/\/out\/(main|bench)\/.+\.js$/.test(path)) return undefined
    let modules = bundles.get(path)
    if (modules === undefined) bundles.set(path, (modules = bundleModules(path.replace(/^file:\/\//, ''))))
    const module = modules(line)
    return module === '?' ? undefined : module
  }
}

/** Rows `activity  ms per exchange  share` for a profile sampled at `hz` (cpu-clock: one sample a 1/hz s of CPU). */
export function activityTable(profile: ActivityProfile, exchanges: number, hz: number): string[] {
  const ms = (n: number): string => ((n * 1000) / hz / exchanges).toFixed(3).padStart(7)
  const pct = (n: number): string => `${((100 * n) / profile.samples).toFixed(1).padStart(5)} %`
  const sorted = (map: Map<string, number>): Array<[string, number]> => [...map].sort((a, b) => b[1] - a[1])
  return [
    `  all threads ${ms(profile.samples)} ms per exchange`,
    ...sorted(profile.threads).map(([k, n]) => `  ${k.padEnd(36)} ${ms(n)} ms  ${pct(n)}`),
    '  main thread by activity:',
    ...sorted(profile.activities).map(([k, n]) => `    ${k.padEnd(34)} ${ms(n)} ms  ${pct(n)}`),
  ]
}
