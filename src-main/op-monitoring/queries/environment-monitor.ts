import type { Clock } from '../../platform'
import {
  cpuLoadBetween, cpuTimes, diskSpace, fileDescriptors, memory, operatingSystem, packages, processes,
  type CpuTimes, type PackageInfo, type ProcessInfo,
} from './system-sensors'

/**
 * Environmental monitoring (PR-ENVMONMES; X-Road's env-monitor `MetricsRpcService` and its sensors): a sampler that
 * measures the system every few seconds into histograms (CPU load, free memory and swap, open file descriptors,
 * virtual memory), listings of processes and packages refreshed every minute, and the `systemMetrics` set a
 * `getSecurityServerMetrics` request asks for, filtered by its `outputField` names.
 *
 * Histograms keep the last {@link RESERVOIR_SIZE} samples with equal weight (X-Road's Dropwizard histograms use an
 * exponentially decaying reservoir of the same size, which favours recent samples).
 */
export type Metric =
  | { kind: 'numeric'; name: string; value: number }
  | { kind: 'string'; name: string; value: string }
  | { kind: 'histogram'; name: string; updated: Date; min: number; max: number; mean: number; median: number; stdDev: number }
  | { kind: 'set'; name: string; metrics: Metric[] }

/** Metric names (X-Road's `SystemMetricNames`). */
export const METRIC = {
  openFileDescriptorCount: 'OpenFileDescriptorCount',
  maxFileDescriptorCount: 'MaxFileDescriptorCount',
  committedVirtualMemory: 'CommittedVirtualMemory',
  totalSwapSpace: 'TotalSwapSpace',
  freeSwapSpace: 'FreeSwapSpace',
  freePhysicalMemory: 'FreePhysicalMemory',
  totalPhysicalMemory: 'TotalPhysicalMemory',
  systemCpuLoad: 'SystemCpuLoad',
  diskSpaceTotal: 'DiskSpaceTotal',
  diskSpaceFree: 'DiskSpaceFree',
  processes: 'Processes',
  xroadProcesses: 'Xroad Processes',
  packages: 'Packages',
  operatingSystem: 'OperatingSystem',
  certificates: 'Certificates',
} as const

export const RESERVOIR_SIZE = 1028

/** `env-monitor.system-metrics-sensor-interval` (5 s) and `env-monitor.exec-listing-sensor-interval` (60 s). */
export const DEFAULT_ENVIRONMENT_MONITOR_SETTINGS = { sampleIntervalMs: 5_000, listingIntervalMs: 60_000 }

/** A certificate of this server as the `Certificates` set lists it (X-Road's `CertificateInfoSensor`). */
export interface MonitoredCertificate {
  /** What X-Road 7.8 puts under this name: the certificate's SHA-256 as upper-case hex pairs joined by ':'. */
  sha1Hash: string
  notBefore: Date
  notAfter: Date
  certificateType: 'AUTH_OR_SIGN' | 'SECURITY_SERVER_TLS' | 'INTERNAL_IS_CLIENT_TLS'
  active: boolean
}

export interface MetricsContext {
  /** The requester is this server's owner (`isOwner`). */
  owner: boolean
  /** `env-monitor.limit-remote-data-set`: others than the owner see only the OS and the certificates. */
  limitRemoteDataSet: boolean
  certificates: readonly MonitoredCertificate[]
  /** Where the server keeps its data: the disk metrics are of that file system's root. */
  dataDir: string
}

export interface EnvironmentMonitor {
  /** Takes one sample now (the sampler also does so on its own once started). */
  sample(): void
  start(): void
  stop(): void
  /** The `systemMetrics` set for `outputFields` (empty: all). */
  systemMetrics(outputFields: readonly string[], context: MetricsContext): Promise<Metric>
}

class Reservoir {
  private readonly values: number[] = []
  private next = 0
  updated: Date | undefined

  add(value: number, at: Date): void {
    if (this.values.length < RESERVOIR_SIZE) this.values.push(value)
    else this.values[this.next] = value
    this.next = (this.next + 1) % RESERVOIR_SIZE
    this.updated = at
  }

  /** Dropwizard snapshot: min, max, mean, median (the 50th percentile, interpolated), sample standard deviation. */
  histogram(name: string, updated: Date): Metric | undefined {
    const n = this.values.length
    if (n === 0) return undefined
    const sorted = [...this.values].sort((a, b) => a - b)
    const mean = sorted.reduce((s, v) => s + v, 0) / n
    const variance = n <= 1 ? 0 : sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)
    const pos = 0.5 * (n + 1)
    const median = pos < 1 ? sorted[0]! : pos >= n ? sorted[n - 1]! : sorted[Math.floor(pos) - 1]! + (pos - Math.floor(pos)) * (sorted[Math.floor(pos)]! - sorted[Math.floor(pos) - 1]!)
    return { kind: 'histogram', name, updated, min: sorted[0]!, max: sorted[n - 1]!, mean, median, stdDev: Math.sqrt(variance) }
  }
}

function processSet(name: string, list: readonly ProcessInfo[]): Metric {
  return {
    kind: 'set',
    name,
    metrics: list.map((p) => ({
      kind: 'set' as const,
      name: p.processId,
      metrics: [
        stringOrNumber('processId', p.processId), stringOrNumber('command', p.command), stringOrNumber('cpuLoad', p.cpuLoad),
        stringOrNumber('memUsed', p.memUsed), stringOrNumber('startTime', p.startTime), stringOrNumber('userId', p.userId),
      ],
    })),
  }
}

/** X-Road turns every single value that parses as a number into a numeric metric (`MetricTypes.toMetricType`). */
function stringOrNumber(name: string, value: string): Metric {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? { kind: 'numeric', name, value: Number(value) } : { kind: 'string', name, value }
}

function certificateSet(certificates: readonly MonitoredCertificate[]): Metric {
  return {
    kind: 'set',
    name: METRIC.certificates,
    metrics: certificates.map((c) => ({
      kind: 'set' as const,
      name: `certificate-${c.sha1Hash}`,
      metrics: [
        { kind: 'string' as const, name: 'sha1Hash', value: c.sha1Hash },
        { kind: 'string' as const, name: 'notBefore', value: c.notBefore.toISOString().replace('.000Z', 'Z') },
        { kind: 'string' as const, name: 'notAfter', value: c.notAfter.toISOString().replace('.000Z', 'Z') },
        { kind: 'string' as const, name: 'certificateType', value: c.certificateType },
        { kind: 'string' as const, name: 'active', value: String(c.active) },
      ],
    })),
  }
}

interface Listing {
  at: number
  processes?: ProcessInfo[]
  packages?: PackageInfo[]
}

export function createEnvironmentMonitor(deps: { clock: Clock; settings?: Partial<typeof DEFAULT_ENVIRONMENT_MONITOR_SETTINGS> }): EnvironmentMonitor {
  const settings = { ...DEFAULT_ENVIRONMENT_MONITOR_SETTINGS, ...deps.settings }
  const reservoirs = new Map<string, Reservoir>()
  let lastCpu: CpuTimes = cpuTimes()
  let timer: NodeJS.Timeout | undefined
  let listing: Listing | undefined
  let listingInFlight: Promise<Listing> | undefined

  const add = (name: string, value: number | undefined, at: Date): void => {
    if (value === undefined) return
    let reservoir = reservoirs.get(name)
    if (reservoir === undefined) reservoirs.set(name, (reservoir = new Reservoir()))
    reservoir.add(value, at)
  }

  const sample = (): void => {
    const at = deps.clock.now()
    const cpu = cpuTimes()
    const load = cpuLoadBetween(lastCpu, cpu)
    lastCpu = cpu
    // SystemMetricsSensor: the load is recorded as a whole percentage.
    add(METRIC.systemCpuLoad, load === undefined ? undefined : Math.trunc(load * 100), at)
    const mem = memory()
    add(METRIC.freePhysicalMemory, mem.freePhysicalMemory, at)
    add(METRIC.freeSwapSpace, mem.freeSwapSpace, at)
    add(METRIC.committedVirtualMemory, mem.committedVirtualMemory, at)
    add(METRIC.openFileDescriptorCount, fileDescriptors().open, at)
  }

  const listings = async (): Promise<Listing> => {
    const now = deps.clock.now().getTime()
    if (listing !== undefined && now - listing.at < settings.listingIntervalMs) return listing
    listingInFlight ??= (async () => {
      const [p, k] = await Promise.all([processes(), packages()])
      listing = { at: deps.clock.now().getTime(), ...(p === undefined ? {} : { processes: p }), ...(k === undefined ? {} : { packages: k }) }
      return listing
    })().finally(() => {
      listingInFlight = undefined
    })
    return listingInFlight
  }

  return {
    sample,
    start() {
      if (timer !== undefined) return
      sample()
      timer = setInterval(sample, settings.sampleIntervalMs)
      timer.unref()
    },
    stop() {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    },
    async systemMetrics(outputFields, context) {
      const wanted = (name: string): boolean => outputFields.length === 0 || outputFields.includes(name)
      const everything = context.owner || !context.limitRemoteDataSet
      const metrics: Metric[] = []
      // MetricsRpcService.collectMetrics: certificates first, then the plain gauges.
      if (wanted(METRIC.certificates)) metrics.push(certificateSet(context.certificates))
      const plain: Metric[] = [{ kind: 'string', name: METRIC.operatingSystem, value: operatingSystem() }]
      if (everything) {
        const mem = memory()
        const fds = fileDescriptors()
        const disk = diskSpace(context.dataDir)
        if (fds.max !== undefined) plain.push({ kind: 'numeric', name: METRIC.maxFileDescriptorCount, value: fds.max })
        if (mem.totalSwapSpace !== undefined) plain.push({ kind: 'numeric', name: METRIC.totalSwapSpace, value: mem.totalSwapSpace })
        plain.push({ kind: 'numeric', name: METRIC.totalPhysicalMemory, value: mem.totalPhysicalMemory })
        if (disk !== undefined) {
          plain.push({ kind: 'numeric', name: `${METRIC.diskSpaceTotal}_${disk.root}`, value: disk.total })
          plain.push({ kind: 'numeric', name: `${METRIC.diskSpaceFree}_${disk.root}`, value: disk.free })
        }
      }
      metrics.push(...plain.filter((m) => wanted(m.name)))
      if (everything) {
        // collectOwnerMetrics: histograms, processes, packages.
        for (const [name, reservoir] of reservoirs) {
          const histogram = wanted(name) && reservoir.updated !== undefined ? reservoir.histogram(name, deps.clock.now()) : undefined
          if (histogram !== undefined) metrics.push(histogram)
        }
        const needsListing = wanted(METRIC.processes) || wanted(METRIC.xroadProcesses) || wanted(METRIC.packages)
        const listed: Listing = needsListing ? await listings() : { at: 0 }
        if (listed.processes !== undefined) {
          if (wanted(METRIC.processes)) metrics.push(processSet(METRIC.processes, listed.processes))
          // X-Road lists its own Java processes (`XroadProcessLister`); Gatehouse's own is this process.
          const own = listed.processes.filter((p) => p.processId === String(process.pid))
          if (wanted(METRIC.xroadProcesses)) metrics.push(processSet(METRIC.xroadProcesses, own))
        }
        if (listed.packages !== undefined && wanted(METRIC.packages)) {
          metrics.push({ kind: 'set', name: METRIC.packages, metrics: listed.packages.map((p) => stringOrNumber(p.name, p.version)) })
        }
      }
      return { kind: 'set', name: 'systemMetrics', metrics }
    },
  }
}
